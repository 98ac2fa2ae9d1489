//! The real sled store in a temp dir: sessions and tickets survive a
//! reopen, ticket numbers stay unique and contiguous under concurrency,
//! and the queue follows ticket states.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use kefu::brain::{Handoff, Session};
use kefu::dialog::engine::HandoffReason;
use kefu::lang::Lang;
use kefu::store::{SledStore, Store};
use kefu::ticket::{self, Priority, Sla, Status, Ticket};

fn handoff(priority: Priority) -> Handoff {
    let mut values = BTreeMap::new();
    values.insert("coin".to_string(), "USDT".to_string());
    Handoff {
        priority,
        reason: HandoffReason::Requested,
        lang: Lang::Zh,
        intent: Some("withdrawal_delayed".to_string()),
        dialog: None,
        values,
        transcript: Vec::new(),
    }
}

fn open(store: &dyn Store, chat: i64, priority: Priority, now: i64) -> Ticket {
    store
        .create_ticket(&mut |n| {
            Ticket::from_handoff(n, chat, &handoff(priority), now, &Sla::default())
        })
        .unwrap()
}

#[test]
fn everything_is_still_there_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        let session = Session {
            lang: Lang::En,
            misses: 1,
            ..Session::default()
        };
        store.save_session(42, &session).unwrap();
        for i in 0..25 {
            open(&store, 100 + i, Priority::Normal, 1000 + i);
        }
        let mut third = store.ticket(3).unwrap().unwrap();
        third.status = Status::Assigned;
        store.save_ticket(&third).unwrap();
        store.flush().unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.session(42).unwrap().unwrap().misses, 1);
    assert!(store.session(43).unwrap().is_none());
    let tickets = store.tickets().unwrap();
    assert_eq!(tickets.len(), 25);
    assert_eq!(tickets[2].status, Status::Assigned);
    assert_eq!(tickets[0].values["coin"], "USDT");
    assert_eq!(
        store.queue().unwrap().len(),
        24,
        "the assigned ticket left the queue"
    );
    // Numbering continues after a reopen.
    assert_eq!(open(&store, 7, Priority::Normal, 5000).number, 26);
    assert_eq!(store.chat_tickets(7).unwrap().len(), 1);
}

#[test]
fn a_thousand_tickets_from_a_hundred_chats_get_distinct_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(dir.path()).unwrap());
    let threads: Vec<_> = (0..100)
        .map(|chat| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                (0..10)
                    .map(|i| {
                        let priority =
                            [Priority::Normal, Priority::High, Priority::Urgent][(chat + i) % 3];
                        open(store.as_ref(), chat as i64, priority, 10_000 + i as i64).number
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let numbers: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let distinct: HashSet<u64> = numbers.iter().copied().collect();
    assert_eq!(distinct.len(), 1000);
    assert_eq!(
        distinct,
        (1..=1000).collect::<HashSet<u64>>(),
        "contiguous numbers"
    );
    let queue = store.queue().unwrap();
    assert_eq!(queue.len(), 1000);
    assert!(
        queue
            .windows(2)
            .all(|w| ticket::queue_order(&w[0], &w[1]).is_lt()),
        "the queue is in priority, then age order"
    );
    for chat in 0..100 {
        assert_eq!(store.chat_tickets(chat).unwrap().len(), 10);
    }
    // Every queued ticket's position is its place in the queue.
    for (index, t) in queue.iter().enumerate().step_by(97) {
        assert_eq!(ticket::position(t, &queue), Some(index + 1));
    }
}

#[test]
fn update_ids_are_recognised_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.mark_update(1001).unwrap());
    assert!(!store.mark_update(1001).unwrap());
    assert!(store.mark_update(1002).unwrap());
}

#[test]
fn a_second_process_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledStore::open(dir.path()).unwrap();
    // sled locks the database per process; within one process a second open
    // of the same path is refused as well.
    match SledStore::open(dir.path()) {
        Err(error) => assert!(error.to_string().contains("in use"), "{error}"),
        Ok(_) => panic!("a second open must fail"),
    }
}

#[test]
fn a_batch_is_recorded_with_its_sessions_and_outbox_at_once() {
    use kefu::store::{BatchRecord, Pending};
    let dir = tempfile::tempdir().unwrap();
    let reply = Pending {
        chat: 5,
        text: "hi".into(),
        choices: Vec::new(),
        ticket: Some(3),
    };
    let second = Pending {
        text: "again".into(),
        ..reply.clone()
    };
    {
        let store = SledStore::open(dir.path()).unwrap();
        let session = Session {
            lang: Lang::Zh,
            ..Session::default()
        };
        let (a, b) = (store.outbox_id().unwrap(), store.outbox_id().unwrap());
        assert!(b > a, "outbox ids grow");
        store
            .record_batch(&BatchRecord {
                updates: &[41, 42],
                through: None,
                sessions: &[(5, &session)],
                outbox: &[(a, reply.clone()), (b, second.clone())],
            })
            .unwrap();
        store.link_message(-100, 77, 3).unwrap();
        store.flush().unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.update_seen(41).unwrap());
    assert!(store.update_seen(42).unwrap());
    assert!(!store.update_seen(43).unwrap());
    assert_eq!(store.session(5).unwrap().unwrap().lang, Lang::Zh);
    let outbox = store.outbox().unwrap();
    let texts: Vec<&str> = outbox.iter().map(|(_, m)| &*m.text).collect();
    assert_eq!(texts, ["hi", "again"], "in the order decided");
    let next = store.outbox_id().unwrap();
    assert!(next > outbox[1].0, "ids keep growing after a reopen");
    store.outbox_sent(&[outbox[0].0]).unwrap();
    assert_eq!(store.outbox().unwrap(), vec![outbox[1].clone()]);
    assert_eq!(store.message_ticket(-100, 77).unwrap(), Some(3));
}

#[test]
fn old_update_ids_are_forgotten_and_recent_ones_kept() {
    let store = SledStore::temporary().unwrap();
    for id in 1..=50 {
        assert!(store.mark_update(id).unwrap());
    }
    assert_eq!(store.forget_updates_before(41).unwrap(), 40);
    assert!(!store.update_seen(40).unwrap());
    assert!(store.update_seen(41).unwrap());
    assert!(store.update_seen(50).unwrap());
    assert_eq!(store.forget_updates_before(41).unwrap(), 0);
    assert_eq!(store.forget_updates_before(-5).unwrap(), 0);
}

#[test]
fn polled_updates_are_recognised_by_the_last_id_of_their_batch() {
    use kefu::store::BatchRecord;
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        assert!(!store.update_seen(1).unwrap());
        let batch = |through| BatchRecord {
            through: Some(through),
            ..BatchRecord::default()
        };
        store.record_batch(&batch(100)).unwrap();
        assert!(store.update_seen(1).unwrap());
        assert!(store.update_seen(100).unwrap());
        assert!(!store.update_seen(101).unwrap());
        assert_eq!(store.updates_through().unwrap(), Some(100));
        store.flush().unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.update_seen(100).unwrap(), "kept across a restart");
    assert!(!store.update_seen(101).unwrap());
    // Telegram restarted its ids lower: the mark follows them (the
    // adapter tells a restart from a redelivery).
    store
        .record_batch(&BatchRecord {
            through: Some(50),
            ..BatchRecord::default()
        })
        .unwrap();
    assert_eq!(store.updates_through().unwrap(), Some(50));
    assert!(!store.update_seen(51).unwrap());
}

/// The data directory as a kill would leave it: copied while the store is
/// open, after its last flush (nothing checkpointed at exit).
fn crash_image(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            crash_image(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Where each entry of the journal's first run starts, and where it ends.
fn journal_entries(path: &std::path::Path) -> (Vec<usize>, usize) {
    let bytes = std::fs::read(path).unwrap();
    let (mut at, mut starts) = (0, Vec::new());
    let epoch = &bytes[8..12];
    while at + 12 <= bytes.len() && &bytes[at + 8..at + 12] == epoch {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if len == 0 {
            break;
        }
        starts.push(at);
        at += 12 + len;
    }
    (starts, at)
}

/// Five batches, each synced, one reply and one session each, in a crash
/// image of a store whose journal was never checkpointed.
fn five_synced_batches() -> (tempfile::TempDir, std::path::PathBuf) {
    use kefu::store::{BatchRecord, Pending};
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image");
    let store = SledStore::open(&dir.path().join("live")).unwrap();
    for batch in 0..5i64 {
        let session = Session {
            misses: batch as u32 + 1,
            ..Session::default()
        };
        let id = store.outbox_id().unwrap();
        store
            .record_batch(&BatchRecord {
                updates: &[],
                through: Some(100 + batch),
                sessions: &[(batch, &session)],
                outbox: &[(id, Pending::text(batch, format!("reply {batch}")))],
            })
            .unwrap();
        store.flush().unwrap();
    }
    crash_image(&dir.path().join("live"), &image);
    drop(store);
    let (starts, _) = journal_entries(&image.join("kefu.journal"));
    assert_eq!(starts.len(), 5, "one entry per batch, none checkpointed");
    (dir, image)
}

#[test]
fn a_torn_journal_tail_is_cut_and_counted_and_the_rest_replays() {
    let (_dir, image) = five_synced_batches();
    let journal = image.join("kefu.journal");
    let (starts, end) = journal_entries(&journal);
    let mut bytes = std::fs::read(&journal).unwrap();
    // The last batch's entry half written.
    let half = (starts[4] + end) / 2;
    bytes[half..end].fill(0);
    std::fs::write(&journal, &bytes).unwrap();
    let store = SledStore::open(&image).unwrap();
    assert_eq!((store.replayed().replayed, store.replayed().lost), (4, 1));
    let outbox = store.outbox().unwrap();
    assert_eq!(outbox.len(), 4, "the first four batches' replies");
    assert_eq!(store.session(3).unwrap().unwrap().misses, 4);
    assert!(store.session(4).unwrap().is_none(), "the torn batch");
    assert!(store.update_seen(103).unwrap() && !store.update_seen(104).unwrap());
}

#[test]
fn journal_damage_before_the_tail_is_refused_and_recover_keeps_the_rest() {
    let (_dir, image) = five_synced_batches();
    let journal = image.join("kefu.journal");
    let (starts, _) = journal_entries(&journal);
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes[starts[2] - 3] ^= 0x01; // inside the second batch's entry
    std::fs::write(&journal, &bytes).unwrap();
    let error = SledStore::open(&image).err().expect("refused");
    let message = error.to_string();
    assert!(message.contains("journal"), "{message}");
    assert!(message.contains("entry 2"), "{message}");
    assert!(message.contains("kefu recover --data"), "{message}");
    let recovery = SledStore::recover(&image, std::time::SystemTime::now().into()).unwrap();
    assert!(recovery.report.damaged);
    assert_eq!((recovery.report.replayed, recovery.report.lost), (4, 1));
    assert_eq!(recovery.moved.len(), 1, "a copy of the damaged journal");
    assert!(recovery.moved[0].exists());
    let store = recovery.store;
    assert_eq!(
        store.outbox().unwrap().len(),
        4,
        "all but the damaged batch"
    );
    assert!(store.session(1).unwrap().is_none());
    assert_eq!(store.session(4).unwrap().unwrap().misses, 5);
    assert!(store.update_seen(104).unwrap());
    drop(store);
    // Recovered for good: it opens as it is.
    SledStore::open(&image).unwrap();
}
