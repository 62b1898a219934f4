//! Diameter messages out of a packet capture (pcap or pcapng, as tshark
//! and tcpdump write them): link layer (Ethernet, Linux cooked v1/v2, raw
//! IP, BSD loopback), IPv4/IPv6, TCP reassembled per direction (SYN,
//! retransmissions, overlaps and out-of-order segments handled), then the
//! stream framed into messages by their headers' length fields.
//!
//! ```no_run
//! let bytes = std::fs::read("capture.pcapng").unwrap();
//! let cap = diameter_cli::pcap::read_capture(&bytes, Some(3868)).unwrap();
//! for item in &cap.items {
//!     if let diameter_cli::pcap::Item::Message(m) = item {
//!         println!("frame {} {} -> {}: {} bytes", m.frame, m.src, m.dst, m.bytes.len());
//!     }
//! }
//! ```
//!
//! IPv4 fragments are not reassembled (Diameter over TCP does not meet
//! them on loopback or with path MTU discovery); they are counted in the
//! notes.

use std::collections::HashMap;
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use diameter_core::framing::Frame;
use diameter_core::header::MAX_MESSAGE_LEN;
use diameter_core::Framer;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

use crate::input::{InputError, Problem};

/// One Diameter message found in a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Number of the frame (1-based, as Wireshark counts) that completed it.
    pub frame: usize,
    /// Time of that frame since the first frame of the capture.
    pub time: Duration,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// The message.
    pub bytes: Vec<u8>,
}

/// What a capture holds, in the order it was completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A message.
    Message(Captured),
    /// A Diameter stream that stopped framing (a bad header, or the
    /// capture ends inside a message); nothing after it in that direction
    /// is decoded.
    Broken {
        /// Frame where it was noticed.
        frame: usize,
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// Byte offset in that direction's stream.
        offset: usize,
        /// What is wrong.
        problem: Problem,
        /// The bytes that could not be framed.
        rest: Vec<u8>,
    },
}

/// The result of reading a capture.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capture {
    /// Messages and broken streams.
    pub items: Vec<Item>,
    /// Frames read.
    pub frames: usize,
    /// Remarks for people: streams skipped as not Diameter, fragments,
    /// unsupported link types.
    pub notes: Vec<String>,
}

type Key = (SocketAddr, SocketAddr);

#[derive(Default)]
struct Direction {
    next: Option<u32>,
    pending: Vec<(u32, Vec<u8>)>,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: usize,
    messages: usize,
    dead: bool,
}

struct Reader {
    framer: Framer,
    port: Option<u16>,
    dirs: HashMap<Key, Direction>,
    order: Vec<Key>,
    cap: Capture,
    first: Option<Duration>,
    fragments: usize,
    other_links: HashMap<u32, usize>,
}

/// Read a pcap or pcapng capture and return every Diameter message in
/// it. With `port`, only TCP segments from or to that port are read;
/// without it, every TCP stream is tried and those that do not start
/// with a Diameter header are skipped (and noted).
pub fn read_capture(bytes: &[u8], port: Option<u16>) -> Result<Capture, InputError> {
    let mut r = Reader {
        framer: Framer::new(MAX_MESSAGE_LEN),
        port,
        dirs: HashMap::new(),
        order: Vec::new(),
        cap: Capture::default(),
        first: None,
        fragments: 0,
        other_links: HashMap::new(),
    };
    let bad = |e: pcap_file::PcapError| InputError(format!("not a readable capture: {e}"));
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut ng = PcapNgReader::new(Cursor::new(bytes)).map_err(bad)?;
        let mut links: Vec<u32> = Vec::new();
        while let Some(block) = ng.next_block() {
            match block.map_err(bad)? {
                Block::SectionHeader(_) => links.clear(),
                Block::InterfaceDescription(idb) => links.push(u32::from(idb.linktype)),
                Block::EnhancedPacket(epb) => {
                    let link = links.get(epb.interface_id as usize).copied().unwrap_or(1);
                    r.frame(link, epb.timestamp, &epb.data);
                }
                Block::SimplePacket(spb) => {
                    let link = links.first().copied().unwrap_or(1);
                    r.frame(link, Duration::ZERO, &spb.data);
                }
                Block::Packet(pb) => {
                    let link = links.get(pb.interface_id as usize).copied().unwrap_or(1);
                    r.frame(link, Duration::from_micros(pb.timestamp), &pb.data);
                }
                _ => {}
            }
        }
    } else {
        let mut p = PcapReader::new(Cursor::new(bytes)).map_err(bad)?;
        let link = u32::from(p.header().datalink);
        while let Some(pkt) = p.next_packet() {
            let pkt = pkt.map_err(bad)?;
            r.frame(link, pkt.timestamp, &pkt.data);
        }
    }
    Ok(r.finish())
}

impl Reader {
    fn frame(&mut self, link: u32, ts: Duration, data: &[u8]) {
        self.cap.frames += 1;
        let first = *self.first.get_or_insert(ts);
        let time = ts.saturating_sub(first);
        let Some(ip) = ip_packet(link, data) else {
            if !matches!(link, 1 | 113 | 276 | 0 | 108 | 12 | 14 | 101 | 228 | 229) {
                *self.other_links.entry(link).or_default() += 1;
            }
            return;
        };
        let Some(seg) = tcp_segment(ip, &mut self.fragments) else {
            return;
        };
        if let Some(p) = self.port {
            if seg.src.port() != p && seg.dst.port() != p {
                return;
            }
        }
        let key = (seg.src, seg.dst);
        if !self.dirs.contains_key(&key) {
            self.order.push(key);
        }
        let dir = self.dirs.entry(key).or_default();
        if seg.rst {
            return;
        }
        if seg.syn {
            *dir = Direction {
                next: Some(seg.seq.wrapping_add(1)),
                ..Direction::default()
            };
        }
        if seg.payload.is_empty() || dir.dead {
            return;
        }
        let seq = if seg.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let next = *dir.next.get_or_insert(seq);
        let rel = seq.wrapping_sub(next) as i32;
        if rel > 0 {
            dir.pending.push((seq, seg.payload.to_vec()));
            return;
        }
        append(dir, seq, seg.payload);
        // Segments that arrived early may fit now.
        loop {
            let next = dir.next.unwrap_or(0);
            let Some(i) = dir
                .pending
                .iter()
                .position(|(s, _)| (s.wrapping_sub(next) as i32) <= 0)
            else {
                break;
            };
            let (s, d) = dir.pending.swap_remove(i);
            append(dir, s, &d);
        }
        self.drain(key, self.cap.frames, time);
    }

    /// Frame what the direction's stream holds.
    fn drain(&mut self, key: Key, frame: usize, time: Duration) {
        let Some(dir) = self.dirs.get_mut(&key) else {
            return;
        };
        let mut pos = 0;
        loop {
            let rest = &dir.buf[pos..];
            if rest.is_empty() {
                break;
            }
            match self.framer.check(rest) {
                Ok(Frame::Complete(n)) => {
                    self.cap.items.push(Item::Message(Captured {
                        frame,
                        time,
                        src: key.0,
                        dst: key.1,
                        bytes: rest[..n].to_vec(),
                    }));
                    dir.messages += 1;
                    pos += n;
                }
                Ok(Frame::Partial { .. }) => break,
                Err(e) => {
                    dir.dead = true;
                    if dir.messages == 0 && dir.base + pos == 0 {
                        self.cap.notes.push(format!(
                            "skipped TCP stream {} -> {}: it does not start with a Diameter header",
                            key.0, key.1
                        ));
                    } else {
                        self.cap.items.push(Item::Broken {
                            frame,
                            src: key.0,
                            dst: key.1,
                            offset: dir.base + pos,
                            problem: Problem::Header(e),
                            rest: rest.to_vec(),
                        });
                    }
                    dir.buf.clear();
                    dir.pending.clear();
                    return;
                }
            }
        }
        dir.buf.drain(..pos);
        dir.base += pos;
    }

    fn finish(mut self) -> Capture {
        for key in std::mem::take(&mut self.order) {
            let Some(dir) = self.dirs.get(&key) else {
                continue;
            };
            if dir.dead {
                continue;
            }
            let waiting: usize = dir.pending.iter().map(|(_, d)| d.len()).sum();
            if waiting > 0 {
                self.cap.notes.push(format!(
                    "TCP stream {} -> {}: {waiting} bytes after a gap (segments missing from the capture) not decoded",
                    key.0, key.1
                ));
            }
            if !dir.buf.is_empty() {
                let have = dir.buf.len();
                let needed = match dir.buf.get(1..4) {
                    Some(&[a, b, c]) => u32::from_be_bytes([0, a, b, c]) as usize,
                    _ => 20,
                };
                self.cap.items.push(Item::Broken {
                    frame: self.cap.frames,
                    src: key.0,
                    dst: key.1,
                    offset: dir.base,
                    problem: Problem::Truncated { have, needed },
                    rest: dir.buf.clone(),
                });
            }
        }
        if self.fragments > 0 {
            self.cap
                .notes
                .push(format!("{} IPv4 fragments not reassembled", self.fragments));
        }
        for (link, n) in &self.other_links {
            self.cap
                .notes
                .push(format!("{n} frames of link type {link} not read"));
        }
        self.cap
    }
}

/// Append a segment starting at `seq` whose start may overlap data
/// already taken (a retransmission).
fn append(dir: &mut Direction, seq: u32, data: &[u8]) {
    let next = dir.next.unwrap_or(seq);
    let overlap = next.wrapping_sub(seq) as usize;
    if (next.wrapping_sub(seq) as i32) < 0 || overlap >= data.len() {
        return;
    }
    let fresh = &data[overlap..];
    dir.buf.extend_from_slice(fresh);
    dir.next = Some(next.wrapping_add(fresh.len() as u32));
}

/// The IP packet inside a link-layer frame.
fn ip_packet(link: u32, d: &[u8]) -> Option<&[u8]> {
    let by_ethertype = |t: u16, rest: &'_ [u8]| -> Option<()> {
        let _ = rest;
        matches!(t, 0x0800 | 0x86dd).then_some(())
    };
    match link {
        // Ethernet, with 802.1Q tags skipped.
        1 => {
            let mut off = 12;
            let mut t = u16::from_be_bytes([*d.get(off)?, *d.get(off + 1)?]);
            while t == 0x8100 || t == 0x88a8 {
                off += 4;
                t = u16::from_be_bytes([*d.get(off)?, *d.get(off + 1)?]);
            }
            by_ethertype(t, d)?;
            d.get(off + 2..)
        }
        // Linux cooked capture v1 (16-byte header) and v2 (20 bytes).
        113 => {
            by_ethertype(u16::from_be_bytes([*d.get(14)?, *d.get(15)?]), d)?;
            d.get(16..)
        }
        276 => {
            by_ethertype(u16::from_be_bytes([*d.first()?, *d.get(1)?]), d)?;
            d.get(20..)
        }
        // BSD loopback: a 4-byte address family in host order.
        0 | 108 => d.get(4..),
        // Raw IP.
        12 | 14 | 101 | 228 | 229 => Some(d),
        _ => None,
    }
}

struct Segment<'a> {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    syn: bool,
    rst: bool,
    payload: &'a [u8],
}

fn tcp_segment<'a>(ip: &'a [u8], fragments: &mut usize) -> Option<Segment<'a>> {
    let (src, dst, tcp) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
            if *ip.get(9)? != 6 {
                return None;
            }
            if frag & 0x3fff != 0 {
                *fragments += 1;
                return None;
            }
            let src = Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?);
            let dst = Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(16..20)?).ok()?);
            // `total` trims Ethernet padding; 0 means TSO, take everything.
            let end = if total == 0 {
                ip.len()
            } else {
                total.min(ip.len())
            };
            (IpAddr::V4(src), IpAddr::V4(dst), ip.get(ihl..end)?)
        }
        6 => {
            let len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let src = Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?);
            let dst = Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?);
            let mut next = *ip.get(6)?;
            let mut off = 40;
            let end = (40 + len).min(ip.len());
            // Hop-by-hop, routing and destination options headers.
            while matches!(next, 0 | 43 | 60) {
                next = *ip.get(off)?;
                off += (usize::from(*ip.get(off + 1)?) + 1) * 8;
            }
            if next != 6 {
                return None;
            }
            (IpAddr::V6(src), IpAddr::V6(dst), ip.get(off..end)?)
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes([*tcp.first()?, *tcp.get(1)?]);
    let dport = u16::from_be_bytes([*tcp.get(2)?, *tcp.get(3)?]);
    let seq = u32::from_be_bytes([*tcp.get(4)?, *tcp.get(5)?, *tcp.get(6)?, *tcp.get(7)?]);
    let data_off = usize::from(*tcp.get(12)? >> 4) * 4;
    let flags = *tcp.get(13)?;
    Some(Segment {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        seq,
        syn: flags & 0x02 != 0,
        rst: flags & 0x04 != 0,
        payload: tcp.get(data_off..)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet/IPv4/TCP frame carrying `payload`.
    fn frame(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = 20 + 20 + payload.len();
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 2]);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    fn dwr(e2e: u8) -> Vec<u8> {
        vec![
            1, 0, 0, 20, 0x80, 0, 1, 0x18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, e2e,
        ]
    }

    fn run(frames: &[Vec<u8>]) -> Capture {
        let mut r = Reader {
            framer: Framer::new(MAX_MESSAGE_LEN),
            port: Some(3868),
            dirs: HashMap::new(),
            order: Vec::new(),
            cap: Capture::default(),
            first: None,
            fragments: 0,
            other_links: HashMap::new(),
        };
        for f in frames {
            r.frame(1, Duration::ZERO, f);
        }
        r.finish()
    }

    fn messages(c: &Capture) -> Vec<Vec<u8>> {
        c.items
            .iter()
            .filter_map(|i| match i {
                Item::Message(m) => Some(m.bytes.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn reassembles_split_reordered_and_retransmitted_segments() {
        let mut stream = dwr(1);
        stream.extend(dwr(2));
        stream.extend(dwr(3));
        let isn = u32::MAX - 10; // sequence numbers wrap inside the stream
        let at = |o: usize| isn.wrapping_add(1).wrapping_add(o as u32);
        let frames = vec![
            frame(40000, 3868, isn, 0x02, &[]),
            frame(40000, 3868, at(0), 0x18, &stream[..7]),
            frame(40000, 3868, at(30), 0x18, &stream[30..]), // early
            frame(40000, 3868, at(0), 0x18, &stream[..7]),   // retransmitted
            frame(40000, 3868, at(5), 0x18, &stream[5..30]), // overlaps
            frame(3868, 40000, 77, 0x18, &dwr(9)),           // other direction, no SYN seen
            frame(5555, 6666, 1, 0x18, &dwr(4)),             // other port
        ];
        let c = run(&frames);
        assert_eq!(messages(&c), vec![dwr(1), dwr(2), dwr(3), dwr(9)]);
        assert!(c.notes.is_empty(), "{:?}", c.notes);
    }

    #[test]
    fn broken_and_truncated_streams() {
        let mut bad = dwr(1);
        bad.extend([2, 0, 0, 20]); // version 2 after a good message
        let c = run(&[frame(40000, 3868, 1, 0x18, &bad)]);
        assert_eq!(messages(&c), vec![dwr(1)]);
        assert!(matches!(
            c.items[1],
            Item::Broken {
                offset: 20,
                problem: Problem::Header(_),
                ..
            }
        ));
        let c = run(&[frame(40000, 3868, 1, 0x18, &dwr(1)[..12])]);
        assert!(matches!(
            c.items[0],
            Item::Broken {
                problem: Problem::Truncated {
                    have: 12,
                    needed: 20
                },
                ..
            }
        ));
        let c = run(&[frame(40000, 3868, 1, 0x18, b"GET / HTTP/1.1\r\n")]);
        assert!(c.items.is_empty());
        assert_eq!(c.notes.len(), 1);
    }

    #[test]
    fn link_types() {
        let f = frame(1, 2, 3, 0x18, b"x");
        let ip = &f[14..];
        assert_eq!(ip_packet(1, &f), Some(ip));
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(ip);
        assert_eq!(ip_packet(113, &sll), Some(ip));
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(ip);
        assert_eq!(ip_packet(276, &sll2), Some(ip));
        assert_eq!(ip_packet(101, ip), Some(ip));
        assert_eq!(ip_packet(147, ip), None);
        let mut n = 0;
        let seg = tcp_segment(ip, &mut n).unwrap();
        assert_eq!(seg.payload, b"x");
        assert_eq!(seg.src.to_string(), "127.0.0.1:1");
    }
}
