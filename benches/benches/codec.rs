//! Codec benchmark: our decoder and encoder against a `memcpy` and a bare
//! AVP-header walk of the same bytes, and against the `diameter` crate 0.7.1.
//!
//! ```text
//! cargo bench -p diameter-benches --bench codec -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Inputs are the four messages of `../shared/bench-msgs/` (beside the
//! workspace root). One criterion group per message and direction
//! (`decode/<msg>`, `encode/<msg>`), throughput in bytes. Before measuring,
//! the binary checks that every encoder reproduces the input bytes exactly
//! and prints allocations per operation, counted by the shared counting
//! allocator of `diameter-sim` (installed below). What each row does, and the results, are in `BENCHMARKS.md`.

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;

use criterion::{criterion_group, Criterion, Throughput};
use diameter::avp::flags::M;
use diameter::avp::{
    Avp, AvpValue, Enumerated, Grouped, Identity, Time, UTF8String, Unsigned32, Unsigned64,
};
use diameter::dictionary::{self, Dictionary};
use diameter::{flags, ApplicationId, CommandCode, DiameterMessage};
use diameter_benches::{self as b, Values, MESSAGES, TGPP};
use diameter_sim::alloc::{allocations, assert_counting, CountingAlloc};

// ---------------------------------------------------------------------------
// Allocation counting: the shared counting allocator of `diameter-sim`
// (it counts only while `allocations` runs, on the measuring thread, so the
// timed loops pay one thread-local check per allocation).

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Allocations (alloc + alloc_zeroed + realloc) per call of `f`, averaged
/// over 100 calls after one warm-up call.
fn allocs_per_op(mut f: impl FnMut()) -> f64 {
    const N: usize = 100;
    f();
    let ((), n) = allocations(|| {
        for _ in 0..N {
            f();
        }
    });
    n as f64 / N as f64
}

// ---------------------------------------------------------------------------
// The `diameter` crate 0.7.1

/// The 3GPP AVPs of the messages that its `DEFAULT_DICT_XML` lacks (copied
/// from its own `dict/3gpp-ro-rf.xml`). Without them its decoder fails with
/// `UnknownAvpCode`.
const TGPP_XML: &str = r#"
<diameter>
  <application id="4" type="auth" name="TGPP">
    <avp name="IMS-Information" code="876" must="V,M" may="P" must-not="-" may-encrypt="N" vendor-id="10415">
      <data type="Grouped"/>
    </avp>
    <avp name="Role-Of-Node" code="829" must="V,M" may="P" must-not="-" may-encrypt="N" vendor-id="10415">
      <data type="Enumerated"/>
    </avp>
    <avp name="Node-Functionality" code="862" must="V,M" may="P" must-not="-" may-encrypt="N" vendor-id="10415">
      <data type="Enumerated"/>
    </avp>
    <avp name="Calling-Party-Address" code="831" must="V,M" may="P" must-not="-" may-encrypt="N" vendor-id="10415">
      <data type="UTF8String"/>
    </avp>
    <avp name="Called-Party-Address" code="832" must="V,M" may="P" must-not="-" may-encrypt="N" vendor-id="10415">
      <data type="UTF8String"/>
    </avp>
  </application>
</diameter>
"#;

fn their_dict() -> Arc<Dictionary> {
    Arc::new(Dictionary::new(&[&dictionary::DEFAULT_DICT_XML, TGPP_XML]))
}

/// `DiameterMessage::decode_from` on a `Cursor`, then every AVP visited and
/// every leaf value read through its accessor. Returns the number of AVPs.
fn their_decode(bytes: &[u8], dict: &Arc<Dictionary>) -> u32 {
    let mut cur = Cursor::new(bytes);
    let msg = DiameterMessage::decode_from(&mut cur, Arc::clone(dict)).expect("diameter decode");
    black_box((
        msg.get_command_code(),
        msg.get_application_id(),
        msg.get_flags(),
        msg.get_hop_by_hop_id(),
        msg.get_end_to_end_id(),
    ));
    their_visit(msg.get_avps())
}

fn their_visit(avps: &[Avp]) -> u32 {
    let mut n = 0;
    for a in avps {
        n += 1;
        black_box((a.get_code(), a.get_vendor_id()));
        match a.get_value() {
            AvpValue::Grouped(g) => n += their_visit(g.avps()),
            AvpValue::Unsigned32(v) => {
                black_box(v.value());
            }
            AvpValue::Unsigned64(v) => {
                black_box(v.value());
            }
            AvpValue::Integer32(v) => {
                black_box(v.value());
            }
            AvpValue::Integer64(v) => {
                black_box(v.value());
            }
            AvpValue::Enumerated(v) => {
                black_box(v.value());
            }
            AvpValue::UTF8String(v) => {
                black_box(v.value());
            }
            AvpValue::Identity(v) => {
                black_box(v.value());
            }
            AvpValue::OctetString(v) => {
                black_box(v.value());
            }
            AvpValue::Time(v) => {
                black_box(v.value());
            }
            other => {
                black_box(other);
            }
        }
    }
    n
}

/// A `Time` for Event-Timestamp, made through its own decoder (the crate
/// takes a chrono `DateTime`; this avoids depending on chrono here).
fn their_time(ntp: u32) -> Time {
    Time::decode_from(&mut Cursor::new(ntp.to_be_bytes())).expect("time")
}

/// Build the message from `v` with `DiameterMessage::new`/`add_avp` and
/// `Grouped::new`/`add_avp`, then `encode_to` into `out` (cleared, reused).
fn their_encode(v: &Values, ts: &Time, dict: &Arc<Dictionary>, out: &mut Vec<u8>) {
    let d = || Arc::clone(dict);
    let group = || Grouped::new(Vec::new(), Arc::clone(dict));
    let msg = match v {
        Values::Ccr(v) => {
            let mut m = DiameterMessage::new(
                CommandCode::CreditControl,
                ApplicationId::CreditControl,
                flags::REQUEST | flags::PROXYABLE,
                v.hbh,
                v.e2e,
                d(),
            );
            m.add_avp(263, None, M, UTF8String::new(v.session_id).into());
            m.add_avp(264, None, M, Identity::new(v.origin_host).into());
            m.add_avp(296, None, M, Identity::new(v.origin_realm).into());
            m.add_avp(283, None, M, Identity::new(v.destination_realm).into());
            m.add_avp(258, None, M, Unsigned32::new(v.auth_application_id).into());
            m.add_avp(461, None, M, UTF8String::new(v.service_context_id).into());
            m.add_avp(416, None, M, Enumerated::new(v.cc_request_type).into());
            m.add_avp(415, None, M, Unsigned32::new(v.cc_request_number).into());
            m.add_avp(55, None, M, ts.clone().into());
            let mut sub = group();
            sub.add_avp(450, None, M, Enumerated::new(v.subscription_id.0).into());
            sub.add_avp(444, None, M, UTF8String::new(v.subscription_id.1).into());
            m.add_avp(443, None, M, sub.into());
            if let Some(t) = v.requested_cc_time {
                let mut rsu = group();
                rsu.add_avp(420, None, M, Unsigned32::new(t).into());
                m.add_avp(437, None, M, rsu.into());
            }
            if let Some(x) = v.multiple_services_indicator {
                m.add_avp(455, None, M, Enumerated::new(x).into());
            }
            for s in &v.mscc {
                let mut mscc = group();
                let mut rsu = group();
                rsu.add_avp(420, None, M, Unsigned32::new(s.requested_cc_time).into());
                mscc.add_avp(437, None, M, rsu.into());
                let mut usu = group();
                usu.add_avp(420, None, M, Unsigned32::new(s.used.cc_time).into());
                usu.add_avp(421, None, M, Unsigned64::new(s.used.total).into());
                usu.add_avp(412, None, M, Unsigned64::new(s.used.input).into());
                usu.add_avp(414, None, M, Unsigned64::new(s.used.output).into());
                mscc.add_avp(446, None, M, usu.into());
                mscc.add_avp(439, None, M, Unsigned32::new(s.service_identifier).into());
                mscc.add_avp(432, None, M, Unsigned32::new(s.rating_group).into());
                m.add_avp(456, None, M, mscc.into());
            }
            let mut ims = group();
            ims.add_avp(
                829,
                Some(TGPP),
                M,
                Enumerated::new(v.ims.role_of_node).into(),
            );
            ims.add_avp(
                862,
                Some(TGPP),
                M,
                Enumerated::new(v.ims.node_functionality).into(),
            );
            ims.add_avp(831, Some(TGPP), M, UTF8String::new(v.ims.calling).into());
            ims.add_avp(832, Some(TGPP), M, UTF8String::new(v.ims.called).into());
            let mut si = group();
            si.add_avp(876, Some(TGPP), M, ims.into());
            m.add_avp(873, Some(TGPP), M, si.into());
            m
        }
        Values::Cca(v) => {
            let mut m = DiameterMessage::new(
                CommandCode::CreditControl,
                ApplicationId::CreditControl,
                flags::PROXYABLE,
                v.hbh,
                v.e2e,
                d(),
            );
            m.add_avp(263, None, M, UTF8String::new(v.session_id).into());
            m.add_avp(268, None, M, Unsigned32::new(v.result_code).into());
            m.add_avp(264, None, M, Identity::new(v.origin_host).into());
            m.add_avp(296, None, M, Identity::new(v.origin_realm).into());
            m.add_avp(258, None, M, Unsigned32::new(v.auth_application_id).into());
            m.add_avp(416, None, M, Enumerated::new(v.cc_request_type).into());
            m.add_avp(415, None, M, Unsigned32::new(v.cc_request_number).into());
            let mut gsu = group();
            gsu.add_avp(420, None, M, Unsigned32::new(v.granted_cc_time).into());
            m.add_avp(431, None, M, gsu.into());
            let mut mscc = group();
            let mut gsu = group();
            gsu.add_avp(420, None, M, Unsigned32::new(v.mscc.granted_cc_time).into());
            mscc.add_avp(431, None, M, gsu.into());
            mscc.add_avp(432, None, M, Unsigned32::new(v.mscc.rating_group).into());
            mscc.add_avp(448, None, M, Unsigned32::new(v.mscc.validity_time).into());
            mscc.add_avp(268, None, M, Unsigned32::new(v.mscc.result_code).into());
            m.add_avp(456, None, M, mscc.into());
            m
        }
        Values::Acr(v) => {
            let mut m = DiameterMessage::new(
                CommandCode::Accounting,
                ApplicationId::Accounting,
                flags::REQUEST | flags::PROXYABLE,
                v.hbh,
                v.e2e,
                d(),
            );
            m.add_avp(263, None, M, UTF8String::new(v.session_id).into());
            m.add_avp(264, None, M, Identity::new(v.origin_host).into());
            m.add_avp(296, None, M, Identity::new(v.origin_realm).into());
            m.add_avp(283, None, M, Identity::new(v.destination_realm).into());
            m.add_avp(480, None, M, Enumerated::new(v.record_type).into());
            m.add_avp(485, None, M, Unsigned32::new(v.record_number).into());
            m.add_avp(259, None, M, Unsigned32::new(v.acct_application_id).into());
            m.add_avp(1, None, M, UTF8String::new(v.user_name).into());
            m.add_avp(85, None, M, Unsigned32::new(v.interim_interval).into());
            m.add_avp(278, None, M, Unsigned32::new(v.origin_state_id).into());
            m.add_avp(55, None, M, ts.clone().into());
            m
        }
    };
    out.clear();
    msg.encode_to(out).expect("diameter encode");
}

// ---------------------------------------------------------------------------
// Setup checks and allocation report (printed once, before measuring)

struct Input {
    name: &'static str,
    bytes: Vec<u8>,
    values: Values,
}

fn inputs() -> Vec<Input> {
    MESSAGES
        .iter()
        .map(|&name| Input {
            name,
            bytes: b::load(name),
            values: b::values(name),
        })
        .collect()
}

fn check_and_report(inputs: &[Input], dict: &Arc<Dictionary>, ts: &Time) {
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::with_capacity(8192);
    assert_counting();
    println!("allocations per operation, 100 runs after one warm-up:");
    for i in inputs {
        let bytes = &i.bytes[..];
        // Correctness, outside any timed loop.
        let ours = b::encode(&i.values, &mut buf).expect("our encode");
        assert_eq!(
            ours, bytes,
            "{}: our encoder differs from the input",
            i.name
        );
        their_encode(&i.values, ts, dict, &mut out);
        assert_eq!(
            &out[..],
            bytes,
            "{}: diameter crate encoder differs",
            i.name
        );
        let n_ours = b::full_decode(bytes).expect("our decode").0;
        let n_theirs = their_decode(bytes, dict);
        assert_eq!(n_ours, n_theirs, "{}: AVPs visited differ", i.name);
        b::parse_validate(bytes).expect("our validate");

        let rows: [(&str, f64); 6] = [
            (
                "ours_check_validate",
                allocs_per_op(|| {
                    black_box(b::check_validate(black_box(bytes)).unwrap());
                }),
            ),
            (
                "ours_full_decode",
                allocs_per_op(|| {
                    black_box(b::full_decode(black_box(bytes)).unwrap());
                }),
            ),
            (
                "ours_parse_validate",
                allocs_per_op(|| {
                    black_box(b::parse_validate(black_box(bytes)).unwrap());
                }),
            ),
            (
                "ours_encode",
                allocs_per_op(|| {
                    black_box(b::encode(black_box(&i.values), &mut buf).unwrap());
                }),
            ),
            (
                "diameter_crate_decode",
                allocs_per_op(|| {
                    black_box(their_decode(black_box(bytes), dict));
                }),
            ),
            (
                "diameter_crate_encode",
                allocs_per_op(|| {
                    their_encode(black_box(&i.values), ts, dict, &mut out);
                    black_box(&out);
                }),
            ),
        ];
        for (what, n) in rows {
            println!(
                "  {:<12} {:>5} B {n_ours:>4} AVPs  {what:<22} {n:>7.1} allocs",
                i.name,
                bytes.len()
            );
            if what.starts_with("ours") {
                assert_eq!(n, 0.0, "{}: {what} allocated", i.name);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Benchmarks

fn codec(c: &mut Criterion) {
    let dict = their_dict();
    let ts = their_time(b::EVENT_NTP);
    let inputs = inputs();
    check_and_report(&inputs, &dict, &ts);

    let mut buf = vec![0u8; 8192];
    let mut out: Vec<u8> = Vec::with_capacity(8192);

    for i in &inputs {
        let bytes = &i.bytes[..];
        let mut g = c.benchmark_group(format!("decode/{}", i.name));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("memcpy", |bn| {
            bn.iter(|| {
                let src = black_box(bytes);
                buf[..src.len()].copy_from_slice(src);
                black_box(&buf);
            })
        });
        g.bench_function("tight_walk", |bn| {
            bn.iter(|| b::tight_walk(black_box(bytes)))
        });
        g.bench_function("bare_walk", |bn| bn.iter(|| b::bare_walk(black_box(bytes))));
        g.bench_function("ours_parse_only", |bn| {
            bn.iter(|| b::parse_only(black_box(bytes)).unwrap())
        });
        g.bench_function("ours_parse_validate", |bn| {
            bn.iter(|| b::parse_validate(black_box(bytes)).unwrap())
        });
        g.bench_function("ours_check_validate", |bn| {
            bn.iter(|| b::check_validate(black_box(bytes)).unwrap())
        });
        g.bench_function("ours_full_decode", |bn| {
            bn.iter(|| b::full_decode(black_box(bytes)).unwrap())
        });
        if i.name.starts_with("ccr") {
            g.bench_function("ours_server_ccr", |bn| {
                bn.iter(|| b::server_ccr(black_box(bytes)).unwrap())
            });
        }
        if i.name.starts_with("acr") {
            g.bench_function("ours_server_acr", |bn| {
                bn.iter(|| b::server_acr(black_box(bytes)).unwrap())
            });
        }
        g.bench_function("ours_eager_decode", |bn| {
            bn.iter(|| b::eager_decode(black_box(bytes)).unwrap())
        });
        g.bench_function("diameter_crate_decode", |bn| {
            bn.iter(|| their_decode(black_box(bytes), &dict))
        });
        g.finish();

        let mut g = c.benchmark_group(format!("encode/{}", i.name));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("memcpy", |bn| {
            bn.iter(|| {
                let src = black_box(bytes);
                buf[..src.len()].copy_from_slice(src);
                black_box(&buf);
            })
        });
        g.bench_function("ours_encode", |bn| {
            bn.iter(|| {
                black_box(b::encode(black_box(&i.values), &mut buf).unwrap());
            })
        });
        g.bench_function("diameter_crate_encode", |bn| {
            bn.iter(|| {
                their_encode(black_box(&i.values), &ts, &dict, &mut out);
                black_box(&out);
            })
        });
        g.finish();
    }
}

/// Dependent multiplies per operation of the `clock` row: 9,000 cycles on
/// x86-64, where a 64-bit multiply takes 3 cycles (`scripts/codec-ipc.sh`
/// divides 9,000 by the row's time to get the core's clock).
const CLOCK_MULS: u32 = 3000;

/// `CODEC_BENCH_OPS=<row>:<message>:<n>` runs one row `n` times on one
/// message and exits, for an instruction count under callgrind
/// (`scripts/codec-instructions.sh`): unlike time, the count does not move
/// with the load of a shared machine. Timed, as `scripts/codec-ipc.sh`
/// does, it gives cycles and instructions per cycle; its `clock` row (a
/// chain of dependent multiplies, the message ignored) gives the clock.
fn count_mode(spec: &str) {
    let mut it = spec.split(':');
    let (Some(row), Some(name), Some(n)) = (it.next(), it.next(), it.next()) else {
        panic!("CODEC_BENCH_OPS=<row>:<message>:<n>, not {spec:?}");
    };
    let n: u32 = n.parse().expect("CODEC_BENCH_OPS: n is a number");
    let input = inputs()
        .into_iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no message {name:?}"));
    let dict = their_dict();
    let ts = their_time(b::EVENT_NTP);
    let bytes = &input.bytes[..];
    let mut buf = vec![0u8; 8192];
    let mut out: Vec<u8> = Vec::with_capacity(8192);
    let mut chain = 3u64;
    for _ in 0..n {
        match row {
            "none" => {}
            "clock" => {
                for _ in 0..CLOCK_MULS {
                    chain = chain.wrapping_mul(chain);
                }
                chain = black_box(chain);
            }
            "tight_walk" => {
                black_box(b::tight_walk(black_box(bytes)));
            }
            "bare_walk" => {
                black_box(b::bare_walk(black_box(bytes)));
            }
            "ours_parse_only" => {
                black_box(b::parse_only(black_box(bytes)).unwrap());
            }
            "ours_parse_validate" => {
                black_box(b::parse_validate(black_box(bytes)).unwrap());
            }
            "ours_check_validate" => {
                black_box(b::check_validate(black_box(bytes)).unwrap());
            }
            "ours_full_decode" => {
                black_box(b::full_decode(black_box(bytes)).unwrap());
            }
            "ours_server_ccr" => {
                black_box(b::server_ccr(black_box(bytes)).unwrap());
            }
            "ours_server_acr" => {
                black_box(b::server_acr(black_box(bytes)).unwrap());
            }
            "compiled_acr" => {
                black_box(b::compiled::compiled_acr(black_box(bytes)).unwrap());
            }
            "ours_encode" => {
                black_box(b::encode(black_box(&input.values), &mut buf).unwrap());
            }
            "diameter_crate_decode" => {
                black_box(their_decode(black_box(bytes), &dict));
            }
            "diameter_crate_encode" => {
                their_encode(black_box(&input.values), &ts, &dict, &mut out);
                black_box(&out);
            }
            other => panic!("no row {other:?}"),
        }
    }
}

criterion_group!(benches, codec);

fn main() {
    if let Ok(spec) = std::env::var("CODEC_BENCH_OPS") {
        count_mode(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
