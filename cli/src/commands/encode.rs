//! `diameter encode`: the JSON form of messages back into bytes.

use std::io::Write;

use clap::Args;
use diameter_cc::CreditControl;

use super::{Failure, Status};
use crate::input::{hex, read_input, unhex};
use crate::json::{json_to_message, read_documents};

/// Arguments of `diameter encode`.
#[derive(Debug, Args)]
#[command(
    after_help = "The JSON form is what `diameter decode --json` prints (one object per
message, or an array of them); see the README for its fields. AVPs may give
their data as \"value\" (typed, the type from \"type\" or the dictionary),
\"avps\" (Grouped) or \"hex\".

Examples:
  diameter decode --json ../shared/bench-msgs/ccr-i.hex | diameter encode
  diameter encode --raw -o dwr.bin dwr.json
  echo '{\"code\":280,\"flags\":\"R\",\"avps\":[{\"code\":264,\"flags\":\"M\",\"value\":\"a.example\"}]}' | diameter encode"
)]
pub struct EncodeArgs {
    /// The JSON input; `-` (the default) reads stdin.
    #[arg(default_value = "-")]
    pub file: String,
    /// Write raw bytes instead of hex lines.
    #[arg(long)]
    pub raw: bool,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<String>,
}

/// Run `diameter encode`.
pub fn run(args: &EncodeArgs, out: &mut dyn Write) -> Result<Status, Failure> {
    let input = read_input(&args.file)?;
    let name = if args.file == "-" {
        "stdin"
    } else {
        &args.file
    };
    let text =
        std::str::from_utf8(&input).map_err(|_| Failure(format!("{name}: not UTF-8 text")))?;
    let docs = read_documents(text).map_err(|e| Failure(format!("{name}: {e}")))?;
    if docs.is_empty() {
        return Err(Failure(format!("{name}: no message (the input is empty)")));
    }
    let dict = CreditControl;
    let mut bytes = Vec::new();
    let mut lines = String::new();
    for (i, doc) in docs.iter().enumerate() {
        let msg = match (doc.get("code"), doc.get("raw")) {
            // A stream that did not frame (from `decode --json`): verbatim.
            (None, Some(raw)) => raw
                .as_str()
                .ok_or_else(|| {
                    Failure(format!(
                        "{name}: message {}: \"raw\" is not a string",
                        i + 1
                    ))
                })
                .and_then(|s| {
                    unhex(s).map_err(|e| Failure(format!("{name}: message {}: raw: {e}", i + 1)))
                })?,
            _ => json_to_message(doc, &dict)
                .map_err(|e| Failure(format!("{name}: message {}: {e}", i + 1)))?,
        };
        lines.push_str(&hex(&msg));
        lines.push('\n');
        bytes.extend_from_slice(&msg);
    }
    let data = if args.raw { bytes } else { lines.into_bytes() };
    match &args.output {
        Some(path) => {
            std::fs::write(path, data).map_err(|e| Failure(format!("cannot write {path}: {e}")))?
        }
        None => out.write_all(&data)?,
    }
    Ok(Status::Ok)
}
