//! A whole prepaid call per iteration: the prepaid client machine and the
//! credit-control server machine exchange CCR-I/CCA-I, CCR-U/CCA-U and
//! CCR-T/CCA-T as bytes. Every message is encoded by its machine, framed,
//! parsed (`Message::parse_with`), validated against the CCR grammar by the
//! server, answered, and fed back: encode + decode + machine steps.
//!
//! `cargo bench -p diameter-benches --bench session`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use diameter_cc::client::prepaid::{Parties, PrepaidClient, PrepaidConfig, Transmit};
use diameter_cc::dict::tgpp;
use diameter_cc::server::credit_control::{Balances, CcServer, CcServerConfig};
use diameter_cc::session::{session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::TerminationCause;
use diameter_core::time::Instant;
use diameter_core::Message;

const PARTIES: Parties<'static> = Parties {
    user_name: "1001",
    subscription_id: "1001",
    calling_party: "sip:1001@cgrates.org",
    called_party: "sip:1002@cgrates.org",
    role_of_node: tgpp::RoleOfNode::Originating,
    node_functionality: tgpp::NodeFunctionality::As,
};

/// One call: returns the bytes exchanged.
fn call(
    cfg: &PrepaidConfig<'_>,
    server: &mut CcServer<'_, Balances<4>, 4>,
    req: &mut [u8],
    ans: &mut [u8],
) -> usize {
    let mut c = PrepaidClient::new(
        cfg,
        session_id_from("sip-call-0001@bench").unwrap(),
        PARTIES,
    );
    let mut bytes = 0;
    let mut step = |c: &mut PrepaidClient<'_, '_>, now: Instant| {
        while let Some(t) = c.poll_transmit(now, req) {
            let Ok(Transmit::Request { len, .. }) = t else {
                panic!("encode")
            };
            let m = Message::parse_with(&req[..len], &CreditControl).unwrap();
            let a = server.handle_request(now, &m, ans).unwrap();
            bytes += len + a.len();
            let am = Message::parse_with(a, &CreditControl).unwrap();
            c.handle_answer(now, &am);
        }
        while c.poll_event().is_some() {}
    };
    c.call_setup(Instant::ZERO);
    step(&mut c, Instant::ZERO);
    c.call_answered(Instant::from_secs(3));
    step(&mut c, Instant::from_secs(3));
    c.call_ended(Instant::from_secs(70), TerminationCause::Logout);
    step(&mut c, Instant::from_secs(70));
    bytes
}

fn bench(cr: &mut Criterion) {
    let mut cfg = PrepaidConfig::new(
        "client.cgrates.org",
        "cgrates.org",
        "cgrates.org",
        "voice@cgrates.org",
    );
    cfg.clock = WallClock {
        unix_at_zero: 1_704_067_200,
    };
    let scfg = CcServerConfig::new("ocs.cgrates.org", "cgrates.org");
    let mut bal = Balances::<4>::new();
    bal.set("1001", u64::MAX / 2);
    let mut server: CcServer<'_, _, 4> = CcServer::new(&scfg, bal);
    let mut req = [0u8; 2048];
    let mut ans = [0u8; 2048];
    let n = call(&cfg, &mut server, &mut req, &mut ans);
    let mut g = cr.benchmark_group("session");
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function("prepaid_call_ccr_i_u_t", |b| {
        b.iter(|| black_box(call(&cfg, &mut server, &mut req, &mut ans)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
