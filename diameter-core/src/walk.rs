//! Every AVP of a set, depth first, in one loop (RFC 6733 §4.4: a Grouped
//! AVP's data is a sequence of AVPs).
//!
//! [`AvpSet::walk`] is the fastest way to visit a whole message: instead of
//! one [`AvpIter`](crate::AvpIter) and one call per Grouped AVP, it keeps
//! the end of each enclosing set on a small stack and goes on with the
//! parent where a group ends. AVPs start at multiples of 4 from the start of
//! the message, and a Grouped AVP's padding is its last inner AVP's, so the
//! parent resumes at the child's end rounded up to 4.
//!
//! Each AVP comes with its dictionary entry (looked up once, here, to know
//! whether to descend) and its depth. The same header checks as `AvpIter`
//! apply at every level; the walk stops at the first malformed AVP, and at
//! a group nested deeper than its bound, with that AVP's error.
//!
//! No-panic promise: nothing here panics on any input bytes, and the stack
//! of ends is bounded ([`WALK_DEPTH`]).

use crate::avp::{malformed, padded, Avp};
use crate::dict::{AvpInfo, Dictionary};
use crate::error::{Error, ErrorKind};
use crate::message::AvpSet;
use crate::types::DataType;

/// How deep [`AvpSet::walk`] descends into Grouped AVPs at most (the
/// default of [`crate::ParseConfig::max_depth`] on bare metal; real
/// messages nest a handful of levels).
pub const WALK_DEPTH: u16 = 16;

/// One AVP of a walk ([`AvpSet::walk`]).
#[derive(Debug, Clone, Copy)]
pub struct Walked<'a> {
    /// The AVP (offsets from the start of the message).
    pub avp: Avp<'a>,
    /// Its dictionary entry, if the dictionary knows it.
    pub info: Option<&'static AvpInfo>,
    /// 0 for an AVP of the walked set, 1 inside one of its Grouped AVPs,
    /// and so on.
    pub depth: u16,
}

impl<'a> AvpSet<'a> {
    /// Call `f` on every AVP of this set depth first: each Grouped AVP that
    /// `dict` knows, then its content, then the AVP after it. Every AVP
    /// header is checked as [`AvpSet::iter`] does; the walk stops at the
    /// first malformed AVP with its error, at a group nested deeper than
    /// `max_depth` (at most [`WALK_DEPTH`]) with `NestingTooDeep` (as
    /// [`crate::ParseConfig::max_depth`]), or at the first error of `f`.
    ///
    /// ```
    /// use diameter_core::{dict::base, Message, walk::WALK_DEPTH};
    /// # let bytes = diameter_core::doc_example();
    /// let msg = Message::new_checked(&bytes)?;
    /// let mut codes = 0;
    /// msg.avps().walk(base::Base, WALK_DEPTH, |w| {
    ///     codes += w.avp.code();
    ///     assert_eq!(w.depth, 0); // a DWR has no Grouped AVP
    ///     Ok(())
    /// })?;
    /// assert_eq!(codes, 264 + 296 + 278);
    /// # Ok::<(), diameter_core::Error>(())
    /// ```
    #[inline(always)]
    pub fn walk<D: Dictionary>(
        &self,
        dict: D,
        max_depth: u16,
        mut f: impl FnMut(Walked<'a>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let (bytes, base) = (self.as_bytes(), self.base() as usize);
        let max_depth = max_depth.min(WALK_DEPTH);
        // The set being walked: what is left of it, and where that starts.
        let (mut rest, mut offset) = (bytes, base);
        // Where each enclosing set ends (message offsets), innermost last.
        let mut ends = heapless::Vec::<u32, { WALK_DEPTH as usize }>::new();
        loop {
            if rest.is_empty() {
                if ends.is_empty() {
                    return Ok(());
                }
                match up(&mut ends, bytes, base, offset) {
                    Some(next) => (rest, offset) = next,
                    None => return Ok(()),
                }
            }
            let Some((avp, step, after)) = Avp::parse_well_formed(rest, offset) else {
                return Err(malformed(rest, offset));
            };
            let info = dict.avp(avp.code(), avp.vendor());
            let depth = ends.len() as u16;
            let grouped = matches!(info, Some(i) if i.data_type == DataType::Grouped);
            f(Walked { avp, info, depth })?;
            match grouped {
                true => {
                    let end = (offset + rest.len()) as u32;
                    if depth >= max_depth || ends.push(end).is_err() {
                        return Err(avp.error(ErrorKind::NestingTooDeep));
                    }
                    rest = avp.data();
                    offset += avp.header_len();
                }
                false => {
                    rest = after;
                    offset += step;
                }
            }
        }
    }
}

/// Out of every set that ended, to the next AVP of a parent: after the
/// group's padding (AVPs start at multiples of 4 from the start of the
/// walked set, which starts at `base` in the message and holds `bytes`).
/// `None` when the walked set itself ended. Out of line: once per group.
#[inline(never)]
fn up<'a, const N: usize>(
    ends: &mut heapless::Vec<u32, N>,
    bytes: &'a [u8],
    base: usize,
    mut offset: usize,
) -> Option<(&'a [u8], usize)> {
    loop {
        let end = ends.pop()? as usize;
        let at = padded(offset.saturating_sub(base));
        // In bounds: the group's padded length fitted in its parent.
        let rest = bytes.get(at..end.saturating_sub(base)).unwrap_or_default();
        offset = base + at;
        if !rest.is_empty() {
            return Some((rest, offset));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::base;
    use crate::encode::MessageBuilder;
    use crate::header::{ApplicationId, CommandCode, HeaderRepr};
    use crate::Message;

    /// A builder for an ACR-shaped test message.
    fn acr(buf: &mut [u8]) -> MessageBuilder<'_> {
        let header = HeaderRepr::request(CommandCode::ACCOUNTING, ApplicationId::COMMON, 1, 2);
        MessageBuilder::new(buf, header)
    }

    fn walk_all(bytes: &[u8]) -> (std::vec::Vec<(u32, u16)>, Result<(), Error>) {
        let m = Message::new_checked(bytes).unwrap();
        let mut seen = std::vec::Vec::new();
        let end = m.avps().walk(base::Base, WALK_DEPTH, |w| {
            seen.push((w.avp.code(), w.depth));
            Ok(())
        });
        (seen, end)
    }

    /// The same AVPs, in the same order, as iterators and recursion.
    #[test]
    fn nested_groups_in_order() {
        let mut buf = [0u8; 512];
        let mut b = acr(&mut buf);
        b.put(&base::SESSION_ID, "s;1");
        b.grouped(&base::PROXY_INFO, |g| {
            g.put(&base::PROXY_HOST, "p.example");
            g.put(&base::PROXY_STATE, &b"abcde"[..]); // padded
        });
        b.grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
            g.put(&base::VENDOR_ID, 10415u32);
        });
        b.put(&base::ORIGIN_HOST, "h");
        let bytes = b.finish().unwrap().to_vec();
        let (seen, end) = walk_all(&bytes);
        end.unwrap();
        assert_eq!(
            seen,
            [
                (263, 0),
                (284, 0),
                (280, 1),
                (33, 1),
                (260, 0),
                (266, 1),
                (264, 0)
            ]
        );
        // A group ending with another group: both end at once.
        let mut buf = [0u8; 512];
        let mut b = acr(&mut buf);
        b.grouped(&base::FAILED_AVP, |g| {
            g.grouped(&base::PROXY_INFO, |p| {
                p.put(&base::PROXY_STATE, &b"x"[..]);
            });
        });
        b.put(&base::ORIGIN_HOST, "h");
        let bytes = b.finish().unwrap().to_vec();
        let (seen, end) = walk_all(&bytes);
        end.unwrap();
        assert_eq!(seen, [(279, 0), (284, 1), (33, 2), (264, 0)]);
    }

    /// A malformed inner AVP stops the walk with the error `AvpIter` gives.
    #[test]
    fn malformed_inner_avp() {
        let mut buf = [0u8; 256];
        let mut b = acr(&mut buf);
        b.grouped(&base::PROXY_INFO, |g| {
            g.put(&base::PROXY_HOST, "p.example");
        });
        let mut bytes = b.finish().unwrap().to_vec();
        // Proxy-Host's length (at 20 + 8 + 5) from 17 to 40: past its group.
        bytes[20 + 8 + 7] = 40;
        let (seen, end) = walk_all(&bytes);
        assert_eq!(seen, [(284, 0)]);
        let e = end.unwrap_err();
        let want = Message::new_checked(&bytes)
            .unwrap()
            .avps()
            .iter()
            .next()
            .unwrap()
            .unwrap()
            .group()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(e, want);
        assert_eq!(e.offset(), Some(28));
    }

    /// Groups deeper than the bound stop the walk at the group (no panic,
    /// no overflow of the stack of ends).
    #[test]
    fn depth_bound() {
        let mut buf = [0u8; 4096];
        let mut b = acr(&mut buf);
        fn nest(g: &mut MessageBuilder<'_>, n: usize) {
            if n == 0 {
                g.put(&base::ORIGIN_HOST, "h");
            } else {
                g.grouped(&base::FAILED_AVP, |g| nest(g, n - 1));
            }
        }
        nest(&mut b, 5);
        let bytes = b.finish().unwrap().to_vec();
        let m = Message::new_checked(&bytes).unwrap();
        let mut n = 0;
        let e = m
            .avps()
            .walk(base::Base, 3, |_| {
                n += 1;
                Ok(())
            })
            .unwrap_err();
        // The fourth Failed-AVP is visited, then found too deep.
        assert_eq!(n, 4);
        assert_eq!(e.kind(), ErrorKind::NestingTooDeep);
        assert_eq!(e.offset(), Some(20 + 3 * 8));
        let (seen, end) = walk_all(&bytes);
        end.unwrap();
        assert_eq!(seen.len(), 6);
    }
}
