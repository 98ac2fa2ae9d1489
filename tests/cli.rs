//! The real `kefu` binary on temp dirs of good and broken files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn kefu() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kefu"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
        .env_remove("KEFU_INTENTS")
        .env_remove("KEFU_DIALOGS")
        .env_remove("KEFU_DATA");
    command
}

fn run(args: &[&str]) -> Output {
    kefu().args(args).output().expect("kefu runs")
}

/// Asserts exit 0, showing stderr otherwise.
fn assert_success(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `kefu chat` with `input` piped in, in a fresh data directory
/// unless `args` names one.
fn chat(input: &[u8], args: &[&str]) -> (Output, String) {
    let data = tempfile::tempdir().unwrap();
    let mut command = kefu();
    command.arg("chat").args(args);
    if !args.contains(&"--data") {
        command.arg("--data").arg(data.path());
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = stdout(&output);
    (output, text)
}

/// A temp dir with a small valid pack.
fn small_pack() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let intents = dir.path().join("intents");
    std::fs::create_dir(&intents).unwrap();
    write(
        &intents,
        "withdraw.toml",
        r#"
id = "withdraw"
[zh]
answer = "请查看提币记录。"
keywords = ["提币", { text = "未到账", weight = 2.0 }]
examples = ["提币还没到账", "提现好几个小时了", "我的币提不出来"]
[en]
answer = "Check your withdrawal history."
keywords = ["withdrawal"]
examples = ["my withdrawal is pending", "withdraw not arrived", "cash out stuck"]
"#,
    );
    write(
        &intents,
        "deposit.toml",
        r#"
id = "deposit"
[zh]
answer = "请查看充值记录。"
examples = ["充值没到账", "充币一直不显示", "转进来的币不见了"]
[en]
answer = "Check your deposit history."
examples = ["my deposit is missing", "deposit not credited", "top up not showing"]
patterns = ['deposit\w*.{0,20}missing']
"#,
    );
    write(&intents, "_synonyms.toml", "[[group]]\nconcept = \"withdraw\"\nwords = [\"提币\", \"提现\", \"withdraw\", \"withdrawal\"]\n");
    write(&intents, "_out_of_scope.toml", "[zh]\nexamples = [\"今天天气怎么样\", \"讲个笑话\"]\n[en]\nexamples = [\"tell me a joke\", \"weather tomorrow\"]\n");
    (dir, intents)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn check_passes_on_the_default_pack() {
    let output = run(&["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("ok: 26 intents"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_reports_every_problem_with_file_line_column() {
    let (dir, intents) = small_pack();
    write(
        &intents,
        "syntax.toml",
        "id = \"syntax\"\n[zh\nanswer = 1\n",
    );
    write(
        &intents,
        "unknown.toml",
        "id = \"unknown\"\ncolour = \"red\"\n",
    );
    write(
        &intents,
        "empty.toml",
        "id = \"empty\"\n[zh]\nanswer = \"a\"\n[en]\nanswer = \"b\"\n",
    );
    write(&intents, "regex.toml", "id = \"regex\"\n[zh]\nanswer = \"a\"\nexamples = [\"x\"]\n[en]\nanswer = \"b\"\nexamples = [\"y\"]\npatterns = [\"(oops\"]\n");
    write(&intents, "dialog.toml", "id = \"dialog\"\ndialog = \"missing_flow\"\n[zh]\nexamples = [\"x\"]\n[en]\nexamples = [\"y\"]\n");
    write(&intents, "Bad Name.toml", "id = \"other\"\n[zh]\nanswer = \"a\"\nexamples = [\"x\"]\n[en]\nanswer = \"b\"\nexamples = [\"y\"]\n");
    write(&intents, "_synonyms.toml", "[[group]]\nconcept = \"a\"\nwords = [\"提币\"]\n[[group]]\nconcept = \"b\"\nwords = [\"提币\"]\n");
    let intents_arg = intents.to_str().unwrap();
    let output = run(&[
        "check",
        "--intents",
        intents_arg,
        "--dialogs",
        dir.path().join("dialogs").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let expected = [
        ("syntax.toml:2:", "error"),
        ("unknown.toml:2:1:", "unknown field `colour`"),
        ("empty.toml:1:6:", "intent `empty` is empty"),
        ("regex.toml:8:13:", "invalid regex"),
        ("dialog.toml:2:10:", "dialog `missing_flow` does not exist"),
        ("Bad Name.toml:1:6:", "must match the file name"),
        ("_synonyms.toml:6:10:", "synonym conflict"),
    ];
    for (place, message) in expected {
        assert!(
            text.lines()
                .any(|l| l.contains(place) && l.contains(message)),
            "missing {place} {message} in\n{text}"
        );
    }
    assert!(text.contains("the pack was not loaded"));
}

#[test]
fn check_json_and_usage_errors() {
    let (_dir, intents) = small_pack();
    // A pack of intents alone: no dialogs directory.
    let output = run(&[
        "check",
        "--json",
        "--intents",
        intents.to_str().unwrap(),
        "--dialogs",
        "/nonexistent/kefu/dialogs",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["ok"], true);
    // A directory that does not exist is an IO error: exit 2.
    let output = run(&["check", "--intents", "/nonexistent/kefu/intents"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/kefu/intents"), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "the IO error is printed once: {stderr}"
    );
    // Unknown subcommand: usage error, exit 2.
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn deny_warnings_fails_a_pack_with_warnings() {
    let (_dir, intents) = small_pack();
    // The same message as an example of two intents: a warning, not an error.
    let deposit = std::fs::read_to_string(intents.join("deposit.toml")).unwrap();
    write(
        &intents,
        "deposit.toml",
        &deposit.replace("\"充值没到账\",", "\"充值没到账\", \"提币还没到账\","),
    );
    let intents = intents.to_str().unwrap();
    let args = ["check", "--intents", intents, "--dialogs", "/nonexistent/d"];
    let output = run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("warning"), "{}", stdout(&output));
    assert!(
        !stdout(&output).contains("0 warning(s)"),
        "{}",
        stdout(&output)
    );
    let output = run(&[&args[..], &["--deny-warnings"]].concat());
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("denied by --deny-warnings"));
    let output = run(&[&args[..], &["--deny-warnings", "--json"]].concat());
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["ok"], false);
    assert!(value["warnings"].as_u64().unwrap() >= 1);
    // A clean pack passes with the flag.
    let (_clean, clean) = small_pack();
    let output = run(&[
        "check",
        "--deny-warnings",
        "--intents",
        clean.to_str().unwrap(),
        "--dialogs",
        "/nonexistent/d",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn eval_errors_show_scores_and_the_report_replays_thresholds() {
    let report = tempfile::tempdir().unwrap();
    let dir = report.path().join("report");
    let output = run(&[
        "eval",
        "--json",
        "--errors",
        "--report",
        dir.to_str().unwrap(),
        "tests/data/default_pack_eval.csv",
    ]);
    assert_success(&output);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let errors = value["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    for error in errors {
        assert!(error["scores"]["top"][1].is_number(), "{error}");
        if error["predicted"] != "oos" {
            // A wrong answer always had a nearest example, with its place.
            let nearest = error["nearest"].as_str().unwrap_or_default();
            assert!(nearest.contains(".toml:"), "{error}");
        }
    }
    // The sweep replays the matcher's rules: its row for the current
    // settings is the eval's own figures.
    let sweep = std::fs::read_to_string(dir.join("thresholds.csv")).unwrap();
    let current: Vec<&str> = sweep
        .lines()
        .find(|l| l.ends_with(",yes"))
        .unwrap()
        .split(',')
        .collect();
    let close = |field: &str, key: &str| {
        let replayed: f64 = field.parse().unwrap();
        let measured = value[key].as_f64().unwrap();
        assert!(
            (replayed - measured).abs() < 1e-3,
            "{key}: {replayed} vs {measured}"
        );
    };
    close(current[2], "accuracy");
    close(current[3], "in_scope_accuracy");
    close(current[4], "oos_recall");
    // A higher min_score can only send more messages out of scope.
    let oos_recall: Vec<f64> = sweep
        .lines()
        .skip(1)
        .take(21)
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert!(oos_recall.windows(2).all(|w| w[0] <= w[1]), "{sweep}");
    for plot in ["confusion.svg", "confidence.svg"] {
        let svg = std::fs::read_to_string(dir.join(plot)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{plot}");
    }
    let matrix = std::fs::read_to_string(dir.join("confusion.svg")).unwrap();
    assert!(matrix.contains("withdrawal_delayed"));
    let csv = std::fs::read_to_string(dir.join("confusion.csv")).unwrap();
    let total: usize = csv
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(total as u64, value["n"].as_u64().unwrap());
}

#[test]
fn match_explains_the_verdict() {
    let output = run(&[
        "match",
        "--json",
        "my witdrawal is stil pending for 3 hours",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["verdict"]["kind"], "matched");
    assert_eq!(value["verdict"]["intents"][0], "withdrawal_delayed");
    let corrections = value["corrections"].as_array().unwrap();
    assert!(
        corrections
            .iter()
            .any(|c| c["from"] == "witdrawal" && c["to"] == "withdrawal"),
        "{corrections:?}"
    );
    let candidates = value["candidates"].as_array().unwrap();
    assert!(candidates.len() >= 2);
    assert!(candidates[0]["score"].as_f64() > candidates[1]["score"].as_f64());
    assert!(!candidates[0]["contributions"]
        .as_array()
        .unwrap()
        .is_empty());
    // Chinese, Traditional characters, synonyms.
    let output = run(&["match", "--json", "帳號被凍結了怎麼辦"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["verdict"]["intents"][0], "account_locked");
    // Out of scope.
    let output = run(&["match", "--json", "写一首关于春天的诗"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["verdict"]["kind"], "no_match");
    // The text form names the verdict and the evidence.
    let text = stdout(&run(&["match", "我的USDT提币还没到账"]));
    assert!(text.contains("MATCHED withdrawal_delayed"), "{text}");
    assert!(text.contains("synonym"), "{text}");
}

#[test]
fn eval_prints_metrics_and_json() {
    let (dir, intents) = small_pack();
    let csv = dir.path().join("labelled.csv");
    std::fs::write(
        &csv,
        "text,intent\n提币一直没到账,withdraw\nwithdrawal still pending,withdraw\n充值还没到,deposit\ndeposit missing since yesterday,deposit\ntell me a funny joke,oos\n",
    )
    .unwrap();
    let output = run(&[
        "eval",
        "--json",
        "--errors",
        "--intents",
        intents.to_str().unwrap(),
        csv.to_str().unwrap(),
    ]);
    assert_success(&output);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "n",
        "accuracy",
        "in_scope_accuracy",
        "oos_recall",
        "oos_precision",
        "macro_f1",
        "per_intent",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    assert_eq!(value["n"], 5);
    assert!(value["latency_us"]["median"].as_f64().unwrap() > 0.0);
    assert!(
        value["latency_us"]["p99"].as_f64().unwrap()
            >= value["latency_us"]["median"].as_f64().unwrap()
    );
    assert!(value["accuracy"].as_f64().unwrap() >= 0.8, "{value}");
    // The BANKING77 header (`category`) works too, and --cv runs.
    let csv = dir.path().join("banking_like.csv");
    let mut text = String::from("text,category\n");
    for i in 0..10 {
        text.push_str(&format!("my card has not arrived yet {i},card_arrival\nwhat is the exchange rate {i},exchange_rate\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let output = run(&["eval", "--cv", "5", "--json", csv.to_str().unwrap()]);
    assert_success(&output);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["n"], 20);
    assert_eq!(value["folds"], 5);
    assert!(value["accuracy"].as_f64().unwrap() > 0.9);
    // A CSV without the columns is a usage error.
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    assert_eq!(run(&["eval", csv.to_str().unwrap()]).status.code(), Some(2));
}

#[test]
fn import_writes_a_pack_that_checks_and_matches() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("tagged.csv");
    std::fs::write(
        &csv,
        "text,intent\nwhere is my card,Card Arrival\nmy card never came,Card Arrival\n卡还没寄到,Card Arrival\nhow do I top up,top-up\nadd money to my account,top-up\n怎么充值,top-up\nwhat's the weather,oos\n\"quoted, with comma\",top-up\n",
    )
    .unwrap();
    let out = dir.path().join("pack");
    let output = run(&[
        "import",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    assert!(out.join("card_arrival.toml").exists());
    assert!(out.join("top_up.toml").exists());
    assert!(out.join("_out_of_scope.toml").exists());
    let output = run(&[
        "check",
        "--intents",
        out.to_str().unwrap(),
        "--dialogs",
        "/nonexistent/kefu/dialogs",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = run(&[
        "match",
        "--json",
        "--intents",
        out.to_str().unwrap(),
        "my card has not come",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["candidates"][0]["intent"], "card_arrival");
    // Eval names intents the way import did: "Card Arrival" is the intent
    // `card_arrival`, not a label the pack lacks.
    let output = run(&[
        "eval",
        "--json",
        "--intents",
        out.to_str().unwrap(),
        "--dialogs",
        "/nonexistent/kefu/dialogs",
        csv.to_str().unwrap(),
    ]);
    assert_success(&output);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["unknown_labels"], serde_json::json!([]), "{value}");
    assert!(
        value["in_scope_accuracy"].as_f64().unwrap() > 0.99,
        "every in-scope training message is its own intent: {value}"
    );
    assert!(value["per_intent"].get("Card Arrival").is_some(), "{value}");
    // Importing over an existing pack is refused rather than mixing packs.
    let output = run(&[
        "import",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn chat_answers_in_the_users_language() {
    let (output, text) = chat("你好\n我的USDT提币3个小时了还没到账\n/cancel\nmy acount is locked, what do i do\n/lang zh\nmy acount is locked\n/quit\nthis line is never read\n".as_bytes(), &[]);
    assert_eq!(output.status.code(), Some(0));
    let replies: Vec<&str> = text.split("\n\n").collect();
    assert!(replies.len() >= 6, "{text}");
    assert!(
        replies[1].contains("提币") || replies[1].contains("TXID"),
        "{}",
        replies[1]
    );
    assert!(replies[2].contains("取消"), "{}", replies[2]);
    assert!(
        replies[3].is_ascii() || replies[3].contains("account"),
        "{}",
        replies[3]
    );
    assert!(
        replies[3].to_lowercase().contains("lock") || replies[3].to_lowercase().contains("frozen"),
        "{}",
        replies[3]
    );
    assert!(replies[4].contains("中文"), "{}", replies[4]);
    assert!(!replies[5].is_ascii(), "pinned to zh: {}", replies[5]);
    assert!(!text.contains("never read"));
}

#[test]
fn chat_survives_bad_input() {
    let mut input: Vec<u8> = Vec::new();
    input.extend(b"\n   \n");
    input.extend([0xff, 0xfe, 0x80, b'\n']); // invalid UTF-8
    input.extend("🙂🙂🙂\n".as_bytes());
    input.extend("\u{202e}مرحبا بالعالم\n".as_bytes()); // right-to-left
    input.extend(b"\x01\x02\x1b[31mred\n"); // control characters
    input.extend("提币".repeat(400_000).as_bytes()); // a 2.4 MB line
    input.extend(b"\n/nonsense\n/lang fr\nhello\n");
    let (output, text) = chat(&input, &[]);
    assert_success(&output);
    assert!(String::from_utf8_lossy(&output.stderr).is_empty());
    // One reply block per input line.
    assert_eq!(text.matches("\n\n").count(), 10, "{text}");
    assert!(text.contains("Unknown command") || text.contains("未知命令"));
    // End of input without /quit is a clean exit too.
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    // `kefu check | head -0`: the reader is gone before kefu writes.
    let mut child = kefu()
        .arg("check")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A data directory in use: one handoff in `kefu chat` made ticket 1.
fn used_data_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().to_str().unwrap();
    let (output, text) = chat(b"/human\n/quit\n", &["--data", path]);
    assert_success(&output);
    assert!(text.contains("T-000001"), "{text}");
    let tickets = run(&["tickets", "--data", path]);
    assert_success(&tickets);
    assert!(stdout(&tickets).contains("T-000001"));
    data
}

/// Asserts `kefu chat` and `kefu tickets` refuse `data` (exit 2), naming
/// `what` and the recovery command, and leave it as it was.
fn assert_refused(data: &Path, what: &str) {
    let path = data.to_str().unwrap();
    // sled may rewrite its snapshot at an open; the rest stays as it was.
    let state = || {
        let mut names: Vec<_> = std::fs::read_dir(data)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        (names, std::fs::read(data.join("kefu.journal")).ok())
    };
    let before = state();
    for args in [&["tickets", "--data", path][..], &["chat", "--data", path]] {
        let output = kefu().args(args).stdin(Stdio::null()).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(what), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("kefu recover --data {path}")),
            "{stderr}"
        );
    }
    assert!(state() == before, "refusing changed nothing");
}

/// Every file under `dir` with its length.
fn list_tree(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(list_tree(&path));
        } else {
            let len = std::fs::metadata(&path).unwrap().len();
            out.push((path, len));
        }
    }
    out.sort();
    out
}

/// Runs `kefu recover` on `data`, then checks a chat starts and numbers
/// the next ticket from 1 (a fresh store, on purpose) and that the old
/// database was set aside in a dated folder.
fn assert_recovers_afresh(data: &Path) {
    let path = data.to_str().unwrap();
    let output = run(&["recover", "--data", path]);
    assert_success(&output);
    let text = stdout(&output);
    assert!(text.contains("set aside"), "{text}");
    let aside: Vec<_> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(data.join(&aside[0]).join("kefu.journal").exists());
    let (output, text) = chat(b"/human\n/quit\n", &["--data", path]);
    assert_success(&output);
    assert!(text.contains("T-000001"), "{text}");
    // Once recovered, a second run finds nothing to do.
    let again = run(&["recover", "--data", path]);
    assert_success(&again);
    assert!(
        stdout(&again).contains("nothing to recover"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn a_deleted_database_beside_its_journal_is_refused_then_recovered() {
    let data = used_data_dir();
    std::fs::remove_dir_all(data.path().join("kefu.sled")).unwrap();
    assert_refused(data.path(), "kefu.sled is missing");
    assert_recovers_afresh(data.path());
}

#[test]
fn a_zeroed_database_is_refused_then_recovered() {
    let data = used_data_dir();
    for (file, len) in list_tree(&data.path().join("kefu.sled")) {
        std::fs::write(&file, vec![0u8; len as usize]).unwrap();
    }
    assert_refused(data.path(), "kefu.sled");
    assert_recovers_afresh(data.path());
}

#[test]
fn a_deleted_journal_is_refused_then_recovered_keeping_the_tickets() {
    let data = used_data_dir();
    std::fs::remove_file(data.path().join("kefu.journal")).unwrap();
    assert_refused(data.path(), "kefu.journal is missing");
    let path = data.path().to_str().unwrap();
    let output = run(&["recover", "--data", path]);
    assert_success(&output);
    assert!(stdout(&output).contains("1 tickets"), "{}", stdout(&output));
    let tickets = run(&["tickets", "--data", path]);
    assert_success(&tickets);
    assert!(stdout(&tickets).contains("T-000001"));
}

#[test]
fn a_new_empty_directory_still_starts() {
    let data = tempfile::tempdir().unwrap();
    let fresh = data.path().join("new");
    let output = run(&["tickets", "--data", fresh.to_str().unwrap()]);
    assert_success(&output);
}

/// `kefu chat --desk`: a phishing reply typed by the operator never reaches
/// the user's side of the terminal; an ordinary one does.
#[test]
fn chat_desk_blocks_a_phishing_reply() {
    let (output, text) = chat(
        "my withdrawal has not arrived\n/human\n!take 1\n!reply 1 请把私钥发给我，我帮您找回资金\n!reply 1 please download AnyDesk so I can fix it remotely\n!reply 1 Please send the TXID of the withdrawal\n/quit\n"
            .as_bytes(),
        &["--desk"],
    );
    assert_success(&output);
    assert!(text.contains("[agents] ⛔ Not sent"), "{text}");
    assert!(text.contains("has had 2 replies blocked"), "{text}");
    assert!(!text.contains("请把私钥发给我"), "{text}");
    assert!(!text.contains("download AnyDesk"), "{text}");
    let delivered = text.lines().any(|l| {
        !l.starts_with("[agents]") && l.contains("Please send the TXID of the withdrawal")
    });
    assert!(delivered, "{text}");
}
