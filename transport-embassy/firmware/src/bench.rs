//! The messages of `../shared/bench-msgs/` on the board: each is framed,
//! parsed and validated against the credit-control dictionary (header,
//! every AVP header, grammar, flag rules and every value), every leaf
//! value is checked by its type, and the message is written again with
//! the encoder, AVP by AVP, into another buffer: the bytes must be
//! identical.

use cortex_m_semihosting::hprintln;
use diameter_cc::CreditControl;
use diameter_core::dict::Dictionary;
use diameter_core::types::DataType;
use diameter_core::{AvpIter, Message, MessageBuilder};

/// The four messages, as hex text.
const MESSAGES: [(&str, &str); 4] = [
    (
        "ccr-i",
        include_str!("../../../../shared/bench-msgs/ccr-i.hex"),
    ),
    (
        "cca-i",
        include_str!("../../../../shared/bench-msgs/cca-i.hex"),
    ),
    (
        "acr-start",
        include_str!("../../../../shared/bench-msgs/acr-start.hex"),
    ),
    (
        "ccr-u-large",
        include_str!("../../../../shared/bench-msgs/ccr-u-large.hex"),
    ),
];

/// Largest message (ccr-u-large is 3984 bytes).
const MAX: usize = 4096;

fn unhex(text: &str, out: &mut [u8]) -> Option<usize> {
    let digits = text.bytes().filter(u8::is_ascii_hexdigit);
    let mut n = 0;
    let mut high = None;
    for d in digits {
        let v = (d as char).to_digit(16)? as u8;
        match high.take() {
            None => high = Some(v),
            Some(h) => {
                *out.get_mut(n)? = h << 4 | v;
                n += 1;
            }
        }
    }
    Some(n)
}

/// Write the AVPs of `avps` again; count the leaves checked.
fn copy(avps: AvpIter<'_>, b: &mut MessageBuilder<'_>, leaves: &mut usize) -> bool {
    let mut ok = true;
    for avp in avps {
        let Ok(avp) = avp else { return false };
        let vendor = avp.flags().is_vendor().then_some(avp.vendor());
        match CreditControl
            .avp(avp.code(), avp.vendor())
            .map(|i| i.data_type)
        {
            Some(DataType::Grouped) => {
                b.grouped_raw(avp.code(), vendor, avp.flags(), |g| {
                    ok &= copy(avp.group(), g, leaves);
                });
            }
            Some(t) => {
                ok &= t.check(avp.data()).is_ok();
                *leaves += 1;
                b.put_raw(avp.code(), vendor, avp.flags(), avp.data());
            }
            None => return false,
        }
    }
    ok
}

/// Run every message; prints one line each. True if all round-trip.
pub fn run() -> bool {
    static mut IN: [u8; MAX] = [0; MAX];
    static mut OUT: [u8; MAX] = [0; MAX];
    // SAFETY: `run` is called once, from `main`, before anything else uses
    // these buffers; no interrupt touches them.
    #[allow(static_mut_refs)]
    let (input, output) = unsafe { (&mut IN, &mut OUT) };
    let mut all = true;
    for (name, hex) in MESSAGES {
        let Some(len) = unhex(hex, input) else {
            hprintln!("  {}: not hex or too long", name);
            all = false;
            continue;
        };
        let bytes = &input[..len];
        let msg = match Message::parse_with(bytes, &CreditControl)
            .and_then(|m| m.validate(&CreditControl).map(|()| m))
        {
            Ok(m) => m,
            Err(e) => {
                hprintln!("  {}: invalid: {}", name, e);
                all = false;
                continue;
            }
        };
        let mut leaves = 0;
        let mut b = MessageBuilder::new(output, msg.header());
        let walked = copy(msg.iter(), &mut b, &mut leaves);
        let same = match b.finish() {
            Ok(out) => out == bytes,
            Err(_) => false,
        };
        hprintln!(
            "  {:<12} {:>5} bytes, {:>3} leaf AVPs checked, re-encoded {}",
            name,
            len,
            leaves,
            if walked && same {
                "byte for byte"
            } else {
                "DIFFERENTLY"
            }
        );
        all &= walked && same;
    }
    all
}
