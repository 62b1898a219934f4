//! What the CLI's integration tests share: a `diameter serve` child on a
//! free port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `diameter serve` on a free port (`--listen 127.0.0.1:0`); its first
/// line says where. Killed when dropped.
pub struct Serve {
    pub child: Child,
    /// The address it listens on.
    pub addr: String,
    /// Its first line of output (`listening on ...`).
    #[allow(dead_code)]
    pub first: String,
}

impl Serve {
    /// Start `diameter serve --db DB EXTRA...`.
    pub fn start(db: &str, extra: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_diameter"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("serve starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a first line").unwrap();
        let addr = first
            .strip_prefix("listening on ")
            .and_then(|r| r.split(' ').next())
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        // Keep reading its log so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Serve { child, addr, first }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
