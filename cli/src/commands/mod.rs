//! The subcommands of `diameter`: each module has its `clap` arguments
//! and a `run` that returns the exit status or a one-line error.
//!
//! `call`, `serve`, `send` and `bench` run on diameter-tokio (a runtime of
//! their own, see [`runtime`]), over TCP or TLS ([`crate::tls`]), and
//! print line by line as things happen ([`say`]);
//! `decode` and `encode` write to the output they are given.

use std::io::Write;

use clap::{Parser, Subcommand};

pub mod bench;
pub mod call;
pub mod decode;
pub mod encode;
pub mod send;
pub mod serve;

/// The `diameter` command line.
#[derive(Debug, Parser)]
#[command(
    name = "diameter",
    version,
    about = "Diameter (RFC 6733, RFC 8506) on the command line: charged calls, a charging server, load tests, one-off requests, decode, encode",
    after_help = "Examples:\n  diameter call --scenario prepaid --from 1001 --to 1002 --dur 67 --speed 20\n  diameter call --tls --scenario prepaid --dur 67 --speed 20\n  diameter serve --listen 127.0.0.1:3868 --db sqlite:charging.db\n  diameter call --peer 127.0.0.1:3868 --scenario accounting\n  diameter decode ../shared/bench-msgs/ccr-i.hex\n  diameter decode --pcap capture.pcapng --port 3868\n  diameter decode --json msg.hex | diameter encode"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play a charged call (prepaid, postpaid, accounting) as a SIP proxy
    /// would, against the built-in charging server or any peer: prints
    /// the message ladder and a summary.
    Call(call::CallArgs),
    /// Run the built-in charging server (SQLite or PostgreSQL).
    Serve(serve::ServeArgs),
    /// Send one request (its JSON form) and print the answer.
    Send(send::SendArgs),
    /// Load a charging system with many calls: answers per second,
    /// Result-Codes, latency percentiles.
    Bench(bench::BenchArgs),
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
        Command::Call(a) => call::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Send(a) => send::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Decode(a) => decode::run(&a, out),
        Command::Encode(a) => encode::run(&a, out),
    }
}

/// A multi-threaded tokio runtime for the network subcommands.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure(format!("cannot start the runtime: {e}")))
}

/// Print one line on stdout now (from any thread; a closed stdout is
/// ignored).
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
