//! The subcommands of `diameter`: each module has its `clap` arguments
//! and a `run` that returns the exit status or a one-line error.
//!
//! `decode` and `encode` are here; `call`, `serve`, `bench` and `send`
//! (which need the tokio transport) will be sibling modules with the same
//! shape, added to [`Command`].

use clap::{Parser, Subcommand};

pub mod decode;
pub mod encode;

/// The `diameter` command line.
#[derive(Debug, Parser)]
#[command(
    name = "diameter",
    version,
    about = "Diameter (RFC 6733, RFC 8506) on the command line: decode, encode",
    after_help = "Examples:\n  diameter decode ../shared/bench-msgs/ccr-i.hex\n  diameter decode --pcap capture.pcapng --port 3868\n  diameter decode --json msg.hex | diameter encode"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print any Diameter message as a tree (or JSON): names from the
    /// dictionaries, unknown AVPs raw, errors with Result-Code and offset.
    Decode(decode::DecodeArgs),
    /// Turn the JSON form (from `decode --json`) back into bytes.
    Encode(encode::EncodeArgs),
}

/// How a subcommand ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything was fine: exit 0.
    Ok,
    /// Some input was malformed or invalid (reported in the output): exit 1.
    Invalid,
}

/// A failure that stops a subcommand: printed as one line, exit 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// Run a parsed command line, writing to `out`.
pub fn run(cli: Cli, out: &mut dyn std::io::Write) -> Result<Status, Failure> {
    match cli.command {
        Command::Decode(a) => decode::run(&a, out),
        Command::Encode(a) => encode::run(&a, out),
    }
}
