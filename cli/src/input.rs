//! Reading messages: files or stdin, as hex text, raw bytes or a capture,
//! and splitting a byte stream into Diameter messages.
//!
//! ```
//! use diameter_cli::input::{unhex, split_messages, Piece};
//! let bytes = unhex("01000014 80000118 00000000 00000001 00000002 # a DWR, no AVPs").unwrap();
//! let pieces = split_messages(&bytes);
//! assert!(matches!(pieces[0], Piece::Message { offset: 0, .. }));
//! ```

use std::fmt;
use std::io::Read;
use std::path::Path;

use diameter_core::framing::Frame;
use diameter_core::header::MAX_MESSAGE_LEN;
use diameter_core::{Error, Framer};

/// How the input is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Hex text: whitespace, `:` and `#` comments allowed (the format of
    /// `../shared/bench-msgs/*.hex` and of the probe's dumps).
    Hex,
    /// Raw bytes: one or more messages back to back.
    Raw,
    /// A pcap or pcapng capture (tshark, tcpdump).
    Pcap,
}

/// Something wrong with the input itself (not with a message in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// Read a file, or stdin for `-`; the error names the file.
///
/// ```
/// let e = diameter_cli::input::read_input("/no/such/file").unwrap_err();
/// assert!(e.to_string().starts_with("cannot read /no/such/file: "));
/// ```
pub fn read_input(path: &str) -> Result<Vec<u8>, InputError> {
    if path == "-" {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| InputError(format!("cannot read stdin: {e}")))?;
        return Ok(v);
    }
    std::fs::read(Path::new(path)).map_err(|e| InputError(format!("cannot read {path}: {e}")))
}

/// Guess the format: a pcap/pcapng magic number is a capture, text made
/// only of hex digits, whitespace, `:` and `#` comments is hex, anything
/// else raw.
///
/// ```
/// use diameter_cli::input::{detect, Format};
/// assert_eq!(detect(b"0100 0014 # DWR"), Format::Hex);
/// assert_eq!(detect(&[1, 0, 0, 20, 0x80]), Format::Raw);
/// assert_eq!(detect(&[0x0a, 0x0d, 0x0d, 0x0a]), Format::Pcap);
/// ```
pub fn detect(bytes: &[u8]) -> Format {
    const PCAP: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    if bytes.len() >= 4 && PCAP.iter().any(|m| bytes[..4] == *m) {
        return Format::Pcap;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) if unhex(s).is_ok_and(|b| !b.is_empty()) => Format::Hex,
        _ => Format::Raw,
    }
}

/// Hex text to bytes. Whitespace and `:` separate nothing (they are
/// skipped), `#` starts a comment to the end of the line, an optional
/// `0x` prefix per line is allowed. The error says where the text went
/// wrong.
///
/// ```
/// use diameter_cli::input::unhex;
/// assert_eq!(unhex("0a:0B\n# comment\n0x0c").unwrap(), vec![10, 11, 12]);
/// assert_eq!(unhex("abc").unwrap_err().to_string(), "hex text has an odd number of digits (3)");
/// assert!(unhex("zz").unwrap_err().to_string().contains("line 1"));
/// ```
pub fn unhex(text: &str) -> Result<Vec<u8>, InputError> {
    let mut digits = Vec::with_capacity(text.len());
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        let line = line
            .strip_prefix("0x")
            .or_else(|| line.strip_prefix("0X"))
            .unwrap_or(line);
        for (col, c) in line.char_indices() {
            match c {
                c if c.is_ascii_hexdigit() => digits.push(c as u8),
                c if c.is_whitespace() || c == ':' => {}
                c => {
                    return Err(InputError(format!(
                        "not hex: {c:?} on line {}, column {}",
                        n + 1,
                        col + 1
                    )))
                }
            }
        }
    }
    if digits.len() % 2 != 0 {
        return Err(InputError(format!(
            "hex text has an odd number of digits ({})",
            digits.len()
        )));
    }
    Ok(digits
        .chunks(2)
        .map(|p| {
            let v = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            v(p[0]) << 4 | v(p[1])
        })
        .collect())
}

/// Bytes as lowercase hex.
///
/// ```
/// assert_eq!(diameter_cli::input::hex(&[1, 0xab]), "01ab");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    diameter_core::value::Hex(bytes).to_string()
}

/// One piece of a byte stream: a framed message, or where framing broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A whole message (its header's length), at `offset` in the stream.
    Message {
        /// Offset of the message in the stream.
        offset: usize,
        /// The message bytes.
        bytes: &'a [u8],
    },
    /// The stream cannot be framed from `offset` on: a header error (bad
    /// version or length, with its Result-Code) or a truncated message.
    /// Nothing after it is decoded.
    Broken {
        /// Offset of the bad header in the stream.
        offset: usize,
        /// What is wrong.
        problem: Problem,
        /// The bytes from `offset` to the end.
        rest: &'a [u8],
    },
}

/// Why a stream stops framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The header is invalid: its Result-Code says how (5011, 5015...).
    Header(Error),
    /// The stream ends inside a message.
    Truncated {
        /// Bytes present.
        have: usize,
        /// Bytes the header announces (or at least 20 for a header).
        needed: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Header(e) => write!(f, "{}", crate::tree::describe_error(e)),
            Problem::Truncated { have, needed } => {
                write!(f, "truncated message: {have} of {needed} bytes")
            }
        }
    }
}

/// Split a byte stream into messages by their headers' length fields
/// (RFC 6733 §3); framing stops at the first broken header.
///
/// ```
/// use diameter_cli::input::{split_messages, Piece, Problem};
/// let mut two = vec![1, 0, 0, 20, 0x80, 0, 1, 0x18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
/// two.extend_from_slice(&[2, 0, 0, 20]);
/// let p = split_messages(&two);
/// assert_eq!(p.len(), 2);
/// assert!(matches!(p[1], Piece::Broken { offset: 20, problem: Problem::Header(_), .. }));
/// ```
pub fn split_messages(mut bytes: &[u8]) -> Vec<Piece<'_>> {
    let framer = Framer::new(MAX_MESSAGE_LEN);
    let mut out = Vec::new();
    let mut offset = 0;
    while !bytes.is_empty() {
        let problem = match framer.check(bytes) {
            Ok(Frame::Complete(n)) => {
                let (msg, rest) = bytes.split_at(n);
                out.push(Piece::Message { offset, bytes: msg });
                bytes = rest;
                offset += n;
                continue;
            }
            Ok(Frame::Partial { needed }) => Problem::Truncated {
                have: bytes.len(),
                needed,
            },
            Err(e) => Problem::Header(e),
        };
        out.push(Piece::Broken {
            offset,
            problem,
            rest: bytes,
        });
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_stream() {
        let dwr = [
            1u8, 0, 0, 24, 0x80, 0, 1, 0x18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2,
        ];
        let p = split_messages(&dwr);
        assert_eq!(
            p,
            vec![Piece::Broken {
                offset: 0,
                problem: Problem::Truncated {
                    have: 20,
                    needed: 24
                },
                rest: &dwr[..]
            }]
        );
        assert!(split_messages(&[]).is_empty());
    }

    #[test]
    fn hex_errors() {
        assert!(unhex("0g").is_err());
        assert_eq!(unhex("").unwrap(), Vec::<u8>::new());
        assert_eq!(detect(b""), Format::Raw);
        assert_eq!(detect(b"# only a comment\n"), Format::Raw);
    }
}
