//! `kefu serve` end to end: the real binary against a fake Bot API server
//! on loopback, with a temp data directory and temp copies of the pack.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::fake_api::{FakeApi, TOKEN};

const WAIT: Duration = Duration::from_secs(30);

/// The admin token the test servers run with.
const ADMIN_TOKEN: &str = "test-admin-token-4f1c9a7e";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A temp directory with a copy of the pack and a data directory.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        copy_dir(&root.join("intents"), &dir.path().join("intents"));
        copy_dir(&root.join("dialogs"), &dir.path().join("dialogs"));
        Workspace { dir }
    }

    /// A workspace whose `kefu.toml` (read from the working directory)
    /// holds `config`.
    fn with_config(config: &str) -> Workspace {
        let workspace = Workspace::new();
        std::fs::write(workspace.path("kefu.toml"), config).unwrap();
        workspace
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    admin: String,
    /// Reads the log as it comes, so a full pipe never blocks the bot.
    log: Option<std::thread::JoinHandle<String>>,
}

fn kefu(workspace: &Workspace, api: &FakeApi, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kefu"));
    command
        .current_dir(workspace.dir.path())
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", &api.url)
        .env("RUST_LOG", "info")
        .env_remove("KEFU_AGENTS_GROUP")
        .env_remove("KEFU_ADMIN")
        .env("KEFU_ADMIN_TOKEN", ADMIN_TOKEN)
        .arg("--intents")
        .arg(workspace.path("intents"))
        .arg("--dialogs")
        .arg(workspace.path("dialogs"))
        .arg("serve")
        .arg("--data")
        .arg(workspace.path("data"))
        .args(["--poll-timeout", "1"])
        .args(extra);
    command
}

impl Server {
    fn start(workspace: &Workspace, api: &FakeApi, extra: &[&str]) -> Server {
        let admin = format!("127.0.0.1:{}", free_port());
        let mut args = vec!["--admin", &admin];
        args.extend_from_slice(extra);
        let mut child = kefu(workspace, api, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut log = String::new();
            let _ = pipe.read_to_string(&mut log);
            log
        });
        let server = Server {
            child,
            admin,
            log: Some(log),
        };
        let start = Instant::now();
        while get(&server.admin, "/healthz").is_none() {
            assert!(start.elapsed() < WAIT, "kefu serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn signal(&self, signal: i32) {
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Sends SIGTERM and returns the exit code and stderr.
    fn stop(mut self) -> (i32, String) {
        self.signal(libc::SIGTERM);
        let status = self.child.wait().unwrap();
        let stderr = self.log.take().unwrap().join().unwrap();
        (status.code().unwrap_or(-1), stderr)
    }

    fn kill(mut self) {
        self.signal(libc::SIGKILL);
        self.child.wait().unwrap();
    }

    fn metric(&self, name: &str) -> f64 {
        let text = get(&self.admin, "/metrics").unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny HTTP GET (the admin endpoint is plain HTTP on loopback).
fn get(address: &str, path: &str) -> Option<String> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    if !response.starts_with("HTTP/1.1 200") {
        return None;
    }
    let body = response.split_once("\r\n\r\n")?.1.to_string();
    Some(body)
}

/// A GET with an optional `Authorization` header: the status and body.
fn get_with(address: &str, path: &str, authorization: Option<&str>) -> Option<(u16, String)> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let authorization = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    Some((status, response.split_once("\r\n\r\n")?.1.to_string()))
}

/// The ticket API with the test token.
fn get_tickets(address: &str, path: &str) -> Option<String> {
    match get_with(address, path, Some(&format!("Bearer {ADMIN_TOKEN}")))? {
        (200, body) => Some(body),
        _ => None,
    }
}

/// Posts `body` to a webhook; the HTTP status.
fn post(address: &str, path: &str, secret: Option<&str>, body: &str) -> Option<u16> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let secret = secret
        .map(|s| format!("X-Telegram-Bot-Api-Secret-Token: {s}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n{secret}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split(' ').nth(1)?.parse().ok()
}

/// The sent message to `chat` whose keyboard has a button labelled
/// `label`: (message id, callback data).
fn button(api: &FakeApi, chat: i64, label: &str) -> Option<(i64, String)> {
    api.sent_to(chat)
        .into_iter()
        .rev()
        .find_map(|(id, message)| {
            message["reply_markup"]["inline_keyboard"]
                .as_array()?
                .iter()
                .flat_map(|row| row.as_array().cloned().unwrap_or_default())
                .find(|b| b["text"].as_str() == Some(label))
                .map(|b| (id, b["callback_data"].as_str().unwrap().to_string()))
        })
}

fn said(api: &FakeApi, chat: i64, needle: &str) -> bool {
    api.texts_to(chat).iter().any(|t| t.contains(needle))
}

#[test]
fn a_dialog_with_buttons_ends_in_a_ticket() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    let commands = api.calls_to("setMyCommands");
    assert_eq!(commands.len(), 2, "English and Chinese menus");
    assert!(commands.iter().any(|c| c.body["language_code"] == "zh"));
    let names: Vec<&str> = commands[0].body["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    for name in ["start", "help", "status", "human", "cancel", "lang"] {
        assert!(names.contains(&name), "{names:?}");
    }

    let user = 501;
    api.send_text(user, "en", "my account is locked");
    api.wait_until("the reason buttons", WAIT, |api| {
        button(api, user, "Too many wrong passwords").is_some()
    });
    for (_, message) in api.sent_to(user) {
        for row in message["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for b in row.as_array().unwrap() {
                assert!(b["callback_data"].as_str().unwrap().len() <= 64);
            }
        }
    }
    let (message, data) = button(&api, user, "Too many wrong passwords").unwrap();
    api.press(user, message, &data);
    api.wait_until("the answer to the button", WAIT, |api| {
        button(api, user, "No, I need a person").is_some()
    });
    assert!(
        !api.calls_to("answerCallbackQuery").is_empty(),
        "the spinner stops"
    );
    let edited = &api
        .sent_to(user)
        .into_iter()
        .find(|(id, _)| *id == message)
        .unwrap()
        .1;
    assert!(
        edited["reply_markup"].is_null()
            || edited["reply_markup"]["inline_keyboard"] == serde_json::json!([]),
        "the pressed keyboard is gone: {edited}"
    );
    assert!(
        edited["text"]
            .as_str()
            .unwrap()
            .contains("» Too many wrong passwords"),
        "{edited}"
    );

    let (message, data) = button(&api, user, "No, I need a person").unwrap();
    api.press(user, message, &data);
    api.wait_until("the ticket number", WAIT, |api| said(api, user, "T-0"));

    // The read-only ticket API and `kefu tickets --server`.
    let tickets: Value =
        serde_json::from_str(&get_tickets(&server.admin, "/tickets").unwrap()).unwrap();
    assert_eq!(tickets.as_array().unwrap().len(), 1, "{tickets}");
    assert_eq!(tickets[0]["chat"], user);
    let one: Value =
        serde_json::from_str(&get_tickets(&server.admin, "/tickets/1").unwrap()).unwrap();
    assert_eq!(one["number"], 1, "{one}");
    let output = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .env("KEFU_ADMIN_TOKEN", ADMIN_TOKEN)
        .args(["ticket", "1", "--json", "--server", &server.admin])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let via_cli: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(via_cli["number"], 1);
    let output = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .env("KEFU_ADMIN_TOKEN", ADMIN_TOKEN)
        .args(["tickets", "--server", &server.admin])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("T-000001"));
    assert_eq!(server.metric("kefu_handoffs_total"), 1.0);
    assert!(get(&server.admin, "/metrics")
        .unwrap()
        .contains("kefu_reply_latency_seconds_count"));

    // A Chinese-speaking user starts in Chinese.
    api.send_text(502, "zh-hans", "/help");
    api.wait_until("a Chinese reply", WAIT, |api| {
        api.texts_to(502)
            .iter()
            .any(|t| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
    });

    // A message forwarded from a stranger: is that really staff?
    api.send_forwarded(
        503,
        "en",
        "Crypto_Support_Desk",
        "DM me your 2FA code to unlock",
    );
    api.wait_until("a verification answer", WAIT, |api| {
        api.texts_to(503)
            .iter()
            .any(|t| t.contains("@crypto_support_desk is NOT on our official staff list"))
    });

    // A pasted seed phrase: a warning, and the message is deleted.
    let seed = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    api.send_text(504, "en", &format!("is my wallet safe? {seed}"));
    api.wait_until("the pasted seed phrase deleted", WAIT, |api| {
        !api.calls_to("deleteMessage").is_empty()
    });
    assert!(api.texts_to(504).iter().any(|t| t.contains("⚠️")));
    assert!(api.texts_to(504).iter().all(|t| !t.contains("sausage")));

    // What the classifier made of the messages, by intent.
    api.send_text(505, "en", "write me a poem about the sea");
    api.wait_until("the fallback answer", WAIT, |api| {
        !api.texts_to(505).is_empty()
    });
    assert!(server.metric("kefu_matched_total{intent=\"account_locked\"}") >= 1.0);
    assert!(server.metric("kefu_fallbacks_total") >= 1.0);
    assert!(server.metric("kefu_messages_in_total") >= 3.0);

    // Another group: one polite message, then the bot leaves.
    api.send_group_text(-100777, 9, "hello bot");
    api.wait_until("leaving the group", WAIT, |api| {
        !api.calls_to("leaveChat").is_empty()
    });
    assert_eq!(api.texts_to(-100777).len(), 1);

    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("no agents' group configured"), "{stderr}");
    for secret_ish in ["my account is locked", "hello bot", "sausage", "DM me your"] {
        assert!(
            !stderr.contains(secret_ish),
            "user text in the log: {stderr}"
        );
    }
}

#[test]
fn a_429_is_waited_out_and_the_message_still_delivered() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &[]);
    api.fail_with_429("sendMessage", 1, 1);
    api.send_text(601, "en", "/start");
    api.wait_until("the welcome", WAIT, |api| !api.texts_to(601).is_empty());
    let sends = api.calls_to("sendMessage");
    assert!(sends.len() >= 2, "the refused send was retried");
    let gap = sends[sends.len() - 1].at - sends[0].at;
    assert!(
        gap >= Duration::from_millis(900),
        "retry_after was respected: {gap:?}"
    );
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_server_error_is_retried_and_the_message_still_delivered() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &[]);
    // A proxy in front of Telegram failing twice: an HTML page, no JSON.
    api.fail_with_502("sendMessage", 2);
    api.send_text(605, "en", "/start");
    api.wait_until("the welcome", WAIT, |api| !api.texts_to(605).is_empty());
    let sends: Vec<_> = api
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| c.body["chat_id"] == 605)
        .collect();
    assert_eq!(
        sends.iter().filter(|c| c.refused).count(),
        2,
        "both failures were seen"
    );
    assert_eq!(sends.len(), 3, "retried until delivered, then no more");
    assert_eq!(api.texts_to(605).len(), 1, "delivered once");
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("sending failed; retrying"), "{stderr}");
    assert!(!stderr.contains("refused the message"), "{stderr}");
}

#[test]
fn a_429_holds_only_its_chat_and_retry_after_is_capped() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &[]);
    let held = 611;
    api.fail_chat_with_429(held, 1, 60);
    api.send_text(held, "en", "/start");
    api.wait_until("the refusal", WAIT, |api| {
        api.calls_to("sendMessage").iter().any(|c| c.refused)
    });
    let refused = api
        .calls_to("sendMessage")
        .into_iter()
        .find(|c| c.refused)
        .unwrap()
        .at;
    // Other chats talk meanwhile, and are answered at once.
    for user in 612..617 {
        let sent = Instant::now();
        api.send_text(user, "en", "/start");
        api.wait_until("another chat's answer", WAIT, |api| {
            !api.texts_to(user).is_empty()
        });
        assert!(
            sent.elapsed() < Duration::from_secs(3),
            "chat {user} waited {:?} for another chat's 429",
            sent.elapsed()
        );
    }
    assert!(api.texts_to(held).is_empty(), "the held chat waits");
    // retry_after 60 is waited 30 s at most.
    api.wait_until("the held chat's answer", Duration::from_secs(45), |api| {
        !api.texts_to(held).is_empty()
    });
    let delivered = api
        .calls_to("sendMessage")
        .into_iter()
        .find(|c| c.body["chat_id"] == held && !c.refused)
        .unwrap()
        .at;
    let waited = delivered - refused;
    assert!(
        waited >= Duration::from_secs(29) && waited < Duration::from_secs(40),
        "{waited:?}"
    );
    assert_eq!(server.metric("kefu_retry_after_total"), 1.0);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn an_unreadable_200_and_a_long_outage_still_deliver_the_reply() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &[]);
    // Telegram may have the message or not: it is sent again.
    api.garble("sendMessage", 2);
    api.send_text(621, "en", "/start");
    api.wait_until("the welcome", WAIT, |api| !api.texts_to(621).is_empty());
    assert_eq!(server.metric("kefu_send_retries_total"), 2.0);
    assert_eq!(server.metric("kefu_send_failures_total"), 0.0);

    // The Bot API is down for longer than the old six tries lasted.
    let outage = Duration::from_secs(17);
    let start = Instant::now();
    api.outage("sendMessage", outage);
    api.send_text(622, "en", "/start");
    api.wait_until("the welcome after the outage", WAIT, |api| {
        !api.texts_to(622).is_empty()
    });
    assert!(start.elapsed() >= outage, "{:?}", start.elapsed());
    assert_eq!(api.texts_to(622).len(), 1);
    let retries = server.metric("kefu_send_retries_total");
    assert!(retries >= 2.0 + 5.0, "{retries} retries");
    assert_eq!(server.metric("kefu_send_failures_total"), 0.0);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ERROR"), "{stderr}");
    assert!(stderr.contains("sending failed; retrying"), "{stderr}");
    assert!(!stderr.contains("refused the message"), "{stderr}");
}

#[test]
fn unreadable_and_poison_updates_are_skipped_and_the_rest_answered() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let first = api.next_update_id();
    let chat = r#"{"id":701,"type":"private","first_name":"U"}"#;
    let good = |id: i64, user: i64| api.raw_message(id, user, r#""/start""#);
    let updates = [
        (first, good(first, 701)),
        // teloxide unwraps a reaction's actor: this one panics its parser.
        (
            first + 1,
            format!(
                r#"{{"update_id":{},"message_reaction":{{"chat":{chat},"message_id":1,"date":1700000000,"old_reaction":[],"new_reaction":[]}}}}"#,
                first + 1
            ),
        ),
        // Not JSON.
        (
            first + 2,
            format!(r#"{{"update_id":{},"message":{{"text": tru}}}}"#, first + 2),
        ),
        // A lone surrogate.
        (
            first + 3,
            api.raw_message(first + 3, 702, r#""my secret \ud800""#),
        ),
        // Nested past serde's limit.
        (
            first + 4,
            api.raw_message(
                first + 4,
                702,
                &format!("{}1{}", "[".repeat(200), "]".repeat(200)),
            ),
        ),
        (first + 5, good(first + 5, 703)),
        // The largest id an i32 holds, then one past u32.
        (i64::from(i32::MAX), good(i64::from(i32::MAX), 704)),
        ((1 << 32) + 7, good((1 << 32) + 7, 705)),
    ];
    for (id, update) in &updates {
        api.push_raw(*id, update);
    }
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    api.wait_until("the good updates answered", WAIT, |api| {
        [701, 703, 704].iter().all(|u| !api.texts_to(*u).is_empty())
    });
    api.wait_until("every update confirmed", WAIT, |api| api.unconfirmed() == 0);
    assert!(api.texts_to(702).is_empty());
    assert!(
        api.texts_to(705).is_empty(),
        "an id past u32 is not an update"
    );
    assert_eq!(server.metric("kefu_unreadable_updates_total"), 5.0);
    // No busy loop: with a 1 s long poll, a few calls in two seconds.
    let before = api.calls_to("getUpdates").len();
    std::thread::sleep(Duration::from_secs(2));
    let calls = api.calls_to("getUpdates").len() - before;
    assert!(calls <= 4, "{calls} getUpdates calls in 2 s");
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("message_reaction"), "{stderr}");
    assert!(
        stderr.contains("an unreadable update was skipped"),
        "{stderr}"
    );
    assert!(!stderr.contains("my secret"), "{stderr}");
}

#[test]
fn update_ids_that_restart_lower_are_answered() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    api.send_text(711, "en", "/start");
    api.wait_until("the first answer", WAIT, |api| {
        !api.texts_to(711).is_empty()
    });
    assert!(api.next_update_id() > 1000);
    // A week without updates: Telegram picks the next id anew.
    api.restart_update_ids(5);
    assert_eq!(api.send_text(712, "en", "/start"), 5);
    api.send_text(711, "en", "/help");
    api.wait_until("both answered", WAIT, |api| {
        !api.texts_to(712).is_empty() && api.texts_to(711).len() >= 2
    });
    assert_eq!(server.metric("kefu_update_id_restarts_total"), 1.0);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("update ids went back"), "{stderr}");

    // After a restart of kefu, the lower ids go on.
    let answered = api.texts_to(711).len();
    api.send_text(711, "en", "/start");
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    api.wait_until("the answer after a restart", WAIT, |api| {
        api.texts_to(711).len() > answered
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(api.texts_to(712).len(), 1, "none answered twice");
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_backlog_after_downtime_is_handled_in_full() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    // Before kefu starts: four users wrote ten messages each over the
    // last hour, at a calm pace, the last one `/human`.
    let users: Vec<i64> = (721..725).collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let start = now - 3_600;
    for i in 0..10 {
        for &user in &users {
            let text = if i == 9 { "/human" } else { "hello" };
            api.send_text_at(user, "en", text, start + 5 * i);
        }
    }
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    api.wait_until("every ticket opened", WAIT, |api| {
        users.iter().all(|u| said(api, *u, "T-0"))
    });
    assert_eq!(server.metric("kefu_handoffs_total"), users.len() as f64);
    assert_eq!(server.metric("kefu_flood_dropped_total"), 0.0);
    assert_eq!(server.metric("kefu_messages_in_total"), 40.0);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn messages_keep_telegrams_limits_per_chat_and_overall() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &[]);
    let users: Vec<i64> = (800..840).collect();
    for _ in 0..2 {
        for &user in &users {
            api.send_text(user, "en", "/start");
        }
    }
    let total = users.len() * 2;
    api.wait_until("every message answered", WAIT, |api| {
        api.calls_to("sendMessage").len() >= total
    });
    let sends = api.calls_to("sendMessage");
    assert_eq!(sends.len(), total, "none refused, none twice");
    // Arrival times at the server; allow 250 ms for the way there on a
    // busy machine (without limits, all of them arrive within a few ms).
    let slack = Duration::from_millis(250);
    for &user in &users {
        let at: Vec<Instant> = sends
            .iter()
            .filter(|c| c.body["chat_id"].as_i64() == Some(user))
            .map(|c| c.at)
            .collect();
        assert_eq!(at.len(), 2, "user {user}");
        assert!(
            at[1] - at[0] >= Duration::from_secs(1) - slack,
            "user {user}: two messages {:?} apart",
            at[1] - at[0]
        );
    }
    for (i, first) in sends.iter().enumerate() {
        let within = sends[i..]
            .iter()
            .take_while(|c| c.at - first.at < Duration::from_secs(1) - slack)
            .count();
        assert!(within <= 30, "{within} messages within a second");
    }
    // Every user's second message waited for its chat, and some of the
    // first ones for the overall limit.
    let waited = server.metric("kefu_rate_limited_total");
    assert!(
        (users.len() as f64 + 1.0..=total as f64).contains(&waited),
        "{waited} messages waited"
    );
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_crash_loses_no_message_and_answers_none_twice() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &[]);
    let users: Vec<i64> = (700..710).collect();
    let per_user = 4;
    for _ in 0..per_user {
        for &user in &users {
            api.send_text(user, "en", "/start");
        }
    }
    // The throttle sends one message a second per chat: kill between two
    // rounds, with replies decided and not yet sent.
    api.wait_until("a first round of replies", WAIT, |api| {
        api.calls_to("sendMessage").len() >= users.len()
    });
    std::thread::sleep(Duration::from_millis(400));
    server.kill();
    let before = api.calls_to("sendMessage").len();
    assert!(
        before < users.len() * per_user,
        "killed mid-stream ({before} sent)"
    );

    let server = Server::start(&workspace, &api, &[]);
    let total = users.len() * per_user;
    api.wait_until("every message answered", WAIT, |api| {
        api.calls_to("sendMessage").len() >= total
    });
    std::thread::sleep(Duration::from_millis(1500));
    for &user in &users {
        assert_eq!(
            api.texts_to(user).len(),
            per_user,
            "user {user}: {:?}",
            api.texts_to(user)
        );
    }
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_valid_pack_change_goes_live_and_a_broken_one_is_refused() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    let user = 801;
    api.send_text(user, "en", "my account is locked");
    api.wait_until("the reason buttons", WAIT, |api| {
        button(api, user, "Too many wrong passwords").is_some()
    });

    let file = workspace.path("dialogs/account_locked.toml");
    let original = std::fs::read_to_string(&file).unwrap();
    assert!(original.contains("What does the login page or app say?"));
    let changed = original.replace(
        "What does the login page or app say?",
        "What does the login screen tell you now?",
    );
    std::fs::write(&file, &changed).unwrap();
    let start = Instant::now();
    while server.metric("kefu_reloads_total") < 1.0 {
        assert!(start.elapsed() < WAIT, "no reload");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The session survives the reload.
    let (message, data) = button(&api, user, "Too many wrong passwords").unwrap();
    api.press(user, message, &data);
    api.wait_until("the dialog going on", WAIT, |api| {
        button(api, user, "No, I need a person").is_some()
    });
    api.send_text(user, "en", "/start");
    api.send_text(user, "en", "my account is locked");
    api.wait_until("the new text", WAIT, |api| {
        said(api, user, "login screen tell you now")
    });

    std::fs::write(
        &file,
        changed.replace("type = \"choose\"", "type = \"chose\""),
    )
    .unwrap();
    let start = Instant::now();
    while server.metric("kefu_reload_errors_total") < 1.0 {
        assert!(start.elapsed() < WAIT, "the broken pack was not noticed");
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = api
        .texts_to(user)
        .iter()
        .filter(|t| t.contains("login screen tell you now"))
        .count();
    api.send_text(user, "en", "/start");
    api.send_text(user, "en", "my account is locked");
    api.wait_until("the old pack answering", WAIT, |api| {
        api.texts_to(user)
            .iter()
            .filter(|t| t.contains("login screen tell you now"))
            .count()
            > before
    });
    assert_eq!(server.metric("kefu_reloads_total"), 1.0);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("account_locked.toml:"),
        "the problem is logged with its place: {stderr}"
    );
}

#[test]
fn flooding_users_are_told_once_to_slow_down() {
    let workspace = Workspace::with_config("[limits]\nflood_messages = 3\nflood_window = \"1m\"\n");
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    // Commands are never dropped: plain messages.
    for _ in 0..6 {
        api.send_text(901, "en", "hi");
    }
    api.wait_until("the warning", WAIT, |api| said(api, 901, "too fast"));
    std::thread::sleep(Duration::from_millis(500));
    let texts = api.texts_to(901);
    assert_eq!(texts.len(), 4, "three answers and one warning: {texts:?}");
    assert_eq!(server.metric("kefu_flood_dropped_total"), 3.0);
    let (code, _) = server.stop();
    assert_eq!(code, 0);
}

#[test]
fn a_missing_or_rejected_token_is_one_line_and_exit_2() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let output = kefu(&workspace, &api, &[])
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TELOXIDE_TOKEN"), "{stderr}");

    let output = kefu(&workspace, &api, &[])
        .env("TELOXIDE_TOKEN", "999:wrong")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("rejected the token"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn agents_take_and_answer_tickets_from_their_group() {
    let workspace = Workspace::with_config(
        "[agents]\ngroup = -100500\n[[agents.member]]\nid = 42\nname = \"Alice\"\n",
    );
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    let (user, group) = (1001, -100500);
    api.send_text(user, "en", "/human");
    api.wait_until("the ticket card", WAIT, |api| {
        api.sent_to(group)
            .iter()
            .any(|(_, m)| m["reply_markup"].is_object())
    });
    let (card, data) = api
        .sent_to(group)
        .into_iter()
        .find_map(|(id, m)| {
            let data = m["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                .as_str()?
                .to_string();
            data.starts_with("take:").then_some((id, data))
        })
        .expect("a card with a take button");
    assert!(said(&api, user, "T-0"), "the user has the ticket number");

    // Someone not on the list is refused.
    api.send_group_text(group, 77, "/take 1");
    api.wait_until("the refusal", WAIT, |api| {
        said(api, group, "only the support team")
    });

    api.press(42, card, &data);
    api.wait_until("the user told", WAIT, |api| said(api, user, "Alice"));

    // An agent's reply to the card reaches the user.
    api.send_group_reply(group, 42, card, "Hello, I am looking at your account now.");
    api.wait_until("the agent's reply relayed", WAIT, |api| {
        said(api, user, "looking at your account")
    });
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains("looking at your account"),
        "agent text in the log"
    );
}

#[test]
fn the_webhook_takes_updates_with_its_secret_and_answers_each_once() {
    let listen = format!("127.0.0.1:{}", free_port());
    let workspace = Workspace::with_config(&format!("[serve]\nwebhook_listen = \"{listen}\"\n"));
    let api = FakeApi::start();
    let url = format!("http://{listen}/telegram/hook");
    let server = Server::start(&workspace, &api, &["--no-throttle", "--webhook-url", &url]);
    let set = api.calls_to("setWebhook");
    assert_eq!(set.len(), 1, "setWebhook called once");
    assert_eq!(set[0].body["url"], url.as_str());
    let secret = set[0].body["secret_token"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32, "a long random secret: {secret}");
    assert!(
        api.calls_to("getUpdates").is_empty(),
        "no long polling in webhook mode"
    );

    let user = 3001;
    let update = api.message_update(user, "en", "/start").to_string();
    let path = "/telegram/hook";
    assert_eq!(post(&listen, path, None, &update), Some(401), "no secret");
    assert_eq!(
        post(&listen, path, Some("wrong"), &update),
        Some(401),
        "wrong secret"
    );
    // 200 means recorded: the reply is on its way.
    assert_eq!(post(&listen, path, Some(&secret), &update), Some(200));
    api.wait_until("the reply", WAIT, |api| !api.texts_to(user).is_empty());
    // Telegram retries what it thinks failed: answered once all the same.
    assert_eq!(post(&listen, path, Some(&secret), &update), Some(200));
    // Something that is not JSON is refused; JSON that is not a
    // readable update is acknowledged (Telegram would send it forever)
    // and skipped.
    assert_eq!(post(&listen, path, Some(&secret), "{not json"), Some(400));
    let poison = format!(
        r#"{{"update_id":{},"message_reaction":{{"chat":{{"id":{user},"type":"private","first_name":"U"}},"message_id":1,"date":1700000000,"old_reaction":[],"new_reaction":[]}}}}"#,
        api.next_update_id() + 50
    );
    assert_eq!(post(&listen, path, Some(&secret), &poison), Some(200));
    let surrogate = api.raw_message(api.next_update_id() + 51, user, r#""\ud800""#);
    assert_eq!(post(&listen, path, Some(&secret), &surrogate), Some(200));
    let second = api
        .message_update(user, "en", "my withdrawal has not arrived")
        .to_string();
    assert_eq!(post(&listen, path, Some(&secret), &second), Some(200));
    let asked = "Which coin did you withdraw?";
    api.wait_until("the second reply", WAIT, |api| {
        api.texts_to(user).iter().any(|t| t == asked)
    });
    // Past the instant of sending: the kill is not mid-send.
    std::thread::sleep(Duration::from_millis(300));
    let before = api.texts_to(user).len();
    server.kill();

    // A restart on the same data still knows both updates.
    let server = Server::start(&workspace, &api, &["--no-throttle", "--webhook-url", &url]);
    let secret = api.calls_to("setWebhook")[1].body["secret_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(post(&listen, path, Some(&secret), &second), Some(200));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(api.texts_to(user).len(), before, "{:?}", api.texts_to(user));
    // The dialog goes on where it was.
    let third = api.message_update(user, "en", "USDT").to_string();
    assert_eq!(post(&listen, path, Some(&secret), &third), Some(200));
    api.wait_until("the third reply", WAIT, |api| {
        api.texts_to(user).len() > before
    });
    std::thread::sleep(Duration::from_millis(300));
    let texts = api.texts_to(user);
    assert_eq!(texts.iter().filter(|t| *t == asked).count(), 1, "{texts:?}");
    assert!(texts.last().unwrap().contains("network"), "{texts:?}");
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("webhook listening"), "{stderr}");
}

#[test]
fn supervisors_reload_the_pack_from_the_agents_group() {
    let workspace = Workspace::with_config(
        "[agents]\ngroup = -100600\n[[agents.member]]\nid = 51\nname = \"Sam\"\nrole = \"supervisor\"\n[[agents.member]]\nid = 52\nname = \"Ann\"\n",
    );
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &["--no-throttle"]);
    let group = -100600;
    api.send_group_text(group, 52, "/reload");
    api.wait_until("the refusal", WAIT, |api| {
        said(api, group, "Only supervisors can reload")
    });
    assert_eq!(server.metric("kefu_reloads_total"), 0.0);

    api.send_group_text(group, 51, "/reload@kefu_test_bot");
    api.wait_until("the report", WAIT, |api| said(api, group, "Pack reloaded"));
    let intents = std::fs::read_dir(workspace.path("intents"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        // `_synonyms.toml` and `_out_of_scope.toml` are not intents.
        .filter(|name| name.ends_with(".toml") && !name.starts_with('_'))
        .count();
    let report = api
        .texts_to(group)
        .into_iter()
        .find(|t| t.contains("Pack reloaded"))
        .unwrap();
    assert!(report.contains(&format!("{intents} intents")), "{report}");
    assert_eq!(server.metric("kefu_reloads_total"), 1.0);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn user_data_on_the_admin_endpoint_needs_the_token() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    let server = Server::start(&workspace, &api, &[]);
    let user = 7001;
    api.send_text(
        user,
        "en",
        "my account was hacked, someone changed my email",
    );
    api.send_text(user, "en", "/human");
    api.wait_until("the ticket number", WAIT, |api| said(api, user, "T-0"));

    // Every route with user data: no header, another scheme, a wrong token
    // (same length and a prefix of the right one), the token in the query.
    let wrong = format!("Bearer {}x", &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1]);
    let basic = format!("Basic {ADMIN_TOKEN}");
    let prefix = format!("Bearer {}", &ADMIN_TOKEN[..8]);
    for path in [
        "/tickets",
        "/tickets/1",
        "/tickets/T-000001",
        "/tickets?status=queued",
    ] {
        for authorization in [
            None,
            Some(basic.as_str()),
            Some(wrong.as_str()),
            Some(prefix.as_str()),
        ] {
            let (status, body) = get_with(&server.admin, path, authorization).unwrap();
            assert_eq!(status, 401, "{path} with {authorization:?}: {body}");
            assert!(!body.contains("hacked"), "{body}");
            assert!(!body.contains(&user.to_string()), "{body}");
        }
        let (status, body) = get_with(
            &server.admin,
            &format!(
                "{path}{}token={ADMIN_TOKEN}",
                if path.contains('?') { "&" } else { "?" }
            ),
            None,
        )
        .unwrap();
        assert_eq!(status, 401, "{path} with the token in the query: {body}");
    }
    let (status, body) = get_with(
        &server.admin,
        "/tickets/1",
        Some(&format!("bearer {ADMIN_TOKEN}")),
    )
    .unwrap();
    assert_eq!(status, 200, "the scheme is case-insensitive: {body}");
    assert!(body.contains(&user.to_string()), "{body}");

    // Health and metrics carry no user data and stay open.
    let (status, health) = get_with(&server.admin, "/healthz", None).unwrap();
    assert_eq!(status, 200);
    let (status, metrics) = get_with(&server.admin, "/metrics", None).unwrap();
    assert_eq!(status, 200);
    for text in [&health, &metrics] {
        assert!(
            !text.contains("hacked") && !text.contains("email"),
            "{text}"
        );
        assert!(!text.contains(&user.to_string()), "{text}");
    }

    // The CLI without the token is told what is missing, and shows nothing.
    let output = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .current_dir(workspace.dir.path())
        .env_remove("KEFU_ADMIN_TOKEN")
        .args(["tickets", "--server", &server.admin])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("KEFU_ADMIN_TOKEN"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("T-000001"));
    let (_, log) = server.stop();
    assert!(
        !log.contains(ADMIN_TOKEN),
        "the token never reaches the log"
    );
}

#[test]
fn without_a_token_the_ticket_api_is_off_and_only_loopback_binds() {
    let workspace = Workspace::new();
    let api = FakeApi::start();
    // No token: the ticket API is not served, even with the token a
    // client might guess.
    let admin = format!("127.0.0.1:{}", free_port());
    let mut child = kefu(&workspace, &api, &["--admin", &admin])
        .env_remove("KEFU_ADMIN_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while get(&admin, "/healthz").is_none() {
        assert!(start.elapsed() < WAIT, "kefu serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    for authorization in [None, Some(format!("Bearer {ADMIN_TOKEN}"))] {
        let (status, body) = get_with(&admin, "/tickets", authorization.as_deref()).unwrap();
        assert_eq!(status, 404, "{body}");
        assert!(body.contains("admin token"), "{body}");
    }
    let _ = child.kill();
    let _ = child.wait();

    // Beyond loopback without a token: refused at start, exit 2.
    let open = format!("0.0.0.0:{}", free_port());
    let output = kefu(&workspace, &api, &["--admin", &open])
        .env_remove("KEFU_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
    assert!(stderr.contains("KEFU_ADMIN_TOKEN"), "{stderr}");

    // A token too short to be safe is refused too.
    let output = kefu(&workspace, &api, &["--admin", &open])
        .env("KEFU_ADMIN_TOKEN", "letmein")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 16"));

    // With a token, beyond loopback binds, and the token is required.
    let mut server = kefu(&workspace, &api, &["--admin", &open])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let local = open.replace("0.0.0.0", "127.0.0.1");
    let start = Instant::now();
    while get(&local, "/healthz").is_none() {
        assert!(start.elapsed() < WAIT, "kefu serve did not start on {open}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get_with(&local, "/tickets", None).unwrap().0, 401);
    assert_eq!(
        get_with(&local, "/tickets", Some(&format!("Bearer {ADMIN_TOKEN}")))
            .unwrap()
            .0,
        200
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// A small tmpfs mounted at a directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` (with the reason printed) where mounting is not allowed.
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output();
        match output {
            Ok(output) if output.status.success() => Some(Tmpfs(at.to_path_buf())),
            Ok(output) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    /// Writes a file until the filesystem is full.
    fn fill(&self) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.0.join("filler")).unwrap();
        let block = vec![7u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_healthz_and_stops_the_server_with_an_error() {
    let workspace = Workspace::new();
    let Some(disk) = Tmpfs::mount(&workspace.path("data"), "4m") else {
        return;
    };
    let api = FakeApi::start();
    let mut server = Server::start(&workspace, &api, &[]);
    disk.fill();
    api.send_text(901, "en", "hello");
    // The batch cannot be written: /healthz stops saying ok, and the
    // process ends (non-zero) instead of hanging on.
    let start = Instant::now();
    let mut healthy_after_exit = false;
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < WAIT,
            "kefu serve still running with a full disk (healthz: {:?})",
            get(&server.admin, "/healthz")
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    if get(&server.admin, "/healthz").is_some() {
        healthy_after_exit = true;
    }
    assert!(
        !healthy_after_exit,
        "the admin endpoint went with the process"
    );
    let stderr = server.log.take().unwrap().join().unwrap();
    assert_ne!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("the store cannot write"), "{stderr}");
    assert!(
        api.texts_to(901).is_empty(),
        "nothing is sent that is not durable"
    );
    drop(server);
    drop(disk);
}
