//! The conversation brain on the default pack: answers, language, choices,
//! fallbacks, and secrets never echoed.

use std::path::Path;
use std::sync::OnceLock;

use kefu::brain::{respond, Effect, Session};
use kefu::intent::{CompileOptions, IntentSet};
use kefu::lang::Lang;

fn pack() -> &'static IntentSet {
    static PACK: OnceLock<IntentSet> = OnceLock::new();
    PACK.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        kefu::pack::load(
            &root.join("intents"),
            &root.join("dialogs"),
            CompileOptions::default(),
        )
        .unwrap()
        .set
    })
}

/// Replays a conversation; returns each turn's reply texts joined, with choices.
fn talk(lines: &[&str]) -> (Session, Vec<String>) {
    let mut session = Session::default();
    let mut replies = Vec::new();
    for line in lines {
        let (next, effects) = respond(pack(), &session, line);
        session = next;
        let text: Vec<String> = effects
            .iter()
            .map(|Effect::Reply { text, choices }| {
                let labels: Vec<&str> = choices.iter().map(|c| c.label.as_str()).collect();
                format!("{text}\n{}", labels.join("\n"))
            })
            .collect();
        replies.push(text.join("\n"));
    }
    (session, replies)
}

fn answer_of(id: &str, lang: Lang) -> String {
    let set = pack();
    set.intent(set.find(id).unwrap())
        .text(lang)
        .answer
        .clone()
        .unwrap()
}

#[test]
fn answers_match_the_intent_and_the_language() {
    let (session, replies) = talk(&[
        "提币三个小时了还没到账",
        "my deposit never showed up in my balance",
    ]);
    assert!(
        replies[0].starts_with(&answer_of("withdrawal_delayed", Lang::Zh)),
        "{}",
        replies[0]
    );
    assert!(
        replies[1].starts_with(&answer_of("deposit_missing", Lang::En)),
        "{}",
        replies[1]
    );
    assert_eq!(session.lang, Lang::En);
}

#[test]
fn lang_command_pins_the_language() {
    let (session, replies) = talk(&["/lang en", "账号被冻结了"]);
    assert!(session.lang_pinned);
    assert!(
        replies[1].starts_with(&answer_of("account_locked", Lang::En)),
        "{}",
        replies[1]
    );
    let (_, replies) = talk(&["/lang xx"]);
    assert!(replies[0].contains("/lang"));
}

#[test]
fn two_misses_offer_common_topics_and_a_pick_answers() {
    let (_, replies) = talk(&["写一首关于大海的诗", "今天晚饭吃什么好呢", "1"]);
    assert!(replies[0].contains("换个说法"), "{}", replies[0]);
    assert!(replies[1].contains("/human"), "{}", replies[1]);
    assert!(replies[1].contains("提币未到账"), "{}", replies[1]);
    assert!(
        replies[2].starts_with(&answer_of("withdrawal_delayed", Lang::Zh)),
        "{}",
        replies[2]
    );
}

#[test]
fn empty_and_symbol_only_messages_get_a_prompt() {
    let (_, replies) = talk(&["", "   ", "🙂🙂", "???"]);
    for reply in &replies {
        assert!(!reply.is_empty());
    }
}

#[test]
fn pasted_secrets_are_warned_about_and_never_echoed() {
    let seed =
        "abandon ability able about above absent absorb abstract absurd abuse access accident";
    let cases = [
        (format!("my seed phrase is {seed}"), "seed"),
        (
            "我的密码是 Abc12345xyz 账号被冻结了".to_string(),
            "Abc12345xyz",
        ),
        ("验证码 482913 请帮我登录".to_string(), "482913"),
        (
            "private key: 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
                .to_string(),
            "4c0883a69102937d",
        ),
    ];
    for (message, secret) in &cases {
        let (_, replies) = talk(&[message]);
        let reply = &replies[0];
        assert!(reply.contains("⚠️"), "no warning for {message}: {reply}");
        let needle = if *secret == "seed" {
            "abandon ability"
        } else {
            secret
        };
        assert!(!reply.contains(needle), "secret echoed: {reply}");
    }
    // The rest of the message is still understood.
    let (_, replies) = talk(&["我的密码是 Abc12345xyz 账号被冻结了"]);
    assert!(
        replies[0].contains(&answer_of("account_locked", Lang::Zh)),
        "{}",
        replies[0]
    );
}

#[test]
fn a_transaction_hash_is_not_a_secret() {
    let txid = "9f2c4e1a7b3d5f6e8a0c2b4d6f8e0a1c3b5d7f9e1a3c5b7d9f0e2a4c6b8d0f1e";
    let (_, replies) = talk(&[&format!("my withdrawal txid {txid} still not arrived")]);
    assert!(!replies[0].contains("⚠️"), "{}", replies[0]);
    assert!(
        replies[0].starts_with(&answer_of("withdrawal_delayed", Lang::En)),
        "{}",
        replies[0]
    );
}
