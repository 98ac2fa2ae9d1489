//! End to end with the real binary: `kefu chat` is fed every format of
//! secret that used to leak — announced in one message and sent in the
//! next, pasted in pieces, on the lines after a label, in Traditional
//! Chinese, as one CamelCase word, as `pass X` or a login pair — first to
//! the bot, then (`--desk`) while an agent holds the user's ticket. Then
//! the data directory's files (sled and the journal), everything printed
//! (the user's side and the agents' group) and the logs are searched for
//! every secret.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn all_bytes(dir: &Path, out: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_bytes(&path, out);
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
}

/// The conversations and the secrets in them (each piece searched on its
/// own).
fn conversations() -> (Vec<Vec<String>>, Vec<String>) {
    let trad: Vec<String> =
        bip39::Mnemonic::from_entropy_in(bip39::Language::TraditionalChinese, &[0x5a; 16])
            .unwrap()
            .words()
            .map(str::to_string)
            .collect();
    let key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let key_lines = format!(
        "{}\n{}\n{}\n{}",
        &key[..16],
        &key[16..32],
        &key[32..48],
        &key[48..]
    );
    let seed = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    let camel: String = seed
        .split(' ')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect();
    let talks: Vec<Vec<String>> = vec![
        vec![
            "my seed is legal winner thank year wave sausage".into(),
            "worth useful legal winner thank yellow".into(),
        ],
        vec!["what's my password? here it is".into(), "Zr7$kPq2n".into()],
        vec!["I got an SMS code".into(), "583920".into()],
        vec![format!("私钥\n{key_lines}")],
        vec!["pass Qx8vR7#mZ".into()],
        vec!["p@ssword = Lm9!aa72".into()],
        vec!["login: a@b.com / Hk29!vLw".into()],
        vec![format!("助記詞：{}", trad.join(" "))],
        vec!["助記詞：".into(), trad.concat()],
        vec![format!("my seed: {camel}")],
        vec!["7. absorb 8. abstract 9. absurd".into()],
        vec!["我的密碼是".into(), "Tw@8899pass".into()],
        vec!["驗證碼".into(), "551203".into()],
    ];
    let mut secrets: Vec<String> = vec![
        "legal winner thank year".into(),
        "wave sausage".into(),
        "worth useful".into(),
        "thank yellow".into(),
        "Zr7$kPq2n".into(),
        "583920".into(),
        "Qx8vR7#mZ".into(),
        "Lm9!aa72".into(),
        "Hk29!vLw".into(),
        trad.join(" "),
        trad[..4].join(" "),
        trad.concat(),
        trad[6..].concat(),
        camel.clone(),
        camel[..20].to_string(),
        "absorb".into(),
        "abstract".into(),
        "Tw@8899pass".into(),
        "551203".into(),
    ];
    for i in 0..4 {
        secrets.push(key[i * 16..i * 16 + 16].to_string());
    }
    (talks, secrets)
}

fn run_chat(data: &Path, desk: bool, input: &str) -> (String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kefu"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("KEFU_INTENTS")
        .env_remove("KEFU_DIALOGS")
        .env_remove("KEFU_DATA")
        .env("RUST_LOG", "debug")
        .arg("chat")
        .arg("--data")
        .arg(data);
    if desk {
        command.arg("--desk");
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The terminal reads one line per message, so a message of several lines
/// (a key on the lines after its label) goes in with its lines joined by
/// spaces: the guard joins key pieces across spaces and line breaks alike.
fn as_lines(talks: &[Vec<String>]) -> String {
    let mut input = String::new();
    for talk in talks {
        for message in talk {
            input.push_str(&message.replace('\n', " "));
            input.push('\n');
        }
        // Something ordinary between conversations, as people do.
        input.push_str("ok\n");
    }
    input
}

fn assert_nowhere(secrets: &[String], places: &[(&str, &str)]) {
    for secret in secrets {
        for (name, text) in places {
            assert!(
                !text.contains(secret.as_str()),
                "{secret:?} found in {name}"
            );
        }
    }
}

#[test]
fn no_secret_reaches_the_store_the_output_the_agents_or_the_logs() {
    let (talks, secrets) = conversations();
    let input = as_lines(&talks);

    // A fresh chat with the bot.
    let data = tempfile::tempdir().unwrap();
    let (out, log) = run_chat(data.path(), false, &input);
    let mut bytes = Vec::new();
    all_bytes(data.path(), &mut bytes);
    let files = String::from_utf8_lossy(&bytes).into_owned();
    let hidden = out.matches("[hidden").count() + out.matches("[已隐藏").count();
    assert!(hidden == 0 || out.contains('⚠'), "{out}");
    assert!(
        out.matches('⚠').count() >= talks.len(),
        "every conversation warned:\n{out}"
    );
    assert!(
        files.contains("[hidden") || files.contains("[已隐藏"),
        "the transcript was stored, redacted"
    );
    assert_nowhere(
        &secrets,
        &[
            ("the chat output", &out),
            ("the logs", &log),
            ("the data files", &files),
        ],
    );

    // The same while an agent holds the ticket: the user's messages are
    // relayed to the agents' group.
    let data = tempfile::tempdir().unwrap();
    let desk_input = format!("my account was hacked\n/human\n!/take 1\n{input}");
    let (out, log) = run_chat(data.path(), true, &desk_input);
    let relayed = out.matches("[agents] 💬").count();
    assert!(
        relayed >= talks.len(),
        "the agent received the messages:\n{out}"
    );
    assert!(out.contains("[agents]") && out.contains("user:"), "{out}");
    let mut bytes = Vec::new();
    all_bytes(data.path(), &mut bytes);
    let files = String::from_utf8_lossy(&bytes).into_owned();
    assert_nowhere(
        &secrets,
        &[
            ("the chat output (user and agents)", &out),
            ("the logs", &log),
            ("the data files", &files),
        ],
    );
}
