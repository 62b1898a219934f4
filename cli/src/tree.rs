//! The readable tree of a message: one line per AVP, names from the
//! dictionary, values through [`diameter_core::value::Value`], errors with
//! their Result-Code and byte offset.
//!
//! ```
//! use diameter_cli::tree::{render, Options};
//! let dwr = diameter_core::doc_example();
//! let (text, ok) = render(&dwr, &diameter_cc::CreditControl, Options::default());
//! assert!(ok);
//! assert!(text.starts_with("DWR Device-Watchdog-Request"));
//! assert!(text.contains("  Origin-State-Id (278) [M] = 7\n"));
//! ```

use std::fmt::Write;

use diameter_core::avp::padded;
use diameter_core::dict::{names, Dictionary};
use diameter_core::types::DataType;
use diameter_core::value::{Hex, Value};
use diameter_core::{Avp, AvpSet, Error, Message};

/// What to show besides names and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Prefix each AVP with its byte offset in the message (`@20`).
    pub offsets: bool,
}

/// An error with its Result-Code's name and, where it concerns an AVP,
/// the AVP's code and byte offset.
///
/// ```
/// use diameter_core::{Error, ErrorKind, ErrorAvp};
/// let e = Error::at(ErrorKind::InvalidAvpLength, ErrorAvp { code: 263, vendor: 0, flags: 0x40, offset: Some(20), len: 9 });
/// assert_eq!(diameter_cli::tree::describe_error(&e),
///     "invalid AVP length (Result-Code 5014 DIAMETER_INVALID_AVP_LENGTH), AVP 263 at byte 20");
/// ```
pub fn describe_error(e: &Error) -> String {
    let rc = e.result_code();
    let text = e.to_string();
    match rc.rfc_name() {
        Some(name) => text.replacen(
            &format!("(Result-Code {})", rc.get()),
            &format!("(Result-Code {} {name})", rc.get()),
            1,
        ),
        None => text,
    }
}

/// `V`, `M`, `P` letters of AVP flags, and the reserved bits if any.
pub fn avp_flags(bits: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [(0x80, 'V'), (0x40, 'M'), (0x20, 'P')] {
        if bits & bit != 0 {
            s.push(c);
        }
    }
    if bits & 0x1f != 0 {
        let _ = write!(s, " reserved=0x{:02x}", bits & 0x1f);
    }
    s
}

/// `R`, `P`, `E`, `T` letters of command flags, and the reserved bits if any.
pub fn command_flags(bits: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [(0x80, 'R'), (0x40, 'P'), (0x20, 'E'), (0x10, 'T')] {
        if bits & bit != 0 {
            s.push(c);
        }
    }
    if bits & 0x0f != 0 {
        let _ = write!(s, " reserved=0x{:x}", bits & 0x0f);
    }
    s
}

/// The header line of a message (`CCR Credit-Control-Request (272), app
/// 4 Diameter Credit Control, flags RP, hbh ..., e2e ..., 392 bytes`).
pub fn header_line<D: Dictionary + ?Sized>(msg: &Message<'_>, dict: &D) -> String {
    let code = msg.command_code();
    let req = msg.is_request();
    let (abbrev, name) = match dict.command(code, req) {
        Some(def) => (def.abbrev.to_string(), def.name.to_string()),
        None => {
            let generic = names::command_name(code).unwrap_or("Unknown");
            let kind = if req { "Request" } else { "Answer" };
            ("???".to_string(), format!("{generic}-{kind}"))
        }
    };
    let app = msg.application_id();
    let app_name = names::application_name(app)
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    format!(
        "{abbrev} {name} ({}), app {}{app_name}, flags {}, hbh 0x{:08x}, e2e 0x{:08x}, {} bytes",
        code.0,
        app.0,
        command_flags(msg.flags().bits()),
        msg.hop_by_hop(),
        msg.end_to_end(),
        msg.as_bytes().len()
    )
}

struct Printer<'d, D: ?Sized> {
    dict: &'d D,
    opts: Options,
    out: String,
    ok: bool,
}

/// Render one message (`bytes` must be exactly one message, see
/// [`crate::input::split_messages`]) as a tree. Returns the text and
/// whether the message is well formed and valid: a header or AVP error
/// and a validation failure (grammar, values, flags, RFC 6733 §7) each
/// print a `!!` line with the Result-Code and byte offset, and make it
/// `false`.
pub fn render<D: Dictionary + ?Sized>(bytes: &[u8], dict: &D, opts: Options) -> (String, bool) {
    let msg = match Message::new_checked(bytes) {
        Ok(m) => m,
        Err(e) => return (format!("!! {}\n", describe_error(&e)), false),
    };
    let mut p = Printer {
        dict,
        opts,
        out: header_line(&msg, dict),
        ok: true,
    };
    p.out.push('\n');
    let structured = p.set(msg.avps(), bytes, 1);
    if structured {
        if let Err(e) = msg.validate(&dict) {
            p.ok = false;
            let _ = writeln!(p.out, "  !! does not validate: {}", describe_error(&e));
        }
    }
    (p.out, p.ok)
}

impl<D: Dictionary + ?Sized> Printer<'_, D> {
    /// Print a set; false if an AVP header in it (or below) is malformed.
    fn set(&mut self, set: AvpSet<'_>, msg: &[u8], depth: usize) -> bool {
        let mut ok = true;
        for avp in set.iter() {
            match avp {
                Ok(a) => ok &= self.avp(&a, msg, depth),
                Err(e) => {
                    self.ok = false;
                    ok = false;
                    let _ = writeln!(
                        self.out,
                        "{:w$}!! {}",
                        "",
                        describe_error(&e),
                        w = depth * 2
                    );
                }
            }
        }
        ok
    }

    fn avp(&mut self, a: &Avp<'_>, msg: &[u8], depth: usize) -> bool {
        let info = self.dict.avp(a.code(), a.vendor());
        let mut line = String::new();
        if self.opts.offsets {
            let _ = write!(line, "@{:<5} ", a.offset());
        }
        let _ = write!(line, "{:w$}", "", w = depth * 2);
        let vendor = if a.flags().is_vendor() {
            match names::vendor_name(a.vendor()) {
                Some(n) => format!(", vendor {} {n}", a.vendor()),
                None => format!(", vendor {}", a.vendor()),
            }
        } else {
            String::new()
        };
        match info {
            Some(i) => {
                let _ = write!(line, "{} ({}{vendor})", i.name, a.code());
            }
            None => {
                let _ = write!(line, "AVP {}{vendor} (unknown)", a.code());
            }
        }
        let _ = write!(line, " [{}]", avp_flags(a.flags().bits()));
        let pad_start = a.offset() + a.len();
        let pad = msg
            .get(pad_start..(a.offset() + padded(a.len())).min(msg.len()))
            .unwrap_or(&[]);
        let pad_note = if pad.iter().any(|&b| b != 0) {
            format!(" (non-zero padding 0x{})", Hex(pad))
        } else {
            String::new()
        };
        let data_type = info.map(|i| i.data_type).unwrap_or(DataType::OctetString);
        let value = Value::of_type(a, data_type);
        match value {
            Ok(Value::Grouped(set)) => {
                let _ = writeln!(self.out, "{line}{pad_note}");
                self.set(set, msg, depth + 1)
            }
            Ok(v) => {
                let named = info
                    .and_then(|i| names::value_name(i, &v))
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                let text = match v {
                    Value::OctetString(b) => octets(b),
                    v => v.to_string(),
                };
                let _ = writeln!(self.out, "{line} = {text}{named}{pad_note}");
                true
            }
            Err(e) => {
                self.ok = false;
                let _ = writeln!(
                    self.out,
                    "{line} = 0x{}{pad_note} !! {}",
                    Hex(a.data()),
                    describe_error(&e)
                );
                true
            }
        }
    }
}

/// OctetString text: hex, with the text beside it when it is printable.
fn octets(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.is_empty() && s.chars().all(|c| !c.is_control()) => {
            format!("0x{} ({s:?})", Hex(b))
        }
        _ => format!("0x{}", Hex(b)),
    }
}
