//! Secrets pasted into conversations never reach the database: each kind is
//! pasted through the app with the real sled store (in dialogs and out of
//! them, including into a ticket's transcript), then every byte of the data
//! directory is searched for it.

use std::path::Path;

use kefu::app::App;
use kefu::brain::{Input, Settings};
use kefu::intent::CompileOptions;
use kefu::store::{SledStore, Store};
use kefu::ticket::Sla;

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

#[test]
fn no_pasted_secret_is_stored_or_shown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bot = kefu::pack::load_bot(
        &root.join("intents"),
        &root.join("dialogs"),
        CompileOptions::default(),
        Settings::default(),
    )
    .unwrap()
    .bot;
    let data = tempfile::tempdir().unwrap();
    let seed = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    let key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![format!("my seed phrase is {seed}, is my wallet safe?")],
            "sausage worth useful",
        ),
        (vec![format!("私钥 {key} 被盗了怎么办")], key),
        (
            vec!["my password is Tr0ub4dor&3x please unlock my account".into()],
            "Tr0ub4dor&3x",
        ),
        (vec!["我的谷歌验证码是 604512，帮我登录".into()], "604512"),
        (
            vec!["api secret: 9fQ2xLr7TpWm3ZkV8sYb1NcD4hJ6gE0a my api key leaked".into()],
            "9fQ2xLr7TpWm3ZkV8sYb1NcD4hJ6gE0a",
        ),
        // Inside a dialog, then handed to a person: the ticket's transcript
        // is redacted too.
        (
            vec![
                "my usdt withdrawal has not arrived".into(),
                format!("here is my private key {key}"),
                "/human".into(),
            ],
            key,
        ),
        (
            vec![
                "我的账号被盗了".into(),
                "密码是 Qq123456789abc 刚改的".into(),
                "/human".into(),
            ],
            "Qq123456789abc",
        ),
    ];
    {
        let store = SledStore::open(data.path()).unwrap();
        let app = App {
            bot: &bot,
            store: &store,
            sla: Sla::default(),
            desk: Default::default(),
        };
        for (chat, (messages, secret)) in cases.iter().enumerate() {
            for message in messages {
                let handled = app
                    .handle(chat as i64 + 1, Input::Text(message), 1_767_578_400)
                    .unwrap();
                for out in &handled.messages {
                    assert!(!out.text.contains(secret), "echoed {secret}: {}", out.text);
                }
                for ticket in &handled.opened {
                    let json = serde_json::to_string(ticket).unwrap();
                    assert!(!json.contains(secret), "ticket holds {secret}: {json}");
                }
            }
        }
        assert!(
            !store.tickets().unwrap().is_empty(),
            "the dialogs handed off"
        );
        store.flush().unwrap();
    }
    let mut bytes = Vec::new();
    all_bytes(data.path(), &mut bytes);
    assert!(bytes.len() > 1000, "the store wrote something");
    let haystack = String::from_utf8_lossy(&bytes);
    for (_, secret) in &cases {
        assert!(
            !haystack.contains(secret),
            "{secret} is in the database files"
        );
    }
    // The conversations themselves were kept (redacted), so the search
    // above looked at real content.
    assert!(haystack.contains("[hidden:") || haystack.contains("[已隐藏"));
}
