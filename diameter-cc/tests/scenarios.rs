//! The SCENARIOS.md flows, end to end: a SIP proxy's endpoint and a
//! charging server's endpoint joined by the simulator, no hand-written
//! header bytes anywhere.

use std::time::Duration;

use diameter_cc::client::accounting::{AccountingEvent, CallInfo};
use diameter_cc::client::postpaid::PostpaidEvent;
use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::dict::{self, CcRequestType};
use diameter_cc::endpoint::{Event, SessionEvent, SessionHandle};
use diameter_cc::session::session_id_from;
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, AccountingRecordType, TerminationCause};
use diameter_core::peer::Role;
use diameter_core::Message;
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::{Net, NodeId};

type C = Client<2, 16>;
type S = Server<2, 16>;

struct World {
    net: Net,
    client: NodeId,
    server: NodeId,
}

fn world() -> World {
    let mut net = Net::new(1);
    let server = net.add(fixtures::server::<2, 16>(fixtures::ledger()));
    let client = net.add(fixtures::client::<2, 16>());
    let peer = net
        .node::<C>(client)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(client, peer, server);
    let now = net.now();
    net.node::<C>(client).start(now);
    net.run_for(Duration::from_millis(100));
    assert!(net.node::<C>(client).peer(peer).unwrap().is_open());
    World {
        net,
        client,
        server,
    }
}

impl World {
    fn c(&mut self) -> &mut C {
        self.net.node::<C>(self.client)
    }
    fn s(&mut self) -> &mut S {
        self.net.node::<S>(self.server)
    }
    fn session_events(&self, h: SessionHandle) -> Vec<SessionEvent> {
        self.net
            .events_of(self.client)
            .filter_map(|e| match e {
                Event::Session { session, event } if *session == h => Some(*event),
                _ => None,
            })
            .collect()
    }
    /// The application messages on the wire, as (command, request?,
    /// CC-Request-Type or Accounting-Record-Type, Result-Code).
    fn ladder(&self) -> Vec<(u32, bool, Option<i32>, Option<u32>)> {
        self.net
            .frames
            .iter()
            .filter_map(|f| {
                let m = Message::parse_with(&f.bytes, &CreditControl).ok()?;
                let code = m.command_code().0;
                if code < 260 || code == 280 || code == 282 {
                    return None;
                }
                let t = m
                    .get(&dict::CC_REQUEST_TYPE)
                    .ok()
                    .flatten()
                    .map(i32::from)
                    .or(m
                        .get(&base::ACCOUNTING_RECORD_TYPE)
                        .ok()
                        .flatten()
                        .map(i32::from));
                let rc = m.get(&base::RESULT_CODE).ok().flatten();
                Some((code, m.is_request(), t, rc))
            })
            .collect()
    }
}

#[test]
fn prepaid_call_is_charged_through_two_endpoints() {
    let mut w = world();
    let now = w.net.now();
    let call = w
        .c()
        .open_prepaid(now, "sip-call-0001@proxy", fixtures::parties())
        .unwrap();
    w.c().call_setup(now, call).unwrap();
    w.net.run_for(Duration::from_secs(3));
    assert_eq!(
        w.session_events(call),
        [SessionEvent::Prepaid(PrepaidEvent::Allowed {
            seconds: Some(3600)
        })]
    );
    let now = w.net.now();
    w.c().call_answered(now, call).unwrap();
    w.net.run_for(Duration::from_secs(67));
    let now = w.net.now();
    w.c()
        .call_ended(now, call, TerminationCause::Logout)
        .unwrap();
    w.net.run_for(Duration::from_secs(1));
    let ev = w.session_events(call);
    assert_eq!(
        &ev[1..],
        [
            SessionEvent::Prepaid(PrepaidEvent::Finished),
            SessionEvent::Closed
        ]
    );
    let i = CcRequestType::Initial.into();
    let u = CcRequestType::Update.into();
    let t = CcRequestType::Termination.into();
    assert_eq!(
        w.ladder(),
        [
            (272, true, Some(i), None),
            (272, false, Some(i), Some(2001)),
            (272, true, Some(u), None),
            (272, false, Some(u), Some(2001)),
            (272, true, Some(t), None),
            (272, false, Some(t), Some(2001)),
        ]
    );
    let ledger = w.s().credit_control_server().unwrap().rating().clone();
    assert_eq!(ledger.debited("sip-call-0001@proxy"), 67);
    assert_eq!(ledger.balances["1001"], 3600 - 67);
    assert!(ledger.reserved.is_empty(), "reservation released");
    assert_eq!(w.c().session_count(), 0);
}

#[test]
fn postpaid_call_is_charged_with_one_event() {
    let mut w = world();
    let now = w.net.now();
    let call = w
        .c()
        .open_postpaid(now, "sip-call-0002@proxy", fixtures::parties())
        .unwrap();
    w.c().call_setup(now, call).unwrap();
    w.c().call_answered(now, call).unwrap();
    w.net.run_for(Duration::from_secs(42));
    let now = w.net.now();
    w.c()
        .call_ended(now, call, TerminationCause::Logout)
        .unwrap();
    w.net.run_for(Duration::from_secs(1));
    assert_eq!(
        w.session_events(call),
        [
            SessionEvent::Postpaid(PostpaidEvent::Charged(diameter_core::ResultCode::SUCCESS)),
            SessionEvent::Postpaid(PostpaidEvent::Finished),
            SessionEvent::Closed
        ]
    );
    let e = CcRequestType::Event.into();
    assert_eq!(
        w.ladder(),
        [
            (272, true, Some(e), None),
            (272, false, Some(e), Some(2001))
        ]
    );
    let ledger = w.s().credit_control_server().unwrap().rating().clone();
    assert_eq!(ledger.debited("sip-call-0002@proxy"), 42);
}

#[test]
fn accounting_start_interim_stop_are_each_stored_once() {
    let mut w = world();
    let now = w.net.now();
    let mut info = CallInfo::new(session_id_from("sip-call-0003@proxy").unwrap());
    info.user_name = Some("1001".try_into().unwrap());
    w.c().open_accounting(now, info).unwrap();
    let h = w.c().find_session("sip-call-0003@proxy").unwrap();
    w.c().call_answered(now, h).unwrap();
    w.net.run_for(Duration::from_secs(1));
    w.net.run_for(Duration::from_secs(10));
    let now = w.net.now();
    w.c().call_ended(now, h, TerminationCause::Logout).unwrap();
    w.net.run_for(Duration::from_secs(1));
    let acked: Vec<_> = w
        .session_events(h)
        .into_iter()
        .filter_map(|e| match e {
            SessionEvent::Accounting(AccountingEvent::RecordAcknowledged {
                number,
                record_type,
            }) => Some((number, record_type)),
            _ => None,
        })
        .collect();
    assert_eq!(
        acked,
        [
            (0, AccountingRecordType::StartRecord),
            (1, AccountingRecordType::StopRecord)
        ]
    );
    let stored = w.s().accounting_server().unwrap().sink().stored.clone();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|r| r.session_id == "sip-call-0003@proxy"));
}
