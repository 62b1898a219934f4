//! The charging database (SQLite): demo data, atomic reservations between
//! connections, debits and records that are never counted twice, and
//! everything committed surviving a reopen.

use diameter_cli::charging::{Charging, ChargingConfig};

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("charging.db").display())
}

#[test]
fn demo_data_and_a_call() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    let a = db.account("1001").unwrap().unwrap();
    assert_eq!(
        (a.balance, a.reserved, a.tariff.as_str()),
        (1000, 0, "default")
    );
    assert!(db.account("1002").unwrap().is_some());
    assert!(db.account("9999").unwrap().is_none());

    let g = db.reserve("s1", Some(0), "1001", "1002", 10_800).unwrap();
    // 10.00 buys 10 (fee) + 990 intervals of 6 s.
    assert_eq!(g.seconds, 990 * 6);
    assert_eq!(db.account("1001").unwrap().unwrap().reserved, 1000);
    // Reported in pieces, charged as a whole.
    db.debit("s1", Some(1), "1001", "1002", 0).unwrap();
    db.debit("s1", Some(2), "1001", "1002", 67).unwrap();
    db.release("s1").unwrap();
    let a = db.account("1001").unwrap().unwrap();
    assert_eq!((a.balance, a.reserved), (1000 - 22, 0));
    assert_eq!(db.call("s1").unwrap().unwrap().charged, 22);
    assert_eq!(db.charges("s1").unwrap().len(), 2);
}

#[test]
fn replays_are_not_charged_twice_even_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    db.reserve("s", Some(0), "1002", "1001", 60).unwrap();
    let first = db.debit("s", Some(1), "1002", "1001", 30).unwrap();
    assert!(!first.replayed);
    drop(db);
    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    let again = db.debit("s", Some(1), "1002", "1001", 30).unwrap();
    assert!(again.replayed);
    assert_eq!(again.amount, first.amount);
    let a = db.account("1002").unwrap().unwrap();
    assert_eq!(a.balance, 500 - first.amount);
}

#[test]
fn too_little_credit_is_a_short_grant_then_4012() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    db.put_subscriber("2001", "default", 12).unwrap();
    // 12 cents: the fee (10) and two 6 s intervals.
    assert_eq!(
        db.reserve("s", Some(0), "2001", "1002", 300)
            .unwrap()
            .seconds,
        12
    );
    let d = db.debit("s", Some(1), "2001", "1002", 20).unwrap();
    assert!(!d.covered);
    let a = db.account("2001").unwrap().unwrap();
    assert_eq!((a.balance, a.reserved), (0, 0));
    assert_eq!(
        db.reserve("t", Some(0), "2001", "1002", 300)
            .unwrap()
            .seconds,
        0
    );
}

#[test]
fn concurrent_reservations_never_overdraw() {
    let dir = tempfile::tempdir().unwrap();
    let u = url(&dir);
    let mut db = Charging::open(&u, ChargingConfig::default()).unwrap();
    db.put_subscriber("3001", "default", 1000).unwrap();
    drop(db);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let u = u.clone();
            std::thread::spawn(move || {
                let config = ChargingConfig {
                    instance: format!("t{t}"),
                    ..ChargingConfig::default()
                };
                let mut db = Charging::open(&u, config).unwrap();
                let mut granted = 0u64;
                for i in 0..25 {
                    let s = format!("s-{t}-{i}");
                    let g = db.reserve(&s, Some(0), "3001", "1002", 60).unwrap();
                    granted += u64::from(g.seconds);
                    if g.seconds > 0 {
                        db.debit(&s, Some(1), "3001", "1002", g.seconds).unwrap();
                    }
                    db.release(&s).unwrap();
                }
                granted
            })
        })
        .collect();
    let granted: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let mut db = Charging::open(&u, ChargingConfig::default()).unwrap();
    let a = db.account("3001").unwrap().unwrap();
    assert!(a.balance >= 0 && a.reserved == 0, "{a:?}");
    // 60 s cost 20; 1000 pays exactly 50 of the 100 calls.
    assert_eq!(granted, 50 * 60);
    assert_eq!(a.balance, 0);
}

/// Instance `name` on one database.
fn instance(name: &str) -> ChargingConfig {
    ChargingConfig {
        instance: name.into(),
        ..ChargingConfig::default()
    }
}

/// A CCR resent to a second instance sharing the database (the first
/// instance's answer was lost with its connection, RFC 8506 §5.7) gets the
/// first grant again: the money is held once, not twice. An older request
/// arriving late holds nothing either; a reservation asked for without a
/// request number (`Rating::reserve`) still adds to the session's, as
/// before.
#[test]
fn a_resent_request_is_granted_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Charging::open(&url(&dir), instance("a")).unwrap();
    let mut b = Charging::open(&url(&dir), instance("b")).unwrap();
    let reserved = |db: &mut Charging| db.account("1001").unwrap().unwrap().reserved;

    let first = a.reserve("s", Some(0), "1001", "1002", 60).unwrap();
    let held = reserved(&mut a);
    assert_eq!(first.seconds, 60);
    assert_eq!(held, first.amount);
    let again = b.reserve("s", Some(0), "1001", "1002", 60).unwrap();
    assert_eq!((again.seconds, again.amount), (60, 0));
    assert_eq!(reserved(&mut b), held, "held once");

    // The call goes on at b: CCR-U 1 reports 30 s and is granted 60 more
    // (the server releases what is left before it grants again).
    b.debit("s", Some(1), "1001", "1002", 30).unwrap();
    b.release("s").unwrap();
    let next = b.reserve("s", Some(1), "1001", "1002", 60).unwrap();
    let held = reserved(&mut b);
    assert_eq!((next.seconds, held), (60, next.amount));
    // CCR-I 0 arriving late at a: nothing more held, what is held granted.
    let late = a.reserve("s", Some(0), "1001", "1002", 60).unwrap();
    assert_eq!((late.seconds, late.amount), (60, 0));
    assert_eq!(reserved(&mut a), held);

    // CCR-T 2: 20 s more; everything given back, the call charged once.
    b.debit("s", Some(2), "1001", "1002", 20).unwrap();
    b.release("s").unwrap();
    let charged = b.call("s").unwrap().unwrap().charged;
    let acct = b.account("1001").unwrap().unwrap();
    assert_eq!((acct.balance, acct.reserved), (1000 - charged, 0));

    // Without a request number, a second reservation adds to the first.
    let one = a.reserve("t", None, "1002", "1001", 60).unwrap();
    let two = b.reserve("t", None, "1002", "1001", 60).unwrap();
    // (the second 60 s cost less: the connection fee is paid once)
    assert!(two.seconds == 60 && two.amount > 0, "{two:?}");
    assert_eq!(
        b.account("1002").unwrap().unwrap().reserved,
        one.amount + two.amount
    );
}

/// A database made before reservations noted their request number gets
/// the column when an instance opens it, and its reservations keep
/// working.
#[test]
fn an_older_database_gets_the_request_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    db.reserve("old", None, "1001", "1002", 60).unwrap();
    drop(db);
    let path = dir.path().join("charging.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("ALTER TABLE reservations DROP COLUMN request")
        .unwrap();
    drop(conn);

    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    let held = db.account("1001").unwrap().unwrap().reserved;
    assert!(held > 0);
    let g = db.reserve("new", Some(0), "1001", "1002", 60).unwrap();
    let again = db.reserve("new", Some(0), "1001", "1002", 60).unwrap();
    assert_eq!((again.seconds, again.amount), (g.seconds, 0));
    assert_eq!(
        db.account("1001").unwrap().unwrap().reserved,
        held + g.amount
    );
    db.release("old").unwrap();
    db.release("new").unwrap();
    assert_eq!(db.account("1001").unwrap().unwrap().reserved, 0);
}

/// A reservation whose stored request number is out of range (a corrupted
/// row) counts as one without a number: the next request holds its own
/// money rather than being granted the held seconds again as a replay.
#[test]
fn a_corrupted_request_number_is_not_a_replay() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    let first = db.reserve("s", Some(0), "1001", "1002", 60).unwrap();
    let path = dir.path().join("charging.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("UPDATE reservations SET request = -1 WHERE session = 's'")
        .unwrap();
    drop(conn);
    let next = db.reserve("s", Some(1), "1001", "1002", 60).unwrap();
    assert!(next.amount > 0, "granted without holding: {next:?}");
    assert_eq!(
        db.account("1001").unwrap().unwrap().reserved,
        first.amount + next.amount
    );
}

/// A resent request that finds another reservation of its subscriber
/// expired gives that money back, as a first request would: the expired
/// reservation is deleted and the subscriber's reserved total follows.
#[test]
fn a_resent_request_frees_what_expired() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    let now = Arc::new(AtomicI64::new(1_000_000));
    let clock = now.clone();
    db.set_clock(move || clock.load(Ordering::SeqCst));
    // x lapses 15 min + 12 s after it was made, s 15 min + 120 s after.
    db.reserve("x", Some(0), "1001", "1002", 6).unwrap();
    let s = db.reserve("s", Some(0), "1001", "1002", 60).unwrap();
    now.fetch_add(15 * 60 + 60, Ordering::SeqCst);
    let again = db.reserve("s", Some(0), "1001", "1002", 60).unwrap();
    assert_eq!((again.seconds, again.amount), (60, 0));
    let a = db.account("1001").unwrap().unwrap();
    assert_eq!(a.reserved, s.amount, "x's money given back");
}

/// What a crash before the first commit leaves (a file with the WAL
/// journal set and no tables) is created and seeded on the next open: the
/// tables and the demo data come in one transaction, decided by the tables
/// being there, not the file. A database whose tables exist is never
/// seeded again, even with a demo subscriber gone: no balance is reset.
#[test]
fn a_half_made_database_is_seeded_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("charging.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);
    assert!(path.exists());

    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    assert_eq!(db.account("1001").unwrap().unwrap().balance, 1000);
    db.reserve("s1", Some(0), "1001", "1002", 60).unwrap();
    db.debit("s1", Some(1), "1001", "1002", 60).unwrap();
    db.release("s1").unwrap();
    let charged = db.account("1001").unwrap().unwrap().balance;
    assert!(charged < 1000);
    drop(db);

    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM subscribers WHERE id = '1003'", [])
        .unwrap();
    drop(conn);
    let mut db = Charging::open(&url(&dir), ChargingConfig::default()).unwrap();
    assert_eq!(db.account("1001").unwrap().unwrap().balance, charged);
    assert!(db.account("1003").unwrap().is_none());
}
