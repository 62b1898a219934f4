//! A stream of valid and invalid messages, cut into random chunks, fed to a
//! `Framer` the way a transport does: the framer yields exactly the valid
//! messages before the first invalid one, in order, then reports an error;
//! it never loses sync silently. The same chunks fed to an `RxBuf` (the
//! receive buffer transports use) give the same messages and the same
//! error.
#![no_main]

use arbitrary::Arbitrary;
use diameter_core::dict::base;
use diameter_core::framing::Frame;
use diameter_core::{ApplicationId, CommandCode, Framer, HeaderRepr, MessageBuilder, RxBuf};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Item {
    Valid { id: u32, host_len: u8 },
    Garbage(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    items: Vec<Item>,
    chunks: Vec<u8>,
    max: u16,
}

fuzz_target!(|inp: Input| {
    let max = 20 + usize::from(inp.max) % 2048;
    let framer = Framer::new(max);
    let mut stream = Vec::new();
    let mut expected: Vec<Vec<u8>> = Vec::new();
    let mut broken = false;
    for it in &inp.items {
        match it {
            Item::Valid { id, host_len } => {
                let host: String = "h".repeat(usize::from(*host_len) + 1);
                let mut buf = [0u8; 512];
                let hdr = HeaderRepr::request(
                    CommandCode::DEVICE_WATCHDOG,
                    ApplicationId::COMMON,
                    *id,
                    *id,
                );
                let mut b = MessageBuilder::new(&mut buf, hdr);
                b.put(&base::ORIGIN_HOST, host.as_str());
                let m = b.finish().unwrap();
                if !broken && m.len() <= max {
                    expected.push(m.to_vec());
                } else {
                    broken = true;
                }
                stream.extend_from_slice(m);
            }
            Item::Garbage(g) => {
                // Garbage that happens to frame is still a frame; decide by the framer's own rule.
                stream.extend_from_slice(g);
                broken = true;
            }
        }
    }
    // Feed in chunks, framing as a transport would.
    let mut rx: Vec<u8> = Vec::new();
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut pos = 0;
    let mut ci = 0;
    let mut error = false;
    'outer: while pos < stream.len() {
        let c = 1 + usize::from(*inp.chunks.get(ci).unwrap_or(&64));
        ci += 1;
        let end = (pos + c).min(stream.len());
        rx.extend_from_slice(&stream[pos..end]);
        pos = end;
        loop {
            match framer.check(&rx) {
                Ok(Frame::Complete(n)) => {
                    assert!(n >= 20 && n % 4 == 0 && n <= max);
                    got.push(rx.drain(..n).collect());
                }
                Ok(Frame::Partial { needed }) => {
                    assert!(needed > rx.len() || needed == 20);
                    break;
                }
                Err(_) => {
                    error = true;
                    break 'outer;
                }
            }
        }
    }
    // The same chunks through an RxBuf: the same messages, then the same
    // verdict (an error exactly when the framer gave one).
    let mut rxbuf: Box<RxBuf<4096>> = Box::new(RxBuf::with_max(max));
    let mut from_rxbuf: Vec<Vec<u8>> = Vec::new();
    let mut rx_error = false;
    let mut pos = 0;
    let mut ci = 0;
    'feed: while pos < stream.len() {
        let c = 1 + usize::from(*inp.chunks.get(ci).unwrap_or(&64));
        ci += 1;
        let end = (pos + c).min(stream.len());
        let taken = rxbuf.extend(&stream[pos..end]);
        assert_eq!(
            taken,
            end - pos,
            "a chunk did not fit beside a partial message"
        );
        pos = end;
        loop {
            match rxbuf.next_message() {
                None => break,
                Some(Ok(m)) => {
                    assert!(m.len() >= 20 && m.len() % 4 == 0 && m.len() <= max);
                    from_rxbuf.push(m.to_vec());
                }
                Some(Err(_)) => {
                    rx_error = true;
                    assert!(
                        rxbuf.next_message().is_some_and(|r| r.is_err()),
                        "error not sticky"
                    );
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(from_rxbuf, got, "RxBuf and Framer disagree");
    assert_eq!(rx_error, error, "RxBuf and Framer disagree on the error");
    if !rx_error {
        assert_eq!(rxbuf.buffered(), rx.len());
    }
    // Every valid message before the first garbage came out, in order.
    assert!(
        got.len() >= expected.len(),
        "lost messages: {} < {}",
        got.len(),
        expected.len()
    );
    assert_eq!(&got[..expected.len()], &expected[..]);
    if !broken {
        assert!(!error && rx.is_empty() && got.len() == expected.len());
    }
});
