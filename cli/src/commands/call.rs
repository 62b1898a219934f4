//! `diameter call`: play the SIP-proxy side of a charged call
//! (SCENARIOS.md: prepaid, postpaid, accounting) over TCP or TLS (see
//! [`crate::tls`]), print the message ladder and a summary.
//!
//! The call is driven by diameter-tokio's [`Call`] (the diameter-cc client
//! session machines decide every message); this module only plays the
//! proxy's INVITE / 200 OK / BYE at the right times and formats what went
//! over the wire.

use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, ValueEnum};
use diameter_cc::client::accounting::{AccountingConfig, CallInfo, SipInfo};
use diameter_cc::client::postpaid::{PostpaidConfig, PostpaidEvent};
use diameter_cc::client::prepaid::{DenyReason, PrepaidConfig, PrepaidEvent, TerminateReason};
use diameter_cc::client::{Parties, PartyBuf};
use diameter_cc::endpoint::{EndpointConfig, SessionEvent};
use diameter_cc::session::{session_id, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::PeerConfig;
use diameter_tokio::{Authorization, Call, Direction, Limits, Node};
use serde_json::json;

use super::{runtime, say, Failure, Status};
use crate::ladder::Entry;
use crate::server::{self, identity, unix_now, ServerOptions};
use crate::tls::{self, ClientTlsArgs};

/// Which scenario of SCENARIOS.md to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// CCR-Initial at INVITE (the call waits for the grant), CCR-Update at
    /// answer, CCR-Termination at hangup or when the grant runs out.
    Prepaid,
    /// One CCR-Event at hangup with the call's duration.
    Postpaid,
    /// ACR START at answer, INTERIM as the server asks, STOP at hangup.
    Accounting,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Prepaid => "prepaid",
            Scenario::Postpaid => "postpaid",
            Scenario::Accounting => "accounting",
        }
    }
}

/// Arguments of `diameter call`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  diameter call --scenario prepaid --from 1001 --to 1002 --dur 67 --speed 20
  diameter call --scenario prepaid --from 1003 --dur 67 --speed 20   # 0.15 of credit: cut off
  diameter call --scenario accounting --dur 67 --speed 20 --json
  diameter call --scenario prepaid --peer 127.0.0.1:3868 --origin-host client.diameter.test \\
      --realm diameter.test --service-context voice@OsipsDiamCCR --dur 67
  diameter call --tls --scenario prepaid --dur 67 --speed 20        # over TLS
  diameter call --peer ocs.example.net:3868 --tls-ca ca.pem --scenario prepaid
  diameter call --peer 10.0.0.5:3868 --tls-ca ca.pem --tls-name ocs.example.net

Without --peer the built-in charging server runs in this process on a free
loopback port (a fresh demo database unless --db is given) and the call
goes to it over a real TCP connection; with --tls, over TLS, the server
holding a throw-away self-signed certificate made at start. With --peer,
TLS is on with --tls-ca FILE.pem (the CAs to trust); the peer's
certificate must be valid for --tls-name, or else the host of --peer (for
an IP address, as an IP subjectAltName).

Exit status: 0 the call was played (whatever the charging system decided:
the summary says), 2 it could not be (no connection, TLS handshake
failure, CEA rejection, no answer, bad database URL, bad certificate
file).")]
pub struct CallArgs {
    /// The scenario to play.
    #[arg(long, value_enum, default_value = "prepaid")]
    pub scenario: Scenario,
    /// The caller (Subscription-Id, User-Name, Calling-Party-Address).
    #[arg(long, default_value = "1001")]
    pub from: String,
    /// The callee (Called-Party-Address).
    #[arg(long, default_value = "1002")]
    pub to: String,
    /// Seconds from answer to hangup.
    #[arg(long, default_value_t = 67, value_name = "SECS")]
    pub dur: u32,
    /// The charging system to talk to; without it, the built-in server.
    #[arg(long, value_name = "HOST:PORT")]
    pub peer: Option<String>,
    /// Our Origin-Host.
    #[arg(long, default_value = "client.diameter.test")]
    pub origin_host: String,
    /// Our Origin-Realm, and the Destination-Realm of the requests.
    #[arg(long, default_value = "diameter.test")]
    pub realm: String,
    /// Destination-Host to send (lets the server send ASR/RAR back).
    #[arg(long, value_name = "HOST")]
    pub destination_host: Option<String>,
    /// Service-Context-Id of the credit-control requests.
    #[arg(long, default_value = "voice@OsipsDiamCCR")]
    pub service_context: String,
    /// Leave out the 3GPP Service-Information and the SIP accounting AVPs
    /// (for a peer without the TS 32.299 and SIP dictionaries, which
    /// would answer 5001 DIAMETER_AVP_UNSUPPORTED).
    #[arg(long)]
    pub no_service_information: bool,
    /// Play the call N times faster: a 67 s call takes 67/N s, and the
    /// messages say what they would in real time (our clock, and the
    /// built-in server's, run N times faster).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub speed: u32,
    /// Print one JSON object per line (each message, then the summary).
    #[arg(long)]
    pub json: bool,
    /// The built-in server's database (default: a fresh demo database in a
    /// temporary directory).
    #[arg(long, value_name = "URL", conflicts_with = "peer")]
    pub db: Option<String>,
    /// Seconds (real time) to wait for the connection, the CEA and each
    /// answer.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub timeout: u64,
    /// `debug`: print every message in full (to stderr) besides the ladder.
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    pub log: String,
    /// TLS.
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

/// Run `diameter call`.
pub fn run(args: &CallArgs) -> Result<Status, Failure> {
    runtime()?.block_on(call(args))
}

/// The call's clock: real time since the command started, times `speed`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) start: std::time::Instant,
    pub(crate) speed: u32,
}

impl Clock {
    fn secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * f64::from(self.speed)
    }
    /// Real time for `secs` on the call's clock.
    fn real(&self, secs: u32) -> Duration {
        Duration::from_secs_f64(f64::from(secs) / f64::from(self.speed))
    }
}

/// Why the call ended before its hangup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The prepaid session said to end the call.
    Reason(TerminateReason),
    /// Accounting cannot be delivered: stop the service.
    StopService,
    /// The session closed by itself.
    Closed,
}

/// How the call ended, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ended {
    Hangup,
    Denied(String),
    CutOff(Cut),
    Failed(String),
}

/// `HOST:PORT` to an address.
pub(crate) fn resolve(peer: &str) -> Result<SocketAddr, Failure> {
    peer.to_socket_addrs()
        .map_err(|e| Failure(format!("bad --peer {peer:?}: {e}")))?
        .next()
        .ok_or_else(|| Failure(format!("bad --peer {peer:?}: no address")))
}

/// "no peer opened: ADDR: why" (the address once), with a hint when the
/// cause is likely a TLS setting (`tls`: we connected with TLS).
pub(crate) fn connect_failure(e: &diameter_tokio::ConnectError, tls: bool) -> String {
    let parts: Vec<String> = e
        .targets
        .iter()
        .map(|(addr, why)| {
            let why = why.as_deref().unwrap_or("no answer in time");
            let prefix = format!("{addr}: ");
            let why = why.strip_prefix(&prefix).unwrap_or(why);
            let hint = if why.contains("CertificateRequired") {
                " (the peer wants a client certificate: give --tls-cert and --tls-key)"
            } else if !tls && why.contains("stream is not Diameter") {
                " (a TLS listener? then give --tls-ca)"
            } else {
                ""
            };
            format!("{addr}: {why}{hint}")
        })
        .collect();
    format!("no peer opened: {}", parts.join("; "))
}

fn cause_name(c: i32) -> &'static str {
    match c {
        1 => " DIAMETER_LOGOUT",
        4 => " DIAMETER_ADMINISTRATIVE",
        6 => " DIAMETER_AUTH_EXPIRED",
        _ => "",
    }
}

fn deny_text(r: DenyReason) -> String {
    match r {
        DenyReason::Result(rc) => match rc.rfc_name() {
            Some(n) => format!("Result-Code {} {n}", rc.get()),
            None => format!("Result-Code {}", rc.get()),
        },
        DenyReason::NoCredit => "no credit (Granted-Service-Unit CC-Time 0)".into(),
        DenyReason::NoTimeGranted => "no time granted".into(),
        DenyReason::Timeout => "no answer to the CCR-Initial in time".into(),
        other => format!("{other:?}"),
    }
}

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

async fn call(args: &CallArgs) -> Result<Status, Failure> {
    let speed = args.speed.max(1);
    let mut clock = Clock {
        start: std::time::Instant::now(),
        speed,
    };
    let timeout = Duration::from_secs(args.timeout.max(1));

    // The built-in server, unless told where to go.
    let mut _tmp = None;
    let (addr, mut builtin, tls) = match &args.peer {
        Some(p) => {
            let config = args.tls.peer_config()?;
            (resolve(p)?, None, args.tls.for_peer(config.as_ref(), p))
        }
        None => {
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
                instance: format!("call-{}", std::process::id()),
                large: false,
                ..ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)), &url)
            };
            let mut client_tls = None;
            if args.tls.enabled() {
                let (server, client) = tls::throwaway(&opts.origin_host)?;
                opts.tls = Some(server);
                client_tls = Some(client);
            }
            let srv = server::start(&opts).await?;
            let addr = srv.node.local_addrs()[0];
            (addr, Some(srv), client_tls)
        }
    };
    let before = match &mut builtin {
        Some(s) => s.db.account(&args.from)?,
        None => None,
    };

    // Session-Id: <Origin-Host>;<high>;<low> (RFC 6733 §8.8).
    let low = (std::process::id() << 8) ^ clock.start.elapsed().subsec_nanos();
    let sid = session_id(&args.origin_host, unix_now() as u32, low, None)
        .ok_or_else(|| Failure("Origin-Host too long for a Session-Id".into()))?;
    let sid = sid.as_str().to_string();

    // Our node: the SIP proxy's Diameter client.
    let mut peer = PeerConfig::new(identity(&args.origin_host, &args.realm)?, unix_now() as u32);
    // Waits and the watchdog (transport business, not the call's) stay in
    // real time whatever the speed.
    let scaled = timeout.saturating_mul(speed);
    peer.capabilities_timeout = scaled;
    peer.tw = peer.tw.saturating_mul(speed);
    let mut config = EndpointConfig::new(peer, WallClock::new(0));
    let bad = |e: diameter_core::peer::ConfigError| Failure(format!("bad setting: {e}"));
    match args.scenario {
        Scenario::Prepaid => {
            let mut c = PrepaidConfig::new(&args.realm, &args.service_context).map_err(bad)?;
            if let Some(h) = &args.destination_host {
                c = c.with_destination_host(h).map_err(bad)?;
            }
            c.tx = scaled;
            c.service_information = !args.no_service_information;
            config.prepaid = Some(c);
        }
        Scenario::Postpaid => {
            let mut c = PostpaidConfig::new(&args.realm, &args.service_context).map_err(bad)?;
            if let Some(h) = &args.destination_host {
                c.destination_host =
                    Some(diameter_core::peer::owned_text("Destination-Host", h).map_err(bad)?);
            }
            c.tx = scaled;
            c.service_information = !args.no_service_information;
            config.postpaid = Some(c);
        }
        Scenario::Accounting => {
            let mut c = AccountingConfig::new(&args.realm).map_err(bad)?;
            if let Some(h) = &args.destination_host {
                c.destination_host =
                    Some(diameter_core::peer::owned_text("Destination-Host", h).map_err(bad)?);
            }
            c.answer_timeout = scaled;
            config.accounting = Some(c);
        }
    }

    let entries: Arc<Mutex<Vec<Entry>>> = Arc::default();
    let json = args.json;
    let debug = args.log.eq_ignore_ascii_case("debug");
    if !json {
        let over = match &tls {
            Some(t) if builtin.is_some() => {
                format!(" over TLS (throw-away certificate for {})", t.name)
            }
            Some(t) => format!(" over TLS (certificate checked for {})", t.name),
            None => String::new(),
        };
        let to = match &builtin {
            Some(s) => format!(
                "the built-in server on {addr}{over} (database {})",
                s.db.url()
            ),
            None => format!("{addr}{over}"),
        };
        say(&format!(
            "{} call {} -> {}, {} s{}, to {to}",
            args.scenario.name(),
            args.from,
            args.to,
            args.dur,
            if speed > 1 {
                format!(" at speed {speed}")
            } else {
                String::new()
            }
        ));
    }
    let tap_entries = entries.clone();
    // The ladder's time 0: our first connection attempt.
    clock.start = std::time::Instant::now();
    let node = tls::client_builder(Node::builder(config), tls.as_ref())
        .connect_to(tls::target(addr, tls.as_ref()))
        .clock_speed(speed)
        .limits(Limits {
            connect_timeout: timeout,
            request_timeout: scaled,
            ..Limits::default()
        })
        .tap(move |dir, _, bytes| {
            let e = Entry::new(clock.secs(), dir == Direction::Out, bytes);
            say(&if json { e.json().to_string() } else { e.text() });
            if debug {
                let (tree, _) = crate::tree::render(bytes, &CreditControl, Default::default());
                eprint!("{tree}");
            }
            if let Ok(mut v) = tap_entries.lock() {
                v.push(e);
            }
        })
        .start_sized::<4, 16>()
        .await
        .map_err(|e| Failure(e.to_string()))?;
    if let Err(e) = node.wait_open(timeout + Duration::from_secs(1)).await {
        node.shutdown(Duration::from_millis(100)).await;
        return Err(Failure(connect_failure(&e, tls.is_some())));
    }

    let parties = Parties::new(&args.from, &args.to)
        .and_then(|p| {
            p.with_addresses(
                &format!("sip:{}@{}", args.from, args.realm),
                &format!("sip:{}@{}", args.to, args.realm),
            )
        })
        .map_err(bad)?;
    let progress = std::io::stderr().is_terminal() && !json;
    let mut granted = None;
    let mut answered_at = None;
    let mut hung_up_at = None;
    let ended = match args.scenario {
        Scenario::Prepaid => {
            let mut call = node.prepaid(&sid, parties).await?;
            match call.start().await? {
                Authorization::Denied(r) => Ended::Denied(deny_text(r)),
                Authorization::Allowed { seconds } => {
                    granted = seconds;
                    call.answered().await?;
                    answered_at = Some(clock.secs());
                    let e = talk(&mut call, clock, args.dur, progress).await;
                    hung_up_at = Some(clock.secs());
                    finish(&mut call, e, timeout).await
                }
            }
        }
        Scenario::Postpaid => {
            let mut call = node.postpaid(&sid, parties).await?;
            call.start().await?;
            call.answered().await?;
            answered_at = Some(clock.secs());
            let e = talk(&mut call, clock, args.dur, progress).await;
            hung_up_at = Some(clock.secs());
            finish(&mut call, e, timeout).await
        }
        Scenario::Accounting => {
            let sid_buf = diameter_cc::session::session_id_from(&sid)
                .ok_or_else(|| Failure("bad Session-Id".into()))?;
            let mut info = CallInfo::new(sid_buf);
            info.user_name = PartyBuf::try_from(args.from.as_str()).ok();
            if !args.no_service_information {
                let mut sip = SipInfo::new();
                sip.response_code = Some(200);
                info.sip = Some(sip);
            }
            let mut call = node.accounting(info).await?;
            call.start().await?;
            call.answered().await?;
            answered_at = Some(clock.secs());
            let e = talk(&mut call, clock, args.dur, progress).await;
            hung_up_at = Some(clock.secs());
            finish(&mut call, e, timeout).await
        }
    };
    node.shutdown(Duration::from_secs(2)).await;

    // What the charging system did, from its database (built-in server).
    let mut charged = None;
    let mut after = None;
    let mut stored = None;
    if let Some(s) = &mut builtin {
        charged = s.db.call(&sid)?.map(|c| c.charged);
        after = s.db.account(&args.from)?;
        stored = Some(s.db.records(&sid)?.len());
        s.node.shutdown(Duration::from_secs(1)).await;
    }

    let entries = entries.lock().map(|v| v.clone()).unwrap_or_default();
    let ccrs = || {
        entries
            .iter()
            .filter(|e| e.out && e.request && e.command == "CCR")
    };
    let used: Option<u32> = match args.scenario {
        Scenario::Accounting => match (answered_at, hung_up_at) {
            (Some(a), Some(h)) => Some(((h - a) + 0.5) as u32),
            _ => None,
        },
        _ => {
            let mut any = false;
            let sum = ccrs()
                .filter_map(|e| e.used)
                .inspect(|_| any = true)
                .sum::<u32>();
            any.then_some(sum)
        }
    };
    let cause = ccrs().filter_map(|e| e.termination_cause).next_back();
    let acknowledged: Vec<String> = entries
        .iter()
        .filter(|e| !e.out && e.command == "ACA" && e.result_code.is_some_and(|rc| rc / 1000 == 2))
        .filter_map(|e| e.record_type)
        .map(|t| match t {
            1 => "EVENT".to_string(),
            2 => "START".to_string(),
            3 => "INTERIM".to_string(),
            4 => "STOP".to_string(),
            n => n.to_string(),
        })
        .collect();
    let last_rc = entries
        .iter()
        .rev()
        .find(|e| !e.out && (e.command == "CCA" || e.command == "ACA"))
        .and_then(|e| e.result_code);
    let asr = entries.iter().any(|e| !e.out && e.command == "ASR");
    let why = match &ended {
        Ended::Hangup => match cause {
            Some(c) => format!("hangup (Termination-Cause {c}{})", cause_name(c)),
            None => "hangup".into(),
        },
        Ended::Denied(r) => format!("denied at INVITE: {r}"),
        Ended::CutOff(Cut::Reason(TerminateReason::CreditExhausted)) => format!(
            "cut off: credit exhausted after the {} s granted (Termination-Cause {}{})",
            granted.unwrap_or(0),
            cause.unwrap_or(6),
            cause_name(cause.unwrap_or(6))
        ),
        Ended::CutOff(Cut::Reason(TerminateReason::Aborted)) => {
            "cut off by the server: Abort-Session-Request".into()
        }
        Ended::CutOff(Cut::Reason(TerminateReason::Refused(rc))) => {
            format!("cut off: the server refused an update ({rc})")
        }
        Ended::CutOff(Cut::Reason(TerminateReason::Timeout)) => {
            "cut off: no answer in time (Tx)".into()
        }
        Ended::CutOff(Cut::Reason(r)) => format!("cut off: {r:?}"),
        Ended::CutOff(Cut::StopService) => "cut off: accounting cannot be delivered".into(),
        Ended::CutOff(Cut::Closed) => "cut off: the session closed".into(),
        Ended::Failed(e) => format!("failed: {e}"),
    };

    if json {
        let summary = json!({
            "event": "summary",
            "scenario": args.scenario.name(),
            "tls": tls.is_some(),
            "session_id": sid,
            "from": args.from,
            "to": args.to,
            "granted": granted,
            "used": used,
            "charged": charged,
            "balance_before": before.as_ref().map(|a| a.balance),
            "balance_after": after.as_ref().map(|a| a.balance),
            "records_acknowledged": acknowledged,
            "records_stored": stored,
            "result_code": last_rc,
            "termination_cause": cause,
            "asr": asr,
            "ended": match &ended {
                Ended::Hangup => "hangup",
                Ended::Denied(_) => "denied",
                Ended::CutOff(Cut::Reason(TerminateReason::Aborted)) => "asr",
                Ended::CutOff(Cut::Reason(TerminateReason::CreditExhausted)) => "credit-exhausted",
                Ended::CutOff(_) => "cut-off",
                Ended::Failed(_) => "failed",
            },
            "why": why,
        });
        say(&summary.to_string());
    } else {
        say(&format!(
            "summary of {} ({}{})",
            sid,
            args.scenario.name(),
            if tls.is_some() { ", over TLS" } else { "" }
        ));
        if args.scenario == Scenario::Prepaid {
            say(&format!(
                "  granted  {}",
                granted.map_or("-".into(), |g| format!("{g} s"))
            ));
        }
        say(&format!(
            "  used     {}",
            used.map_or("-".into(), |u| format!("{u} s"))
        ));
        match (charged, &before, &after) {
            _ if args.scenario == Scenario::Accounting => {}
            (c, Some(b), Some(a)) => say(&format!(
                "  charged  {} (balance of {}: {} -> {})",
                money(c.unwrap_or(0)),
                args.from,
                money(b.balance),
                money(a.balance)
            )),
            _ if builtin.is_some() => say(&format!(
                "  charged  - (no subscriber {} in the database)",
                args.from
            )),
            _ => say("  charged  (by the peer; see its records)"),
        }
        if args.scenario == Scenario::Accounting {
            say(&format!(
                "  records  {} acknowledged ({}){}",
                acknowledged.len(),
                acknowledged.join(", "),
                stored.map_or(String::new(), |n| format!(", {n} stored"))
            ));
        }
        if let Some(rc) = last_rc {
            say(&format!("  result   {rc} (last answer)"));
        }
        say(&format!("  ended    {why}"));
    }
    match ended {
        Ended::Failed(e) => Err(Failure(e)),
        _ => Ok(Status::Ok),
    }
}

/// The call is up: wait `dur` seconds on the call's clock, unless the
/// session says to end the call first (grant used up, ASR...).
pub(crate) async fn talk(call: &mut Call, clock: Clock, dur: u32, progress: bool) -> Option<Cut> {
    let until = tokio::time::Instant::now() + clock.real(dur);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(until) => return None,
            e = call.next_event() => match e {
                Some(SessionEvent::Prepaid(PrepaidEvent::TerminateCall(r))) => {
                    return Some(Cut::Reason(r))
                }
                Some(SessionEvent::Accounting(
                    diameter_cc::client::accounting::AccountingEvent::StopService,
                )) => return Some(Cut::StopService),
                Some(SessionEvent::Closed) | None => return Some(Cut::Closed),
                Some(_) => {}
            },
            _ = tick.tick(), if progress => {
                eprint!("\r  ... call up {:.0} s of {dur} s ", clock.secs());
            }
        }
    }
}

/// Hang up (or, when the session ended the call, let its CCR-T go) and
/// wait for the session to close.
pub(crate) async fn finish(call: &mut Call, cut: Option<Cut>, timeout: Duration) -> Ended {
    let wait = async {
        match cut {
            None | Some(Cut::StopService) => match call.hangup(TerminationCause::Logout).await {
                Ok(events) => {
                    for e in events {
                        match e {
                            SessionEvent::Postpaid(PostpaidEvent::Buffered) => {
                                return Ended::Failed("the CCR-Event got no answer".into())
                            }
                            SessionEvent::Prepaid(PrepaidEvent::TerminateCall(r)) => {
                                return Ended::CutOff(Cut::Reason(r))
                            }
                            _ => {}
                        }
                    }
                    match cut {
                        Some(c) => Ended::CutOff(c),
                        None => Ended::Hangup,
                    }
                }
                Err(e) => Ended::Failed(e.to_string()),
            },
            Some(r) => {
                while let Some(e) = call.next_event().await {
                    if e == SessionEvent::Closed {
                        break;
                    }
                }
                Ended::CutOff(r)
            }
        }
    };
    match tokio::time::timeout(timeout * 2, wait).await {
        Ok(e) => e,
        Err(_) => Ended::Failed(format!("no answer within {} s", timeout.as_secs() * 2)),
    }
}
