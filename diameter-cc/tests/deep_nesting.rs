//! Issue 9.4: a valid 200-deep chain of Multiple-Services-Credit-Control
//! (each inside the previous one through its `*[ AVP ]`) is accepted, as
//! other stacks accept it; deeper than the receiver's bound is 5012
//! DIAMETER_UNABLE_TO_COMPLY (RFC 6733 sets no limit, so the message is not
//! invalid), never a stack overflow.

use diameter_cc::dict::CcRequestType;
use diameter_cc::msg::{Ccr, CcrRepr};
use diameter_cc::CreditControl;
use diameter_core::message::DEFAULT_MAX_DEPTH;
use diameter_core::{ErrorKind, Message, MessageBuilder};

fn ccr_with_mscc_chain(depth: usize) -> Vec<u8> {
    // The chain, built from the innermost MSCC outwards (no recursion).
    let mut chain: Vec<u8> = Vec::new();
    for level in 1..=depth {
        let mut avp = Vec::with_capacity(chain.len() + 20);
        let len = 8 + 12 + chain.len();
        avp.extend(456u32.to_be_bytes());
        avp.extend(((0x40u32 << 24) | len as u32).to_be_bytes());
        // Rating-Group (432): which level this is
        avp.extend(432u32.to_be_bytes());
        avp.extend(((0x40u32 << 24) | 12).to_be_bytes());
        avp.extend((level as u32).to_be_bytes());
        avp.extend(&chain);
        chain = avp;
    }
    let mut buf = vec![0u8; 1024 + chain.len()];
    let repr = CcrRepr::new(
        "deep;1",
        "c.example",
        "example",
        "example",
        "voice@x",
        CcRequestType::Update,
        1,
    );
    let mut b = MessageBuilder::new(&mut buf, CcrRepr::header(1, 2));
    repr.write(&mut b);
    let inner = chain.get(8..).unwrap_or(&[]);
    if depth > 0 {
        b.put_raw(456, None, diameter_core::AvpFlags::MANDATORY, inner);
    }
    b.finish().unwrap().to_vec()
}

/// Validation must stay within a thread's stack: run it on a small one.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn a_200_deep_mscc_chain_is_valid() {
    on_small_stack(|| {
        let bytes = ccr_with_mscc_chain(200);
        let m = Message::new_checked(&bytes)
            .unwrap()
            .validated(&CreditControl)
            .unwrap();
        assert!(m.is_validated());
        let ccr = Ccr::decode(&m).unwrap();
        assert_eq!(ccr.mscc().next().unwrap().unwrap().rating_group, Some(200));
    });
}

#[test]
fn deeper_than_the_bound_is_unable_to_comply() {
    on_small_stack(|| {
        for depth in [usize::from(DEFAULT_MAX_DEPTH) + 1, 5_000] {
            let bytes = ccr_with_mscc_chain(depth);
            let e = Message::new_checked(&bytes)
                .unwrap()
                .validated(&CreditControl)
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NestingTooDeep, "{depth}");
            assert_eq!(e.result_code().get(), 5012);
            assert_eq!(e.avp().unwrap().code, 456);
        }
    });
}
