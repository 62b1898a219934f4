//! [`Transcript`]: print a [`Net`]'s messages and events as a message
//! ladder, in time order, as the examples and the CLI show them.

use diameter_cc::endpoint::{Event, SessionEvent};
use diameter_cc::ladder::Ladder;

use crate::net::{Net, NodeId};

/// Prints what happened in a two-node [`Net`] since the last call.
#[derive(Debug, Clone)]
pub struct Transcript {
    client: (NodeId, &'static str),
    server: (NodeId, &'static str),
    frames: usize,
    events: usize,
}

impl Transcript {
    /// A transcript of the conversation between `client` and `server`,
    /// named as given (`"proxy"`, `"ocs"`).
    pub fn new(client: (NodeId, &'static str), server: (NodeId, &'static str)) -> Self {
        Transcript {
            client,
            server,
            frames: 0,
            events: 0,
        }
    }

    /// Print every message and every event of the client since the last
    /// call, oldest first; return the client's session events.
    pub fn print(&mut self, net: &Net) -> Vec<SessionEvent> {
        let mut seen = Vec::new();
        let mut lines: Vec<(u64, String)> = Vec::new();
        let (c, s) = (self.client.1, self.server.1);
        for f in &net.frames[self.frames..] {
            let arrow = if f.from == self.client.0 {
                format!("{c:>6}  -> {s:<6}")
            } else {
                format!("{c:>6} <-  {s:<6}")
            };
            let lost = if f.delivered.is_none() {
                "  (lost)"
            } else {
                ""
            };
            lines.push((f.sent.0, format!("{arrow}  {}{lost}", Ladder(&f.bytes))));
        }
        for (t, node, e) in &net.events[self.events..] {
            if *node != self.client.0 {
                continue;
            }
            match e {
                Event::Session { event, .. } => {
                    lines.push((t.0, format!("[{c}] {event:?}")));
                    seen.push(*event);
                }
                Event::Peer { event, .. } => lines.push((t.0, format!("[peer] {event:?}"))),
                _ => {}
            }
        }
        // Stable: a message before the events of the same instant.
        lines.sort_by_key(|l| l.0);
        for (t, line) in lines {
            println!("{}  {line}", stamp(t));
        }
        (self.frames, self.events) = (net.frames.len(), net.events.len());
        seen
    }

    /// Print a line of the application's own, at the net's time.
    pub fn say(&self, net: &Net, what: &str) {
        println!("{}  [{}] {what}", stamp(net.now().0), self.client.1);
    }
}

fn stamp(ms: u64) -> String {
    format!("{:>8.3} s", ms as f64 / 1000.0)
}
