//! What the CLI's integration tests share: a `diameter serve` child on a
//! free port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `diameter serve` on a free port (`--listen 127.0.0.1:0`); its first
/// line says where. Killed when dropped.
pub struct Serve {
    pub child: Child,
    /// The address it listens on.
    pub addr: String,
    /// Its first line of output (`listening on ...`).
    #[allow(dead_code)]
    pub first: String,
    /// Its later lines, as they come.
    later: Arc<Mutex<Vec<String>>>,
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
        let later = Arc::new(Mutex::new(Vec::new()));
        let keep = later.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                keep.lock().unwrap().push(line);
            }
        });
        Serve {
            child,
            addr,
            first,
            later,
        }
    }

    /// Wait (10 s at most) for a line of its output containing `what`.
    #[allow(dead_code)]
    pub fn wait_for_line(&self, what: &str) -> Option<String> {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            let found = self
                .later
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(what))
                .cloned();
            if found.is_some() {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
