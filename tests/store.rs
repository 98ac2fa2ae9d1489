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
fn an_update_is_recorded_with_its_session_and_outbox_at_once() {
    use kefu::store::{Pending, UpdateRecord};
    let dir = tempfile::tempdir().unwrap();
    let reply = Pending {
        chat: 5,
        text: "hi".into(),
        choices: Vec::new(),
        ticket: Some(3),
    };
    {
        let store = SledStore::open(dir.path()).unwrap();
        store
            .inbox_put(&[(41, b"{}".to_vec()), (42, b"{}".to_vec())])
            .unwrap();
        let session = Session {
            lang: Lang::Zh,
            ..Session::default()
        };
        let record = UpdateRecord {
            update_id: 41,
            session: Some((5, &session)),
            outbox: std::slice::from_ref(&reply),
        };
        let ids = store.record_update(&record).unwrap().unwrap();
        assert_eq!(ids.len(), 1);
        assert!(
            store.record_update(&record).unwrap().is_none(),
            "seen before"
        );
        store.link_message(-100, 77, 3).unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.update_seen(41).unwrap());
    assert_eq!(store.session(5).unwrap().unwrap().lang, Lang::Zh);
    let inbox: Vec<i64> = store
        .inbox()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(inbox, vec![42], "the handled update left the inbox");
    let outbox = store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].1, reply);
    store.outbox_sent(outbox[0].0).unwrap();
    assert!(store.outbox().unwrap().is_empty());
    assert_eq!(store.message_ticket(-100, 77).unwrap(), Some(3));
}
