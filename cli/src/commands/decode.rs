//! `diameter decode`: any Diameter message as a readable tree or as JSON.

use std::io::Write;

use clap::Args;
use diameter_cc::CreditControl;

use super::{Failure, Status};
use crate::input::{detect, read_input, split_messages, unhex, Format, Piece};
use crate::json::{broken_json, message_to_json};
use crate::pcap::{read_capture, Item};
use crate::tree::{render, Options};

/// Arguments of `diameter decode`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  diameter decode ../shared/bench-msgs/ccr-i.hex
  echo 0100001480000118000000000000000100000002 | diameter decode
  diameter decode --pcap capture.pcapng --port 13868
  diameter decode --json --pretty ../shared/bench-msgs/cca-i.hex

Exit status: 0 all messages valid, 1 a message is malformed or invalid
(the output says where, with its Result-Code and byte offset), 2 the input
could not be read.")]
pub struct DecodeArgs {
    /// The input file; `-` (the default) reads stdin.
    #[arg(default_value = "-")]
    pub file: String,
    /// The input is hex text (the default guess for text input).
    #[arg(long, conflicts_with_all = ["raw", "pcap"])]
    pub hex: bool,
    /// The input is raw bytes, messages back to back.
    #[arg(long, conflicts_with = "pcap")]
    pub raw: bool,
    /// The input is a pcap or pcapng capture: TCP streams are reassembled
    /// and every message in them is printed.
    #[arg(long)]
    pub pcap: bool,
    /// With --pcap: read only TCP segments from or to this port.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Print JSON, one object per message and line (`diameter encode`
    /// turns it back into the same bytes).
    #[arg(long)]
    pub json: bool,
    /// With --json: indent the JSON.
    #[arg(long, requires = "json")]
    pub pretty: bool,
    /// Show each AVP's byte offset in the message.
    #[arg(long)]
    pub offsets: bool,
}

struct Out<'a> {
    out: &'a mut dyn Write,
    args: &'a DecodeArgs,
    invalid: bool,
    count: usize,
}

impl Out<'_> {
    fn json(&mut self, v: &serde_json::Value) -> Result<(), Failure> {
        let text = if self.args.pretty {
            serde_json::to_string_pretty(v)
        } else {
            serde_json::to_string(v)
        }
        .map_err(|e| Failure(e.to_string()))?;
        writeln!(self.out, "{text}")?;
        Ok(())
    }

    /// One message; `label` is printed above it in text mode.
    fn message(
        &mut self,
        bytes: &[u8],
        label: Option<String>,
        capture: Option<serde_json::Value>,
    ) -> Result<(), Failure> {
        let dict = CreditControl;
        if self.args.json {
            let mut j = match message_to_json(bytes, &dict) {
                Ok(j) => j,
                Err(e) => serde_json::json!({"error": crate::json::error_json(&e),
                                              "raw": crate::input::hex(bytes)}),
            };
            if j.get("error").is_some() {
                self.invalid = true;
            }
            if let (Some(c), Some(m)) = (capture, j.as_object_mut()) {
                m.insert("capture".into(), c);
            }
            return self.json(&j);
        }
        if self.count > 0 {
            writeln!(self.out)?;
        }
        self.count += 1;
        if let Some(l) = label {
            writeln!(self.out, "{l}")?;
        }
        let (text, ok) = render(
            bytes,
            &dict,
            Options {
                offsets: self.args.offsets,
            },
        );
        self.invalid |= !ok;
        self.out.write_all(text.as_bytes())?;
        Ok(())
    }

    fn broken(
        &mut self,
        label: &str,
        offset: usize,
        problem: &crate::input::Problem,
        rest: &[u8],
    ) -> Result<(), Failure> {
        self.invalid = true;
        if self.args.json {
            return self.json(&broken_json(offset, problem, rest));
        }
        if self.count > 0 {
            writeln!(self.out)?;
        }
        self.count += 1;
        writeln!(
            self.out,
            "!! {label}{problem} at byte {offset}: {} bytes not decoded",
            rest.len()
        )?;
        Ok(())
    }
}

/// Run `diameter decode`.
pub fn run(args: &DecodeArgs, out: &mut dyn Write) -> Result<Status, Failure> {
    let input = read_input(&args.file)?;
    let format = if args.hex {
        Format::Hex
    } else if args.raw {
        Format::Raw
    } else if args.pcap {
        Format::Pcap
    } else {
        detect(&input)
    };
    if args.port.is_some() && format != Format::Pcap {
        return Err(Failure("--port only applies to a capture (--pcap)".into()));
    }
    let name = if args.file == "-" {
        "stdin"
    } else {
        &args.file
    };
    let mut o = Out {
        out,
        args,
        invalid: false,
        count: 0,
    };
    match format {
        Format::Pcap => {
            let cap =
                read_capture(&input, args.port).map_err(|e| Failure(format!("{name}: {e}")))?;
            let mut n = 0;
            for item in &cap.items {
                match item {
                    Item::Message(m) => {
                        n += 1;
                        let label = format!(
                            "#{n} frame {} +{:.6} s {} -> {}",
                            m.frame,
                            m.time.as_secs_f64(),
                            m.src,
                            m.dst
                        );
                        let capture = serde_json::json!({
                            "frame": m.frame, "time": m.time.as_secs_f64(),
                            "src": m.src.to_string(), "dst": m.dst.to_string()});
                        o.message(&m.bytes, Some(label), Some(capture))?;
                    }
                    Item::Broken {
                        frame,
                        src,
                        dst,
                        offset,
                        problem,
                        rest,
                    } => {
                        let label = format!("frame {frame} {src} -> {dst}: ");
                        o.broken(&label, *offset, problem, rest)?;
                    }
                }
            }
            for note in &cap.notes {
                eprintln!("diameter: {name}: {note}");
            }
            if n == 0 {
                eprintln!(
                    "diameter: {name}: no Diameter message in {} frames{}",
                    cap.frames,
                    if args.port.is_none() {
                        " (try --port)"
                    } else {
                        ""
                    }
                );
            }
        }
        Format::Hex | Format::Raw => {
            let bytes = if format == Format::Hex {
                let text = std::str::from_utf8(&input)
                    .map_err(|_| Failure(format!("{name}: not hex text (try --raw)")))?;
                unhex(text).map_err(|e| Failure(format!("{name}: {e}")))?
            } else {
                input
            };
            if bytes.is_empty() {
                return Err(Failure(format!("{name}: no message (the input is empty)")));
            }
            for piece in split_messages(&bytes) {
                match piece {
                    Piece::Message { bytes, .. } => o.message(bytes, None, None)?,
                    Piece::Broken {
                        offset,
                        problem,
                        rest,
                    } => o.broken("", offset, &problem, rest)?,
                }
            }
        }
    }
    Ok(if o.invalid {
        Status::Invalid
    } else {
        Status::Ok
    })
}
