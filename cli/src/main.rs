//! `diameter`: see `diameter --help` and the crate docs of `diameter_cli`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use diameter_cli::commands::{self, Cli, Status};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Not locked: `call` and `serve` print from several threads.
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let result = commands::run(cli, &mut out);
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(Status::Ok), Ok(())) => ExitCode::SUCCESS,
        (Ok(Status::Invalid), Ok(())) => ExitCode::from(1),
        (Err(e), _) => {
            eprintln!("diameter: {e}");
            ExitCode::from(2)
        }
        (Ok(_), Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        (Ok(_), Err(e)) => {
            eprintln!("diameter: cannot write the output: {e}");
            ExitCode::from(2)
        }
    }
}
