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

    let g = db.reserve("s1", "1001", "1002", 10_800).unwrap();
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
    db.reserve("s", "1002", "1001", 60).unwrap();
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
    assert_eq!(db.reserve("s", "2001", "1002", 300).unwrap().seconds, 12);
    let d = db.debit("s", Some(1), "2001", "1002", 20).unwrap();
    assert!(!d.covered);
    let a = db.account("2001").unwrap().unwrap();
    assert_eq!((a.balance, a.reserved), (0, 0));
    assert_eq!(db.reserve("t", "2001", "1002", 300).unwrap().seconds, 0);
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
                    let g = db.reserve(&s, "3001", "1002", 60).unwrap();
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
