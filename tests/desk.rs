//! The ticket lifecycle through the app with the real sled store in a temp
//! dir: handoff → card to agents → take → relay both ways → resolve →
//! rating; refusals, the guard on agents' replies, reassignment, the SLA
//! sweep, and every ticket still there after a reopen.

use std::path::Path;
use std::sync::OnceLock;

use kefu::app::desk::AgentInput;
use kefu::app::{App, Desk, Handled};
use kefu::brain::{Bot, Input, Settings};
use kefu::config::{Agent, Role};
use kefu::intent::CompileOptions;
use kefu::store::{SledStore, Store};
use kefu::ticket::{Priority, Sla, Status};

const GROUP: i64 = -100_500;
const ALICE: i64 = 11;
const BO: i64 = 22;
const MALLORY: i64 = 99;
const USER: i64 = 7001;
const T0: i64 = 1_767_578_400;

fn bot() -> &'static Bot {
    static BOT: OnceLock<Bot> = OnceLock::new();
    BOT.get_or_init(|| {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
        kefu::pack::load_bot(
            &fixture.join("intents"),
            &fixture.join("dialogs"),
            CompileOptions::default(),
            Settings::default(),
        )
        .unwrap()
        .bot
    })
}

fn app(store: &dyn Store) -> App<'_> {
    App {
        bot: bot(),
        store,
        sla: Sla::default(),
        desk: Desk {
            group: Some(GROUP),
            agents: vec![
                Agent {
                    id: ALICE,
                    name: "Alice".into(),
                    role: Role::Supervisor,
                },
                Agent {
                    id: BO,
                    name: "Bo".into(),
                    role: Role::Agent,
                },
            ],
            official_domains: vec!["example-exchange.com".into()],
            staff_handles: vec!["ExampleExchangeSupport".into()],
        },
    }
}

fn to(handled: &Handled, chat: i64) -> String {
    handled
        .messages
        .iter()
        .filter(|m| m.chat == chat)
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn cmd(app: &App<'_>, agent: i64, line: &str, now: i64) -> Handled {
    app.agent(GROUP, agent, AgentInput::Command(line), now)
        .unwrap()
}

#[test]
fn the_whole_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let number;
    {
        let store = SledStore::open(dir.path()).unwrap();
        let app = app(&store);
        app.handle(USER, Input::Text("my withdrawal has not arrived"), T0)
            .unwrap();
        app.handle(USER, Input::Text("usdt"), T0 + 5).unwrap();
        let handled = app.handle(USER, Input::Text("/human"), T0 + 10).unwrap();
        // The user sees the number; the agents get a card with a Take button.
        let ticket = &handled.opened[0];
        number = ticket.number;
        assert!(to(&handled, USER).contains(&ticket.label()));
        let card = handled
            .messages
            .iter()
            .find(|m| m.chat == GROUP)
            .expect("a card");
        assert!(
            card.text.contains("T-000001") && card.text.contains("coin: USDT"),
            "{}",
            card.text
        );
        assert!(
            card.text.contains("> my withdrawal has not arrived"),
            "{}",
            card.text
        );
        assert_eq!(card.choices[0].value, "take:1");
        assert_eq!(card.ticket, Some(1));

        // Someone who is not an agent is refused.
        let refused = app
            .agent(GROUP, MALLORY, AgentInput::Button("take:1"), T0 + 20)
            .unwrap();
        assert_eq!(refused.refused, Some(MALLORY));
        assert_eq!(store.ticket(1).unwrap().unwrap().status, Status::Queued);

        // Bo takes it with the button; the user is told.
        let taken = app
            .agent(GROUP, BO, AgentInput::Button("take:1"), T0 + 60)
            .unwrap();
        assert!(to(&taken, USER).contains("Bo"), "{}", to(&taken, USER));
        assert!(to(&taken, GROUP).contains("taken by Bo"));
        assert!(to(&cmd(&app, ALICE, "/take 1", T0 + 61), GROUP).contains("already taken by Bo"));

        // The user's messages now go to the agent, not the bot.
        let relayed = app
            .handle(USER, Input::Text("it was 200 USDT on TRC20"), T0 + 90)
            .unwrap();
        assert!(
            to(&relayed, USER).is_empty(),
            "the bot stays quiet: {}",
            to(&relayed, USER)
        );
        let relay = relayed.messages.iter().find(|m| m.chat == GROUP).unwrap();
        assert!(relay.text.contains("200 USDT on TRC20") && relay.ticket == Some(1));

        // Bo replies to the relayed message; the user gets it via the bot.
        let reply = app
            .agent(
                GROUP,
                BO,
                AgentInput::Reply {
                    ticket: 1,
                    text: "Found it: it's in review, about 30 minutes.",
                },
                T0 + 120,
            )
            .unwrap();
        assert!(
            to(&reply, USER).contains("Found it"),
            "{}",
            to(&reply, USER)
        );
        assert_eq!(
            store.ticket(1).unwrap().unwrap().status,
            Status::WaitingOnUser
        );

        // A reply asking for a code is blocked, and Bo is told why.
        let blocked = cmd(
            &app,
            BO,
            "/reply 1 please send me your 2FA code to verify",
            T0 + 130,
        );
        assert!(to(&blocked, USER).is_empty());
        assert!(
            to(&blocked, GROUP).contains("Not sent"),
            "{}",
            to(&blocked, GROUP)
        );
        let phishing = cmd(
            &app,
            BO,
            "/reply 1 log in at https://example-exchange.com.secure-login.top",
            T0 + 131,
        );
        assert!(to(&phishing, USER).is_empty() && to(&phishing, GROUP).contains("Not sent"));

        // Notes stay internal.
        assert!(to(
            &cmd(&app, BO, "/note 1 checked the chain, tx pending", T0 + 140),
            GROUP
        )
        .contains("Note added"));
        assert!(to(&cmd(&app, BO, "/mine", T0 + 141), GROUP).contains("T-000001"));

        // Resolve → the user rates.
        let resolved = cmd(&app, BO, "/resolve T-000001", T0 + 600);
        let ask = resolved.messages.iter().find(|m| m.chat == USER).unwrap();
        assert_eq!(ask.choices.len(), 5);
        let rated = app
            .handle(USER, Input::Button(&ask.choices[3].value), T0 + 660)
            .unwrap();
        assert!(
            to(&rated, USER).contains("Thank you"),
            "{}",
            to(&rated, USER)
        );
        assert!(to(&rated, GROUP).contains("rated 4/5"));
        let t = store.ticket(1).unwrap().unwrap();
        assert_eq!((t.status, t.rating), (Status::Closed, Some(4)));
        // Bo's note, and one guard note per blocked reply.
        assert_eq!(t.notes.iter().filter(|n| n.author == "Bo").count(), 1);
        assert_eq!(t.notes.iter().filter(|n| n.author == "guard").count(), 2);
        assert!(t
            .transcript
            .iter()
            .any(|l| l.user && l.text.contains("200 USDT")));
        assert!(t
            .transcript
            .iter()
            .any(|l| !l.user && l.text.contains("[Bo] Found it")));
        // Back to the bot after the ticket is done.
        let after = app
            .handle(USER, Input::Text("my deposit never showed up"), T0 + 700)
            .unwrap();
        assert!(
            to(&after, USER).contains("Deposit not credited"),
            "{}",
            to(&after, USER)
        );
    }
    // Every ticket is still there after the database is reopened.
    let store = SledStore::open(dir.path()).unwrap();
    let t = store.ticket(number).unwrap().unwrap();
    assert_eq!(t.rating, Some(4));
    assert_eq!(t.values["coin"], "USDT");
}

#[test]
fn queue_positions_status_and_a_second_handoff() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let app = app(&store);
    for user in 0..6 {
        app.handle(1000 + user, Input::Text("/human"), T0 + user)
            .unwrap();
    }
    // An urgent case jumps the queue.
    let urgent = app
        .handle(2000, Input::Text("my account was hacked"), T0 + 100)
        .unwrap();
    assert_eq!(urgent.opened[0].priority, Priority::Urgent);
    assert!(
        to(&urgent, 2000).contains("number 1 in the queue"),
        "{}",
        to(&urgent, 2000)
    );
    let status = app.handle(1003, Input::Text("/status"), T0 + 200).unwrap();
    assert!(
        to(&status, 1003).contains("T-000004: queued, number 5 in the queue"),
        "{}",
        to(&status, 1003)
    );
    // A second handoff adds to the open ticket instead of queueing again.
    let again = app.handle(1003, Input::Text("/human"), T0 + 210).unwrap();
    assert!(again.opened.is_empty());
    assert!(
        to(&again, 1003).contains("already have ticket T-000004"),
        "{}",
        to(&again, 1003)
    );
    assert_eq!(store.tickets().unwrap().len(), 7);
    // /queue: urgent first, then by age.
    let queue = to(&cmd(&app, BO, "/queue", T0 + 220), GROUP);
    let first = queue.lines().nth(1).unwrap();
    assert!(first.starts_with("T-000007 urgent"), "{queue}");
    // /close by the user.
    let closed = app.handle(1005, Input::Text("/close"), T0 + 230).unwrap();
    assert!(to(&closed, 1005).contains("Closed T-000006"));
    assert_eq!(store.queue().unwrap().len(), 6);
}

#[test]
fn overdue_tickets_are_announced_again_and_supervisors_see_them_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let app = app(&store);
    app.handle(1, Input::Text("/human"), T0).unwrap(); // normal: due in 4 h
    app.handle(2, Input::Text("my account was hacked"), T0 + 600)
        .unwrap(); // urgent: due in 15 min
    app.handle(3, Input::Text("/human"), T0 + 700).unwrap();
    assert!(
        app.tick(T0 + 1000).unwrap().messages.is_empty(),
        "nothing due yet"
    );
    let sweep = app.tick(T0 + 600 + 15 * 60 + 1).unwrap();
    assert_eq!(sweep.messages.len(), 1);
    assert!(
        sweep.messages[0].text.starts_with("⏰ OVERDUE T-000002"),
        "{}",
        sweep.messages[0].text
    );
    assert!(
        app.tick(T0 + 2000).unwrap().messages.is_empty(),
        "announced once"
    );
    let late = T0 + 4 * 3600 + 1;
    let sweep = app.tick(late).unwrap();
    assert!(sweep.messages[0].text.contains("T-000001"));
    // Supervisor's queue: overdue first (1 is overdue, 2 as well, 3 not).
    let queue = to(&cmd(&app, ALICE, "/queue", late), GROUP);
    let lines: Vec<&str> = queue.lines().skip(1).collect();
    assert!(
        lines[0].contains("OVERDUE") && lines[1].contains("OVERDUE"),
        "{queue}"
    );
    assert!(lines[2].starts_with("T-000003"), "{queue}");
}

#[test]
fn only_supervisors_reassign() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let app = app(&store);
    app.handle(1, Input::Text("/human"), T0).unwrap();
    cmd(&app, BO, "/take 1", T0 + 10);
    assert!(to(&cmd(&app, BO, "/reassign 1 @Alice", T0 + 20), GROUP).contains("Only supervisors"));
    let moved = cmd(&app, ALICE, "/reassign 1 @alice", T0 + 30);
    assert!(
        to(&moved, GROUP).contains("reassigned to Alice"),
        "{}",
        to(&moved, GROUP)
    );
    assert!(to(&moved, 1).contains("Alice"));
    assert_eq!(store.ticket(1).unwrap().unwrap().agent.unwrap().0, ALICE);
    assert!(to(&cmd(&app, BO, "/reply 1 hi", T0 + 40), GROUP).contains("belongs to Alice"));
    assert!(to(&cmd(&app, ALICE, "/take 99", T0 + 50), GROUP).contains("No ticket T-000099"));
    assert!(to(&cmd(&app, ALICE, "/reply", T0 + 50), GROUP).contains("Usage: /reply N text"));
    assert!(to(&cmd(&app, ALICE, "/dance", T0 + 50), GROUP).contains("Unknown command"));
}

#[test]
fn a_thousand_handoffs_from_a_hundred_concurrent_chats() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let app = app(&store);
    let numbers: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..100)
            .map(|user| {
                let app = &app;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for round in 0..10 {
                        let now = T0 + round * 60;
                        let handled = app
                            .handle(50_000 + user, Input::Text("/human"), now)
                            .unwrap();
                        let ticket = &handled.opened[0];
                        assert!(to(&handled, 50_000 + user).contains(&ticket.label()));
                        mine.push(ticket.number);
                        app.handle(50_000 + user, Input::Text("/close"), now + 1)
                            .unwrap();
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let distinct: std::collections::HashSet<u64> = numbers.iter().copied().collect();
    assert_eq!(distinct.len(), 1000);
    assert_eq!(*distinct.iter().max().unwrap(), 1000);
    let tickets = store.tickets().unwrap();
    assert_eq!(tickets.len(), 1000);
    assert!(tickets.iter().all(|t| t.status == Status::Closed));
    assert!(
        store.queue().unwrap().is_empty(),
        "the queue agrees with the tickets"
    );
}

#[test]
fn expected_waits_come_from_recent_handling_times() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let app = app(&store);
    let first = app.handle(1, Input::Text("/human"), T0).unwrap();
    assert!(
        to(&first, 1).contains("about 4 hours"),
        "no history: the SLA"
    );
    cmd(&app, BO, "/take 1", T0 + 600);
    let second = app.handle(2, Input::Text("/human"), T0 + 700).unwrap();
    assert!(
        to(&second, 2).contains("number 1 in the queue; the expected wait is about 10 minutes"),
        "{}",
        to(&second, 2)
    );
    let third = app.handle(3, Input::Text("/human"), T0 + 710).unwrap();
    assert!(
        to(&third, 3).contains("number 2 in the queue; the expected wait is about 20 minutes"),
        "{}",
        to(&third, 3)
    );
    assert_eq!(store.recent_waits().unwrap(), vec![600]);
}

#[test]
fn users_see_and_close_only_their_own_tickets() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let app = app(&store);
    let (ann, ben) = (8101, 8102);
    app.handle(ann, Input::Text("my account was hacked"), T0)
        .unwrap();
    app.handle(ben, Input::Text("/human"), T0 + 10).unwrap();
    // Neither sees the other's ticket, nor its number named in a command.
    let status = to(
        &app.handle(ben, Input::Text("/status"), T0 + 20).unwrap(),
        ben,
    );
    assert!(status.contains("T-000002"), "{status}");
    assert!(!status.contains("T-000001"), "{status}");
    for line in ["/status T-000001", "/close T-000001", "/close 1"] {
        let handled = app.handle(ben, Input::Text(line), T0 + 30).unwrap();
        assert!(handled
            .messages
            .iter()
            .all(|m| m.chat == ben || m.chat == GROUP));
        assert!(
            !to(&handled, ben).contains("T-000001"),
            "{line}: {}",
            to(&handled, ben)
        );
    }
    // Ben's /close closed his own ticket only; Ann's is still queued.
    let tickets = store.tickets().unwrap();
    assert_eq!(tickets[0].chat, ann);
    assert_eq!(tickets[0].status, Status::Queued);
    assert_eq!(tickets[1].status, Status::Closed);
    let status = to(
        &app.handle(ann, Input::Text("/status"), T0 + 40).unwrap(),
        ann,
    );
    assert!(status.contains("T-000001"), "{status}");
    assert!(!status.contains("T-000002"), "{status}");
}

#[test]
fn phishing_replies_are_blocked_noted_and_alert_supervisors() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        let app = app(&store);
        app.handle(USER, Input::Text("my withdrawal has not arrived"), T0)
            .unwrap();
        app.handle(USER, Input::Text("/human"), T0 + 5).unwrap();
        cmd(&app, BO, "/take 1", T0 + 10);

        // A reply to the card (the Telegram path) moving funds: not sent,
        // Bo is told why, the ticket notes it without the text.
        let first = app
            .agent(
                GROUP,
                BO,
                AgentInput::Reply {
                    ticket: 1,
                    text: "请把资金转到安全账户 TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
                },
                T0 + 20,
            )
            .unwrap();
        assert!(to(&first, USER).is_empty(), "{}", to(&first, USER));
        let told = to(&first, GROUP);
        assert!(
            told.contains("Not sent") && told.contains("move or pay funds"),
            "{told}"
        );
        assert!(to(&first, ALICE).is_empty(), "no alert after one attempt");
        let t = store.ticket(1).unwrap().unwrap();
        assert_eq!(t.blocked_replies.len(), 1);
        let note = t.notes.last().unwrap();
        assert!(
            note.text.contains("blocked agent reply") && note.text.contains("asks to move funds"),
            "{}",
            note.text
        );
        assert!(!note.text.contains("TQn9"), "{}", note.text);
        assert!(t.transcript.iter().all(|l| !l.text.contains("安全账户")));
    }
    // The count survives a restart: the second attempt alerts Alice (the
    // supervisor) in her private chat, naming Bo, the ticket and the kind.
    let store = SledStore::open(dir.path()).unwrap();
    let app = app(&store);
    let second = cmd(&app, BO, "/reply 1 加我微信 kefu8888 详聊", T0 + 40);
    assert!(to(&second, USER).is_empty());
    assert!(
        to(&second, GROUP).contains("off the platform"),
        "{}",
        to(&second, GROUP)
    );
    let alert = to(&second, ALICE);
    assert!(
        alert.contains("Bo")
            && alert.contains("T-000001")
            && alert.contains("off-platform contact"),
        "{alert}"
    );
    let t = store.ticket(1).unwrap().unwrap();
    assert_eq!(t.blocked_replies.len(), 2);
    assert_eq!(
        t.notes
            .iter()
            .filter(|n| n.text.starts_with("blocked agent reply"))
            .count(),
        2
    );
    // An ordinary reply asking for the TXID still goes through.
    let ok = cmd(
        &app,
        BO,
        "/reply 1 Please send the TXID; never share your seed phrase with anyone.",
        T0 + 60,
    );
    assert!(
        to(&ok, USER).contains("Please send the TXID"),
        "{}",
        to(&ok, USER)
    );
    assert!(to(&ok, ALICE).is_empty());
    assert_eq!(store.ticket(1).unwrap().unwrap().blocked_replies.len(), 2);
}
