//! Decode Diameter messages given as hex (one message per line, or a file of
//! concatenated messages) and print them as a tree.
//!
//! ```sh
//! cargo run -p diameter-core --example decode -- ../shared/bench-msgs/ccr-i.hex
//! echo 0100001480000118... | cargo run -p diameter-core --example decode -- -
//! ```
//!
//! AVPs the base dictionary (RFC 6733) does not know are shown with their
//! code, vendor and raw bytes; the `diameter` CLI adds the Credit-Control
//! dictionary.

use std::io::Read;

use diameter_core::dict::{base::Base, Dictionary};
use diameter_core::framing::Frame;
use diameter_core::types::DataType;
use diameter_core::{Avp, AvpSet, Framer, Message};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: decode FILE.hex... (or - for stdin)");
        std::process::exit(2);
    }
    let mut failed = false;
    for path in &args {
        let text = if path == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).expect("read stdin");
            s
        } else {
            std::fs::read_to_string(path).unwrap_or_else(|e| {
                eprintln!("{path}: {e}");
                std::process::exit(2)
            })
        };
        let bytes = match unhex(&text) {
            Some(b) => b,
            None => {
                eprintln!("{path}: not hex");
                std::process::exit(2)
            }
        };
        failed |= !decode_stream(path, &bytes, &Base);
    }
    std::process::exit(i32::from(failed));
}

fn decode_stream<D: Dictionary>(name: &str, mut bytes: &[u8], dict: &D) -> bool {
    let framer = Framer::new(diameter_core::header::MAX_MESSAGE_LEN);
    while !bytes.is_empty() {
        let n = match framer.check(bytes) {
            Ok(Frame::Complete(n)) => n,
            Ok(Frame::Partial { needed }) => {
                eprintln!(
                    "{name}: truncated message: {} of {needed} bytes",
                    bytes.len()
                );
                return false;
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                return false;
            }
        };
        let (msg, rest) = bytes.split_at(n);
        bytes = rest;
        match Message::parse_with(msg, dict) {
            Ok(m) => print_message(&m, dict),
            Err(e) => {
                eprintln!("{name}: {e}");
                return false;
            }
        }
    }
    true
}

fn print_message<D: Dictionary>(m: &Message<'_>, dict: &D) {
    let cmd = dict.command(m.command_code(), m.is_request());
    let f = m.flags();
    println!(
        "{} ({}{}) app {} flags {}{}{}{} hbh 0x{:08x} e2e 0x{:08x} len {}",
        cmd.map(|c| c.abbrev).unwrap_or("unknown command"),
        m.command_code().0,
        if m.is_request() {
            " request"
        } else {
            " answer"
        },
        m.application_id().0,
        if f.is_request() { "R" } else { "-" },
        if f.is_proxiable() { "P" } else { "-" },
        if f.is_error() { "E" } else { "-" },
        if f.is_retransmit() { "T" } else { "-" },
        m.hop_by_hop(),
        m.end_to_end(),
        m.as_bytes().len()
    );
    print_set(m.avps(), dict, 1);
    match m.validate(dict) {
        Ok(()) => {}
        Err(e) => println!("  !! does not validate: {e}"),
    }
}

fn print_set<D: Dictionary>(set: AvpSet<'_>, dict: &D, depth: usize) {
    for avp in set {
        match avp {
            Ok(a) => print_avp(&a, dict, depth),
            Err(e) => println!("{:width$}!! {e}", "", width = depth * 2),
        }
    }
}

fn print_avp<D: Dictionary>(a: &Avp<'_>, dict: &D, depth: usize) {
    let pad = depth * 2;
    let info = dict.avp(a.code(), a.vendor());
    let name = info.map(|i| i.name).unwrap_or("?");
    let vendor = if a.flags().is_vendor() {
        format!("/{}", a.vendor())
    } else {
        String::new()
    };
    let flags = format!(
        "{}{}{}",
        if a.flags().is_vendor() { "V" } else { "-" },
        if a.flags().is_mandatory() { "M" } else { "-" },
        if a.flags().is_protected() { "P" } else { "-" }
    );
    let Some(info) = info else {
        println!(
            "{:pad$}{name} {}{vendor} [{flags}] = 0x{}",
            "",
            a.code(),
            hex(a.data())
        );
        return;
    };
    if info.data_type == DataType::Grouped {
        println!("{:pad$}{name} {}{vendor} [{flags}]", "", a.code());
        print_set(a.group_set(), dict, depth + 1);
        return;
    }
    println!(
        "{:pad$}{name} {}{vendor} [{flags}] {} = {}",
        "",
        a.code(),
        info.data_type.name(),
        value(info.data_type, a.data())
    );
}

fn value(t: DataType, d: &[u8]) -> String {
    use diameter_core::types::*;
    let r = match t {
        DataType::Integer32 | DataType::Enumerated => Integer32::decode(d).map(|v| v.to_string()),
        DataType::Integer64 => Integer64::decode(d).map(|v| v.to_string()),
        DataType::Unsigned32 => Unsigned32::decode(d).map(|v| v.to_string()),
        DataType::Unsigned64 => Unsigned64::decode(d).map(|v| v.to_string()),
        DataType::Float32 => Float32::decode(d).map(|v| v.to_string()),
        DataType::Float64 => Float64::decode(d).map(|v| v.to_string()),
        DataType::Time => Time::decode(d).map(|t| format!("{} (unix {})", t.ntp(), t.unix())),
        DataType::Address => Address::decode(d).map(|a| match a {
            AddressValue::V4(b) => std::net::Ipv4Addr::from(b).to_string(),
            AddressValue::V6(b) => std::net::Ipv6Addr::from(b).to_string(),
            AddressValue::Other { family, bytes } => format!("family {family} 0x{}", hex(bytes)),
        }),
        DataType::Utf8String | DataType::DiameterIdentity | DataType::IpFilterRule => {
            Utf8String::decode(d).map(|s| format!("{s:?}"))
        }
        DataType::DiameterUri => DiameterUri::decode(d).map(|u| u.raw.to_string()),
        DataType::OctetString | DataType::Grouped => Ok(format!("0x{}", hex(d))),
    };
    r.unwrap_or_else(|k| format!("!! {k:?}: 0x{}", hex(d)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.bytes())
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}
