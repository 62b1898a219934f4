//! A whole accounting session (START, two INTERIMs, STOP; RFC 6733 §9.2)
//! through the client and the server machines on stack buffers makes no
//! heap allocation.

mod acct;

use acct::*;
use diameter_cc::client::accounting::{AccountingClient, ClientState};
use diameter_cc::msg::Acr;
use diameter_cc::server::accounting::{
    AccountingRecord, AccountingServer, AccountingSink, AcctServerSession, SinkError,
};
use diameter_cc::session::{Ctx, Machine};
use diameter_cc::CreditControl;
use diameter_core::dict::base::AccountingRecordType;
use diameter_core::time::Instant;
use diameter_core::Message;
use diameter_sim::alloc::{allocations, assert_counting};
use std::hint::black_box;

use AccountingRecordType::{InterimRecord, StartRecord, StopRecord};

#[global_allocator]
static ALLOC: diameter_sim::alloc::CountingAlloc = diameter_sim::alloc::CountingAlloc;

/// (type, number, Sip-Call-Duration) of each record stored.
type Kinds = [Option<(AccountingRecordType, u32, u32)>; 8];

/// A sink with fixed storage.
#[derive(Default)]
struct ArraySink {
    kinds: Kinds,
    n: usize,
}

impl AccountingSink for ArraySink {
    fn record(&mut self, r: &AccountingRecord<'_>) -> Result<(), SinkError> {
        let slot = self.kinds.get_mut(self.n).ok_or(SinkError::OutOfSpace)?;
        *slot = Some((r.record_type, r.number, r.sip_call_duration.unwrap_or(0)));
        self.n += 1;
        Ok(())
    }
}

/// START, two INTERIMs, STOP through client and server on stack buffers,
/// the identifiers written as a peer writes them, then the server session's
/// duplicate window; returns what the sink stored, the client's state and
/// whether the server session closed.
fn full_session_on_the_stack() -> (Kinds, ClientState, bool) {
    let cnode = client_node();
    let snode = server_node();
    let mut cfg = client_config();
    let mut client: AccountingClient<4> = AccountingClient::new(call_info());
    let mut server = AccountingServer::new(server_config(), ArraySink::default());
    let mut session: Option<AcctServerSession> = None;
    let mut acr = [0u8; 1024];
    let mut aca = [0u8; 1024];
    let mut ids = 100u32;
    let mut exchange = |client: &mut AccountingClient<4>,
                        session: &mut Option<AcctServerSession>,
                        cfg: &mut _,
                        now: Instant| {
        while let Some(t) = client.poll_transmit(Ctx::new(&cnode, cfg), now, &mut acr) {
            let t = t.unwrap();
            assert_eq!(t.end_to_end, None, "nothing lost: no retransmission");
            ids += 1;
            acr[12..16].copy_from_slice(&ids.to_be_bytes());
            acr[16..20].copy_from_slice(&ids.to_be_bytes());
            let req = Message::new_checked(&acr[..t.len])
                .and_then(|m| m.validated(&CreditControl))
                .unwrap();
            let len = match session {
                Some(s) => {
                    let shared: &mut AccountingServer<dyn AccountingSink> = &mut server;
                    s.handle_request(Ctx::new(&snode, shared), now, &req, false, &mut aca)
                }
                None => {
                    let view = Acr::decode(&req).unwrap();
                    let (s, len) = server.handle_new(&snode, now, &req, &view, &mut aca);
                    *session = s;
                    len
                }
            }
            .unwrap();
            let a = Message::new_checked(&aca[..len])
                .and_then(|m| m.validated(&CreditControl))
                .unwrap();
            client.handle_answer(Ctx::new(&cnode, cfg), now, t.request, &a);
            while client.poll_event().is_some() {}
        }
    };
    client
        .call_answered(Ctx::new(&cnode, &mut cfg), Instant::ZERO)
        .unwrap();
    exchange(&mut client, &mut session, &mut cfg, Instant::ZERO);
    while let Some(t) = client.poll_timeout() {
        if t > Instant::from_secs(67) {
            break;
        }
        client.handle_timeout(Ctx::new(&cnode, &mut cfg), t);
        exchange(&mut client, &mut session, &mut cfg, t);
    }
    client.call_ended(Instant::from_secs(67)).unwrap();
    exchange(&mut client, &mut session, &mut cfg, Instant::from_secs(67));
    // The server session lingers for the duplicate window, then closes.
    let mut closed = false;
    if let Some(s) = session.as_mut() {
        while let Some(e) = s.poll_event() {
            black_box(e);
        }
        if let Some(t) = s.poll_timeout() {
            let shared: &mut AccountingServer<dyn AccountingSink> = &mut server;
            s.handle_timeout(Ctx::new(&snode, shared), t);
        }
        closed = s.is_closed();
    }
    while server.poll_event().is_some() {}
    (server.into_sink().kinds, client.state(), closed)
}

#[test]
fn a_full_session_makes_no_allocation() {
    assert_counting();
    // Warm up (thread-locals, lazy statics), then measure.
    let _ = full_session_on_the_stack();
    let ((kinds, state, closed), n) = allocations(full_session_on_the_stack);
    assert_eq!(
        n, 0,
        "{n} heap allocation(s) in a START/INTERIM/STOP session"
    );
    assert_eq!(state, ClientState::Ended);
    assert!(closed, "the server session closed after its window");
    // Interims about every 30 s (randomized by up to 3 s, RFC 6733 §9.8.2).
    let rounded: Vec<_> = kinds[..5]
        .iter()
        .map(|k| k.map(|(t, n, s)| (t, n, (s + 3) / 10 * 10)))
        .collect();
    assert_eq!(
        &rounded[..],
        &[
            Some((StartRecord, 0, 0)),
            Some((InterimRecord, 1, 30)),
            Some((InterimRecord, 2, 60)),
            Some((StopRecord, 3, 70)),
            None
        ]
    );
}
