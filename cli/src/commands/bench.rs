//! `diameter bench`: many calls at once against a charging system (or the
//! built-in server): a progress bar while they run, then requests per
//! second, answers by Result-Code, latency percentiles and errors.
//!
//! Each call is a diameter-tokio [`diameter_tokio::Call`] played like
//! `diameter call` plays one; latencies are measured on the wire (the
//! node's tap), from a request's departure to its answer's arrival.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use diameter_cc::client::accounting::{AccountingConfig, CallInfo};
use diameter_cc::client::postpaid::PostpaidConfig;
use diameter_cc::client::prepaid::PrepaidConfig;
use diameter_cc::client::{Parties, PartyBuf};
use diameter_cc::endpoint::EndpointConfig;
use diameter_cc::session::{session_id, session_id_from, WallClock};
use diameter_core::peer::PeerConfig;
use diameter_core::Message;
use diameter_tokio::{Authorization, Direction, Limits, Node};
use hdrhistogram::Histogram;
use serde_json::json;

use super::call::{connect_failure, finish, resolve, talk, Cut, Ended, Scenario};
use super::{runtime, say, Failure, Status};
use crate::server::{self, identity, unix_now, ServerOptions};
use crate::tls::{self, ClientTls, ClientTlsArgs};

/// Arguments of `diameter bench`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  diameter bench --sessions 1000 --rate 200                     # the built-in server
  diameter bench --sessions 5000 --rate 0 --balance 100000000   # never short of credit
  diameter bench --peer 127.0.0.1:3868 --sessions 10000 --rate 500 --scenario accounting
  diameter bench --peer 127.0.0.1:3868 --peer 127.0.0.1:3869 --sessions 1000 --rate 0 --json
  diameter bench --tls --sessions 1000 --rate 200               # the built-in server, TLS
  diameter bench --peer ocs.example.net:3868 --tls-ca ca.pem --sessions 1000

With several --peer, calls are spread over them in turn (one connection
each; with --tls-ca, TLS to each, checked for --tls-name or its host).
--rate 0 starts every call at once. Exit status: 0 every call was
played (whatever was granted), 1 some calls failed (no answer...), 2 the
benchmark could not run.")]
pub struct BenchArgs {
    /// A charging system to load (repeat for several); without it, the
    /// built-in server in this process.
    #[arg(long, value_name = "HOST:PORT")]
    pub peer: Vec<String>,
    /// How many calls.
    #[arg(long, default_value_t = 1000)]
    pub sessions: u32,
    /// Calls started per second (0: all at once).
    #[arg(long, default_value_t = 100)]
    pub rate: u32,
    /// The scenario of every call.
    #[arg(long, value_enum, default_value = "prepaid")]
    pub scenario: Scenario,
    /// Seconds from answer to hangup (on the calls' clock).
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub dur: u32,
    /// Run the calls' clock N times faster (see `call --speed`).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub speed: u32,
    /// The caller of every call.
    #[arg(long, default_value = "1001")]
    pub from: String,
    /// The callee.
    #[arg(long, default_value = "1002")]
    pub to: String,
    /// CC-Time asked for in each CCR-Initial (prepaid).
    #[arg(long, default_value_t = 10_800, value_name = "SECS")]
    pub requested: u32,
    /// Our Origin-Host.
    #[arg(long, default_value = "client.diameter.test")]
    pub origin_host: String,
    /// Our Origin-Realm and the Destination-Realm.
    #[arg(long, default_value = "diameter.test")]
    pub realm: String,
    /// Service-Context-Id.
    #[arg(long, default_value = "voice@OsipsDiamCCR")]
    pub service_context: String,
    /// Leave out the 3GPP Service-Information.
    #[arg(long)]
    pub no_service_information: bool,
    /// The built-in server's database (default: a fresh demo database).
    #[arg(long, value_name = "URL", conflicts_with = "peer")]
    pub db: Option<String>,
    /// Built-in server: set the caller's balance first (minor units, on
    /// the demo tariff), e.g. 100000000 for a load that is never refused
    /// for credit.
    #[arg(long, value_name = "CENTS", conflicts_with = "peer")]
    pub balance: Option<i64>,
    /// Print the results as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for connections and for each answer.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub timeout: u64,
    /// TLS (as `diameter call`).
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

/// Run `diameter bench`.
pub fn run(args: &BenchArgs) -> Result<Status, Failure> {
    runtime()?.block_on(bench(args))
}

/// What the taps of every node gather.
#[derive(Default)]
struct Wire {
    sent: Mutex<HashMap<(usize, u32), Instant>>,
    latency: Mutex<Option<Histogram<u64>>>,
    by_result: Mutex<BTreeMap<u32, u64>>,
    requests: AtomicU64,
    answers: AtomicU64,
}

impl Wire {
    fn tap(&self, node: usize, dir: Direction, bytes: &[u8]) {
        let Ok(m) = Message::new_checked(bytes) else {
            return;
        };
        // Base protocol (CER, DWR, DPR) is not the load.
        if m.application_id().0 == 0 {
            return;
        }
        let key = (node, m.hop_by_hop());
        match (dir, m.is_request()) {
            (Direction::Out, true) => {
                self.requests.fetch_add(1, Relaxed);
                if let Ok(mut s) = self.sent.lock() {
                    s.insert(key, Instant::now());
                }
            }
            (Direction::In, false) => {
                self.answers.fetch_add(1, Relaxed);
                let sent = self.sent.lock().ok().and_then(|mut s| s.remove(&key));
                if let (Some(t), Ok(mut h)) = (sent, self.latency.lock()) {
                    if let Some(h) = h.as_mut() {
                        let _ = h.record(t.elapsed().as_micros() as u64);
                    }
                }
                let rc = m
                    .get(&diameter_core::dict::base::RESULT_CODE)
                    .ok()
                    .flatten()
                    .unwrap_or(0);
                if let Ok(mut b) = self.by_result.lock() {
                    *b.entry(rc).or_insert(0) += 1;
                }
            }
            _ => {}
        }
    }
}

/// How one call went.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Outcome {
    Completed,
    Denied,
    CutOff,
    Failed(String),
}

async fn bench(args: &BenchArgs) -> Result<Status, Failure> {
    let speed = args.speed.max(1);
    let timeout = Duration::from_secs(args.timeout.max(1));
    let scaled = timeout.saturating_mul(speed);

    let mut _tmp = None;
    let mut builtin = None;
    let (addrs, tls): (Vec<SocketAddr>, Vec<Option<ClientTls>>) = if args.peer.is_empty() {
        let url = match &args.db {
            Some(u) => u.clone(),
            None => {
                let dir = tempfile::tempdir()
                    .map_err(|e| Failure(format!("cannot make a temporary directory: {e}")))?;
                let url = format!("sqlite:{}", dir.path().join("charging.db").display());
                _tmp = Some(dir);
                url
            }
        };
        let mut opts = ServerOptions {
            speed,
            // Unique per process: a server starting releases the reservations
            // its instance name holds, so two runs on one database must not share it.
            instance: format!("bench-{}", std::process::id()),
            ..ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)), &url)
        };
        let mut client_tls = None;
        if args.tls.enabled() {
            let (server, client) = tls::throwaway(&opts.origin_host)?;
            opts.tls = Some(server);
            client_tls = Some(client);
        }
        let mut srv = server::start(&opts).await?;
        if let Some(b) = args.balance {
            srv.db.put_subscriber(&args.from, "default", b)?;
        }
        let a = srv.node.local_addrs()[0];
        builtin = Some(srv);
        (vec![a], vec![client_tls])
    } else {
        let config = args.tls.peer_config()?;
        let addrs = args
            .peer
            .iter()
            .map(|p| resolve(p))
            .collect::<Result<_, _>>()?;
        let tls = args
            .peer
            .iter()
            .map(|p| args.tls.for_peer(config.as_ref(), p))
            .collect();
        (addrs, tls)
    };

    let wire = Arc::new(Wire {
        latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).ok()),
        ..Wire::default()
    });
    let bad = |e: diameter_core::peer::ConfigError| Failure(format!("bad setting: {e}"));
    let mut nodes = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let mut peer =
            PeerConfig::new(identity(&args.origin_host, &args.realm)?, unix_now() as u32);
        peer.capabilities_timeout = scaled;
        peer.tw = peer.tw.saturating_mul(speed);
        let mut config = EndpointConfig::new(peer, WallClock::new(0));
        match args.scenario {
            Scenario::Prepaid => {
                let mut c = PrepaidConfig::new(&args.realm, &args.service_context).map_err(bad)?;
                c.tx = scaled;
                c.requested_time = args.requested;
                c.service_information = !args.no_service_information;
                config.prepaid = Some(c);
            }
            Scenario::Postpaid => {
                let mut c = PostpaidConfig::new(&args.realm, &args.service_context).map_err(bad)?;
                c.tx = scaled;
                c.service_information = !args.no_service_information;
                config.postpaid = Some(c);
            }
            Scenario::Accounting => {
                let mut c = AccountingConfig::new(&args.realm).map_err(bad)?;
                c.answer_timeout = scaled;
                config.accounting = Some(c);
            }
        }
        let w = wire.clone();
        let node = tls::client_builder(Node::builder(config), tls[i].as_ref())
            .connect_to(tls::target(*addr, tls[i].as_ref()))
            .clock_speed(speed)
            .limits(Limits {
                connect_timeout: timeout,
                request_timeout: scaled,
                ..Limits::default()
            })
            .tap(move |dir, _, bytes| w.tap(i, dir, bytes))
            .start_sized::<4, 4096>()
            .await
            .map_err(|e| Failure(e.to_string()))?;
        if let Err(e) = node.wait_open(timeout + Duration::from_secs(1)).await {
            return Err(Failure(connect_failure(&e, tls[i].is_some())));
        }
        nodes.push(node);
    }

    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(u64::from(args.sessions));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} calls {per_sec} {msg}",
        ) {
            b.set_style(style.progress_chars("=> "));
        }
        b
    };
    let started = Instant::now();
    let unix = unix_now() as u32;
    let tag = format!("bench-{}", std::process::id());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..args.sessions {
        let node = nodes[i as usize % nodes.len()].clone();
        let at = if args.rate == 0 {
            started
        } else {
            started + Duration::from_secs_f64(f64::from(i) / f64::from(args.rate))
        };
        // The process id in the optional part: two runs started in the
        // same second with one Origin-Host must not share Session-Ids (the
        // server would take the second run's debits for repeats).
        let sid = session_id(&args.origin_host, unix, i, Some(&tag))
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let parties = Parties::new(&args.from, &args.to).map_err(bad)?;
        let (scenario, dur, from) = (args.scenario, args.dur, args.from.clone());
        let bar = bar.clone();
        tasks.spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let o = one_call(&node, scenario, &sid, parties, &from, dur, speed, timeout).await;
            bar.inc(1);
            o
        });
    }
    let mut outcomes: BTreeMap<Outcome, u64> = BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        let o = r.unwrap_or_else(|e| Outcome::Failed(format!("task: {e}")));
        *outcomes.entry(o).or_insert(0) += 1;
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    for n in &nodes {
        n.shutdown(Duration::from_secs(2)).await;
    }
    if let Some(s) = &builtin {
        s.node.shutdown(Duration::from_secs(1)).await;
    }

    let requests = wire.requests.load(Relaxed);
    let answers = wire.answers.load(Relaxed);
    let rps = answers as f64 / elapsed.as_secs_f64().max(1e-9);
    let by_result = wire.by_result.lock().map(|m| m.clone()).unwrap_or_default();
    let pct = |q: f64| -> f64 {
        wire.latency
            .lock()
            .ok()
            .and_then(|h| h.as_ref().map(|h| h.value_at_quantile(q) as f64 / 1000.0))
            .unwrap_or(0.0)
    };
    let (p50, p99, p999) = (pct(0.5), pct(0.99), pct(0.999));
    let count = |o: &Outcome| outcomes.get(o).copied().unwrap_or(0);
    let failed: u64 = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, Outcome::Failed(_)))
        .map(|(_, n)| n)
        .sum();
    let errors: BTreeMap<String, u64> = outcomes
        .iter()
        .filter_map(|(o, n)| match o {
            Outcome::Failed(e) => Some((e.clone(), *n)),
            _ => None,
        })
        .collect();
    if args.json {
        let v = json!({
            "scenario": match args.scenario {
                Scenario::Prepaid => "prepaid",
                Scenario::Postpaid => "postpaid",
                Scenario::Accounting => "accounting",
            },
            "sessions": args.sessions,
            "peers": addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "seconds": elapsed.as_secs_f64(),
            "requests": requests,
            "answers": answers,
            "answers_per_second": rps,
            "answers_by_result_code": by_result.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "latency_ms": { "p50": p50, "p99": p99, "p99.9": p999 },
            "calls": {
                "completed": count(&Outcome::Completed),
                "denied": count(&Outcome::Denied),
                "cut_off": count(&Outcome::CutOff),
                "failed": failed,
            },
            "errors": errors,
        });
        say(&v.to_string());
    } else {
        say(&format!(
            "{} {} calls over {} peer(s) in {:.2} s",
            args.sessions,
            match args.scenario {
                Scenario::Prepaid => "prepaid",
                Scenario::Postpaid => "postpaid",
                Scenario::Accounting => "accounting",
            },
            addrs.len(),
            elapsed.as_secs_f64()
        ));
        say(&format!(
            "  requests   {requests} sent, {answers} answered, {rps:.0} answers/s"
        ));
        let codes: Vec<String> = by_result.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        say(&format!("  answers    {}", codes.join(", ")));
        say(&format!(
            "  latency    p50 {p50:.3} ms, p99 {p99:.3} ms, p99.9 {p999:.3} ms"
        ));
        say(&format!(
            "  calls      {} completed, {} denied, {} cut off, {failed} failed",
            count(&Outcome::Completed),
            count(&Outcome::Denied),
            count(&Outcome::CutOff)
        ));
        for (e, n) in &errors {
            say(&format!("  error      {n} x {e}"));
        }
    }
    Ok(if failed == 0 {
        Status::Ok
    } else {
        Status::Invalid
    })
}

#[allow(clippy::too_many_arguments)]
async fn one_call(
    node: &Node,
    scenario: Scenario,
    sid: &str,
    parties: Parties,
    from: &str,
    dur: u32,
    speed: u32,
    timeout: Duration,
) -> Outcome {
    let clock = super::call::Clock {
        start: Instant::now(),
        speed,
    };
    let ended = async {
        let mut call = match scenario {
            Scenario::Prepaid => node.prepaid(sid, parties).await?,
            Scenario::Postpaid => node.postpaid(sid, parties).await?,
            Scenario::Accounting => {
                let id = session_id_from(sid).ok_or_else(|| Failure("bad Session-Id".into()))?;
                let mut info = CallInfo::new(id);
                info.user_name = PartyBuf::try_from(from).ok();
                node.accounting(info).await?
            }
        };
        if let Authorization::Denied(_) = call.start().await? {
            return Ok::<Ended, Failure>(Ended::Denied(String::new()));
        }
        call.answered().await?;
        let cut = talk(&mut call, clock, dur, false).await;
        Ok(finish(&mut call, cut, timeout).await)
    };
    match ended.await {
        Ok(Ended::Hangup) => Outcome::Completed,
        Ok(Ended::Denied(_)) => Outcome::Denied,
        Ok(Ended::CutOff(Cut::Closed)) => Outcome::Failed("the session closed".into()),
        Ok(Ended::CutOff(_)) => Outcome::CutOff,
        Ok(Ended::Failed(e)) => Outcome::Failed(e),
        Err(e) => Outcome::Failed(e.0),
    }
}
