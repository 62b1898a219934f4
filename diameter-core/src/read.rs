//! Readers of a one-pass receive path: what a validation walk does with
//! each AVP it accepted, Grouped AVPs (RFC 6733 §4.4) included.
//!
//! [`Message::validate_command_reading`] checks a message and hands every
//! top-level AVP that passed its checks to a [`ReadAvps`]. A closure
//! `FnMut(&Avp) -> Result<(), Error>` is one. A reader that also wants the
//! content of some Grouped AVPs answers [`ReadAvps::group`] with the reader
//! of that content: the walk that validates the group's AVPs against its
//! grammar hands them to that reader as it goes, so the content is walked
//! once, not validated and then walked again by a group decoder.
//!
//! [`read_set`] is the same read without the checks, for a message
//! validated already.
//!
//! [`Message::validate_command_reading`]: crate::Message::validate_command_reading

use crate::avp::Avp;
use crate::error::{Error, ErrorKind};
use crate::message::{AvpSet, ParseConfig};

/// What a one-pass read does with the AVPs of a set (see the [module
/// docs](self)).
///
/// ```
/// use diameter_core::read::{read_set, ReadAvps};
/// use diameter_core::{Avp, AvpSet, Error, HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
/// use diameter_core::dict::base;
///
/// /// Counts the AVPs of the first Proxy-Info it is given, and the top-level ones.
/// #[derive(Default)]
/// struct Counts { top: u32, inner: Inner }
/// #[derive(Default)]
/// struct Inner { n: u32, open: bool }
/// impl<'a> ReadAvps<'a> for Inner {
///     fn avp(&mut self, _: &Avp<'a>) -> Result<(), Error> { self.n += 1; Ok(()) }
/// }
/// impl<'a> ReadAvps<'a> for Counts {
///     fn avp(&mut self, _: &Avp<'a>) -> Result<(), Error> { self.top += 1; Ok(()) }
///     fn group(&mut self, avp: &Avp<'a>) -> Option<&mut dyn ReadAvps<'a>> {
///         (avp.is(284, 0) && !self.inner.open).then(|| {
///             self.inner.open = true;
///             &mut self.inner as &mut dyn ReadAvps<'a>
///         })
///     }
/// }
///
/// let mut buf = [0u8; 128];
/// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
///     CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 1));
/// b.put(&base::ORIGIN_HOST, "a.example");
/// b.grouped(&base::PROXY_INFO, |g| {
///     g.put(&base::PROXY_HOST, "p.example").put(&base::PROXY_STATE, &b"x"[..]);
/// });
/// let msg = Message::parse(b.finish().unwrap()).unwrap();
/// let mut counts = Counts::default();
/// read_set(msg.avps(), &mut counts)?;
/// assert_eq!((counts.top, counts.inner.n), (2, 2));
/// # Ok::<(), Error>(())
/// ```
pub trait ReadAvps<'a> {
    /// Read one AVP of the set, in message order, once it passed every
    /// check of the walk (for a Grouped AVP: after its content was
    /// validated, and read by the reader [`ReadAvps::group`] gave).
    fn avp(&mut self, avp: &Avp<'a>) -> Result<(), Error>;

    /// The reader of the content of Grouped AVP `avp`, called before that
    /// content is walked; `None` (the default) has it validated without
    /// being read. A reader given here sees every AVP of the content, in
    /// order, before [`ReadAvps::avp`] sees the group itself.
    #[inline(always)]
    fn group(&mut self, avp: &Avp<'a>) -> Option<&mut dyn ReadAvps<'a>> {
        let _ = avp;
        None
    }
}

impl<'a, F> ReadAvps<'a> for F
where
    F: FnMut(&Avp<'a>) -> Result<(), Error>,
{
    #[inline(always)]
    fn avp(&mut self, avp: &Avp<'a>) -> Result<(), Error> {
        self(avp)
    }
}

/// Read every AVP of `set` with `read`, in message order, and the content
/// of each Grouped AVP that [`ReadAvps::group`] gives a reader for, without
/// the checks of a validation: for a message validated already. A
/// malformed AVP header ends the read with its error (see
/// [`AvpIter::finish`](crate::AvpIter::finish)).
///
/// ```
/// use diameter_core::read::read_set;
/// use diameter_core::{Avp, Error, Message};
/// # let bytes = diameter_core::doc_example();
/// let msg = Message::parse(&bytes)?;
/// let mut n = 0;
/// read_set(msg.avps(), &mut |_: &Avp<'_>| { n += 1; Ok(()) })?;
/// assert_eq!(n, msg.iter().count());
/// # Ok::<(), Error>(())
/// ```
///
/// Groups are descended at most [`ParseConfig::DEFAULT`]'s `max_depth`
/// deep (deeper: 5017 on the group, as a validation would answer).
pub fn read_set<'a, R>(set: AvpSet<'a>, read: &mut R) -> Result<(), Error>
where
    R: ReadAvps<'a> + ?Sized,
{
    read_nested(set, read, 0)
}

fn read_nested<'a, R>(set: AvpSet<'a>, read: &mut R, depth: u16) -> Result<(), Error>
where
    R: ReadAvps<'a> + ?Sized,
{
    let mut iter = set.iter();
    while let Some(avp) = iter.next_avp() {
        if let Some(inner) = read.group(&avp) {
            if depth >= ParseConfig::DEFAULT.max_depth {
                return Err(avp.error(ErrorKind::NestingTooDeep));
            }
            read_nested(avp.group_set(), inner, depth + 1)?;
        }
        read.avp(&avp)?;
    }
    iter.finish()
}
