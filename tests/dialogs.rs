//! Dialogs and tickets through the real binary: `kefu check` on broken
//! dialog files, `kefu test` on transcripts, and `kefu chat` on a sled data
//! directory that survives SIGKILL.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn kefu() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kefu"));
    command
        .current_dir(root())
        .env_remove("KEFU_INTENTS")
        .env_remove("KEFU_DIALOGS")
        .env_remove("KEFU_DATA");
    command
}

fn fixture_args() -> Vec<String> {
    vec![
        "--intents".into(),
        root().join("tests/fixture/intents").display().to_string(),
        "--dialogs".into(),
        root().join("tests/fixture/dialogs").display().to_string(),
    ]
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `kefu check` of the fixture intents with another dialogs directory.
fn check_fixture_intents_with(dialogs: &Path) -> Output {
    kefu()
        .arg("check")
        .arg("--intents")
        .arg(root().join("tests/fixture/intents"))
        .arg("--dialogs")
        .arg(dialogs)
        .output()
        .unwrap()
}

#[test]
fn check_reports_every_dialog_problem_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let dialogs = dir.path().join("dialogs");
    std::fs::create_dir(&dialogs).unwrap();
    let broken = r#"id = "withdrawal"

[[node]]
id = "start"
type = "say"
zh = "你好"
next = "nowhere"

[[node]]
id = "ask"
type = "ask"
value = "coin"
regex = "([a-z"
zh = "币种？"
en = "Coin?"

[[node]]
id = "pick"
type = "choose"
zh = "选一个"
en = "Pick one"
[[node.options]]
zh = "甲"
en = "A"
intent = "no_such_intent"
[[node.options]]
zh = "乙"
en = "B"
next = "strat"

[[node]]
id = "mystery"
type = "teleport"
"#;
    std::fs::write(dialogs.join("withdrawal.toml"), broken).unwrap();
    std::fs::write(
        dialogs.join("hacked.toml"),
        "id = \"hacked\"\n[[node]]\nid = \"a\"\ntype = \"goto\"\ndialog = \"hacked\"\n",
    )
    .unwrap();
    std::fs::write(
        dialogs.join("typo.toml"),
        "id = \"typo\"\n[[node]]\nid = \"a\"\ntype = \"handoff\"\ncolour = 1\n",
    )
    .unwrap();
    let output = check_fixture_intents_with(&dialogs);
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output);
    let file = dialogs.join("withdrawal.toml").display().to_string();
    for expected in [
        format!("{file}:4:6: error: node `start` has no en text"),
        format!("{file}:7:8: error: no node `nowhere` in this dialog"),
        format!("{file}:11:8: error: dead end: a `ask` node needs `next`"),
        format!("{file}:13:9: error: invalid regex"),
        format!("{file}:25:10: error: no intent `no_such_intent`"),
        format!("{file}:29:8: error: no node `strat` in this dialog (did you mean `start`?)"),
        format!("{file}:33:8: error: unknown node type `teleport`"),
    ] {
        assert!(out.contains(&expected), "missing `{expected}` in:\n{out}");
    }
    assert!(
        out.contains("hacked.toml:3:6: error: node `a` is part of a loop"),
        "{out}"
    );
    assert!(
        out.contains("typo.toml:5:1: error: unknown field `colour`"),
        "{out}"
    );
    assert!(out.contains("the pack was not loaded"), "{out}");
}

#[test]
fn check_warns_about_unreachable_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let dialogs = dir.path().join("dialogs");
    std::fs::create_dir(&dialogs).unwrap();
    for name in ["withdrawal.toml", "hacked.toml"] {
        std::fs::copy(
            root().join("tests/fixture/dialogs").join(name),
            dialogs.join(name),
        )
        .unwrap();
    }
    let mut text_of = std::fs::read_to_string(dialogs.join("hacked.toml")).unwrap();
    text_of.push_str("\n[[node]]\nid = \"orphan\"\ntype = \"handoff\"\n");
    std::fs::write(dialogs.join("hacked.toml"), text_of).unwrap();
    let output = check_fixture_intents_with(&dialogs);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.contains("warning: node `orphan` is unreachable"),
        "{out}"
    );
}

#[test]
fn kefu_test_passes_good_transcripts_and_shows_a_diff_for_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.txt");
    std::fs::write(
        &good,
        "=== happy\n> my withdrawal has not arrived\n< Which coin?\n> usdt\n< Which network\n> /human\n! handoff normal\n< /T-\\d{6}/\n",
    )
    .unwrap();
    let output = kefu()
        .args(fixture_args())
        .arg("test")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        "=== wrong\n> my withdrawal has not arrived\n< Which planet?\n",
    )
    .unwrap();
    let output = kefu()
        .args(fixture_args())
        .arg("test")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output);
    assert!(
        out.contains("bad.txt:3: [wrong] expected a reply containing \"which planet?\""),
        "{out}"
    );
    assert!(
        out.contains("| Which coin?"),
        "the diff shows what the bot said: {out}"
    );

    let malformed = dir.path().join("malformed.txt");
    std::fs::write(&malformed, "< before anything\nhello\n").unwrap();
    let output = kefu()
        .args(fixture_args())
        .arg("test")
        .arg(&malformed)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("malformed.txt:2:1"),
        "{}",
        text(&output)
    );
}

/// `kefu chat` with pipes kept open, read reply by reply.
struct LiveChat {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl LiveChat {
    fn start(data: &Path, pack: &[String]) -> LiveChat {
        LiveChat::start_with(data, pack, &[])
    }

    fn start_with(data: &Path, pack: &[String], extra: &[&str]) -> LiveChat {
        let mut child = kefu()
            .args(pack)
            .arg("chat")
            .args(extra)
            .arg("--data")
            .arg(data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        LiveChat {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends a line and reads the reply (piped mode ends each with a blank line).
    fn say(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let mut reply = String::new();
        loop {
            let mut next = String::new();
            if self.stdout.read_line(&mut next).unwrap() == 0 || next == "\n" {
                return reply;
            }
            reply.push_str(&next);
        }
    }

    fn kill(mut self) {
        // SIGKILL: no chance to flush or clean up.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

fn tickets_json(data: &Path, pack: &[String]) -> serde_json::Value {
    let output = kefu()
        .args(pack)
        .args(["tickets", "--json", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_killed_chat_resumes_the_same_dialog_with_what_it_collected() {
    let data = tempfile::tempdir().unwrap();
    let pack = fixture_args();
    let mut chat = LiveChat::start(data.path(), &pack);
    assert!(chat
        .say("my withdrawal has not arrived")
        .contains("Which coin?"));
    assert!(chat.say("usdt").contains("Which network?"));
    chat.kill();
    // Killed before a checkpoint: the session is only in the store's
    // journal, which the restart replays.
    let journal = std::fs::metadata(data.path().join("kefu.journal")).unwrap();
    assert!(journal.len() > 0, "the turns are in the journal");

    let mut chat = LiveChat::start(data.path(), &pack);
    let reply = chat.say("trc-20");
    assert!(
        reply.contains("Do you have the TXID?"),
        "resumed at the network question: {reply}"
    );
    let reply = chat.say("/human");
    assert!(reply.contains("T-000001"), "{reply}");
    chat.kill();

    let tickets = tickets_json(data.path(), &pack);
    assert_eq!(tickets.as_array().unwrap().len(), 1, "{tickets}");
    assert_eq!(tickets[0]["number"], "T-000001");
    assert_eq!(tickets[0]["status"], "queued");
    let output = kefu()
        .args(&pack)
        .args(["ticket", "T-000001", "--json", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let ticket: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(ticket["values"]["coin"], "USDT");
    assert_eq!(ticket["values"]["network"], "TRC20");
}

#[test]
fn ticket_commands_say_clearly_when_a_running_kefu_holds_the_data() {
    let data = tempfile::tempdir().unwrap();
    let pack = fixture_args();
    let mut chat = LiveChat::start(data.path(), &pack);
    assert!(!chat.say("hello").is_empty());
    let output = kefu()
        .args(["tickets", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("held by a running kefu"),
        "{}",
        text(&output)
    );
    chat.kill();
}

#[test]
fn asking_for_a_person_in_the_default_pack_opens_a_queued_ticket() {
    for message in ["转人工", "talk to a human"] {
        let data = tempfile::tempdir().unwrap();
        let mut chat = LiveChat::start(data.path(), &[]);
        let reply = chat.say(message);
        assert!(reply.contains("T-000001"), "{message}: {reply}");
        chat.kill();
        let tickets = tickets_json(data.path(), &[]);
        assert_eq!(tickets[0]["status"], "queued", "{tickets}");
        assert_eq!(tickets[0]["number"], "T-000001");
    }
}

#[test]
fn every_shipped_transcript_passes() {
    let output = kefu().arg("test").output().unwrap();
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    let files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/transcripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // Both languages for every shipped dialog.
    for dialog in std::fs::read_dir(root().join("dialogs")).unwrap() {
        let path = dialog.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        for lang in ["zh", "en"] {
            let name = format!("{stem}_{lang}.txt");
            assert!(
                files
                    .iter()
                    .any(|f| f.file_name().unwrap() == name.as_str()),
                "no transcript {name}"
            );
        }
    }
}

#[test]
fn the_terminal_shows_the_whole_ticket_journey_with_a_desk() {
    let data = tempfile::tempdir().unwrap();
    let mut chat = LiveChat::start_with(data.path(), &fixture_args(), &["--desk"]);
    let reply = chat.say("/human");
    assert!(
        reply.contains("T-000001") && reply.contains("[agents] 🆕 T-000001"),
        "{reply}"
    );
    let reply = chat.say("!take 1");
    assert!(
        reply.contains("operator from our support team has taken your ticket T-000001"),
        "{reply}"
    );
    let reply = chat.say("is anyone there?");
    assert!(
        reply.starts_with("[agents] 💬 T-000001"),
        "relayed, no bot answer: {reply}"
    );
    let reply = chat.say("!reply 1 Hello, I'm looking at it now.");
    assert!(
        reply.contains("💬 operator (support, T-000001):\nHello"),
        "{reply}"
    );
    let reply = chat.say("!resolve 1");
    assert!(
        reply.contains("How did we do?") && reply.contains("5. ⭐⭐⭐⭐⭐"),
        "{reply}"
    );
    assert!(chat.say("5").contains("Thank you for the rating"));
    chat.kill();
    let tickets = tickets_json(data.path(), &fixture_args());
    assert_eq!(tickets[0]["status"], "closed");
}

#[test]
fn a_pasted_seed_phrase_is_warned_about_and_never_echoed() {
    let data = tempfile::tempdir().unwrap();
    let seed = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    for (message, warning) in [
        (format!("support asked for my words: {seed}"), "⚠️"),
        (format!("{} 是我的助记词", seed.replace(' ', "\n")), "⚠️"),
    ] {
        let output = {
            let mut child = kefu()
                .args(["chat", "--data"])
                .arg(data.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(message.replace('\n', " ").as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        };
        let out = text(&output);
        assert!(out.contains(warning), "{out}");
        assert!(!out.contains("sausage"), "echoed: {out}");
    }
}
