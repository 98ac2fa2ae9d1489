//! The conversation brain on a small fixture pack (`tests/fixture/`):
//! answers, dialogs (ask, validation, branch, choose, resolve, handoff),
//! interruptions, commands, expiry, reloads, stale buttons, fallbacks, and
//! secrets never echoed. The shipped dialogs are covered by the
//! transcripts (`tests/transcripts.rs`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kefu::brain::{step, Bot, Effect, Handoff, Input, Session, Settings};
use kefu::dialog::engine::HandoffReason;
use kefu::intent::CompileOptions;
use kefu::lang::Lang;
use kefu::ticket::Priority;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture")
}

fn load(intents: &Path, dialogs: &Path) -> Bot {
    kefu::pack::load_bot(
        intents,
        dialogs,
        CompileOptions::default(),
        Settings::default(),
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
    .bot
}

fn bot() -> &'static Bot {
    static BOT: OnceLock<Bot> = OnceLock::new();
    BOT.get_or_init(|| load(&fixture().join("intents"), &fixture().join("dialogs")))
}

const T0: i64 = 1_767_578_400;

/// A conversation driven turn by turn.
struct Chat<'b> {
    bot: &'b Bot,
    session: Session,
    now: i64,
    effects: Vec<Effect>,
}

impl<'b> Chat<'b> {
    fn new(bot: &'b Bot) -> Self {
        Chat {
            bot,
            session: Session::default(),
            now: T0,
            effects: Vec::new(),
        }
    }

    fn input(&mut self, input: Input<'_>) -> String {
        let (session, effects) = step(self.bot, &self.session, input, self.now);
        self.session = session;
        self.effects = effects;
        self.reply()
    }

    fn say(&mut self, text: &str) -> String {
        self.input(Input::Text(text))
    }

    fn press(&mut self, value: &str) -> String {
        self.input(Input::Button(value))
    }

    /// The turn's replies, joined, with choice labels in brackets.
    fn reply(&self) -> String {
        let mut out = Vec::new();
        for effect in &self.effects {
            if let Effect::Reply { text, choices } = effect {
                out.push(text.clone());
                for c in choices {
                    out.push(format!("[{}]", c.label));
                }
            }
        }
        out.join("\n")
    }

    fn handoff(&self) -> Option<&Handoff> {
        self.effects.iter().find_map(|e| match e {
            Effect::Handoff(h) => Some(h.as_ref()),
            _ => None,
        })
    }

    fn node(&self) -> Option<&str> {
        self.session.dialog.as_ref().map(|d| d.node.as_str())
    }
}

#[test]
fn a_plain_answer_in_the_users_language() {
    let mut chat = Chat::new(bot());
    assert_eq!(
        chat.say("充值没到账，怎么回事"),
        "充值未到账：请核对网络和 Memo。"
    );
    assert_eq!(chat.session.lang, Lang::Zh);
    assert_eq!(
        chat.say("my deposit never showed up"),
        "Deposit not credited: check the network and memo."
    );
    assert_eq!(chat.session.lang, Lang::En);
    assert!(chat.session.dialog.is_none());
}

#[test]
fn a_dialog_collects_values_and_hands_off_with_them() {
    let mut chat = Chat::new(bot());
    let reply = chat.say("my withdrawal has not arrived");
    assert!(
        reply.starts_with("Let's look at your withdrawal.\nWhich coin?"),
        "{reply}"
    );
    assert_eq!(chat.node(), Some("coin"));
    assert!(chat.say("it was usdt I think").contains("Which network?"));
    let reply = chat.say("trc-20");
    assert!(reply.contains("Do you have the TXID?\n[Skip]"), "{reply}");
    let reply = chat.say("skip");
    assert!(reply.contains("How long ago?"), "{reply}");
    assert!(reply.contains("[Over 2 hours]"), "{reply}");
    let reply = chat.say("2");
    assert!(
        reply.contains("Passing your USDT (TRC20) withdrawal on."),
        "{reply}"
    );
    let handoff = chat.handoff().expect("a handoff");
    assert_eq!(handoff.priority, Priority::High);
    assert_eq!(handoff.reason, HandoffReason::Scripted);
    assert_eq!(handoff.intent.as_deref(), Some("withdrawal"));
    assert_eq!(handoff.values["coin"], "USDT");
    assert_eq!(handoff.values["network"], "TRC20");
    assert_eq!(handoff.values["waited"], "long");
    assert!(!handoff.values.contains_key("txid"));
    // The transcript the agent gets has the user's words.
    assert!(handoff
        .transcript
        .iter()
        .any(|l| l.user && &*l.text == "trc-20"));
    assert!(chat.session.dialog.is_none());
}

#[test]
fn a_branch_on_a_collected_txid_then_resolve() {
    let mut chat = Chat::new(bot());
    let txid = "9f2c4e1a7b3d5f6e8a0c2b4d6f8e0a1c3b5d7f9e1a3c5b7d9f0e2a4c6b8d0f1e";
    chat.say("提币还没到账");
    chat.say("泰达币");
    chat.say("波场");
    let reply = chat.say(&format!("TXID 是 {txid}"));
    // Asked for, a transaction hash is not a secret.
    assert!(!reply.contains("⚠️"), "{reply}");
    assert!(
        reply.contains(&format!("请在区块浏览器查询 {txid}。")),
        "{reply}"
    );
    assert!(reply.contains("[已解决]"), "{reply}");
    assert_eq!(chat.node(), Some("done"));
    let reply = chat.say("解决了，谢谢");
    assert!(reply.contains("太好了"), "{reply}");
    assert!(chat.session.dialog.is_none());
    assert!(chat.handoff().is_none());
}

#[test]
fn resolve_no_hands_off() {
    let mut chat = Chat::new(bot());
    chat.say("withdrawal still pending");
    chat.say("BTC");
    chat.say("bitcoin");
    chat.press("skip");
    chat.press("opt:0");
    assert_eq!(chat.node(), Some("done"));
    chat.press("no");
    let handoff = chat.handoff().expect("a handoff");
    assert_eq!(handoff.reason, HandoffReason::NotResolved);
    assert_eq!(handoff.values["coin"], "BTC");
}

#[test]
fn wrong_answers_get_the_hint_then_a_handoff() {
    let mut chat = Chat::new(bot());
    chat.say("where is my withdrawal");
    chat.say("ETH");
    let reply = chat.say("the blue one");
    assert!(
        reply.starts_with("For example TRC20.\nWhich network?"),
        "{reply}"
    );
    assert!(chat.handoff().is_none());
    assert_eq!(chat.session.dialog.as_ref().unwrap().tries, 1);
    let reply = chat.say(&"x".repeat(10_000));
    let handoff = chat
        .handoff()
        .unwrap_or_else(|| panic!("no handoff: {reply}"));
    assert_eq!(handoff.reason, HandoffReason::TooManyTries);
    assert_eq!(handoff.values["coin"], "ETH");
}

#[test]
fn a_new_subject_mid_dialog_asks_before_switching() {
    let mut chat = Chat::new(bot());
    chat.say("my withdrawal is late");
    let reply = chat.say("actually my deposit has not arrived either");
    assert!(reply.contains("Deposit not credited"), "{reply}");
    assert!(reply.contains("[Yes, switch]"), "{reply}");
    // "No" goes back to the question, nothing lost.
    let reply = chat.press("switch:no");
    assert!(reply.contains("Which coin?"), "{reply}");
    assert_eq!(chat.node(), Some("coin"));
    chat.say("deposit not credited");
    let reply = chat.say("1");
    assert_eq!(reply, "Deposit not credited: check the network and memo.");
    assert!(chat.session.dialog.is_none());
}

#[test]
fn an_urgent_subject_switches_at_once() {
    let mut chat = Chat::new(bot());
    chat.say("提币还没到账");
    chat.say("USDT");
    let reply = chat.say("等等，我的账号被盗了");
    assert!(reply.contains("请立即冻结账户。"), "{reply}");
    let handoff = chat.handoff().expect("an urgent handoff");
    assert_eq!(handoff.priority, Priority::Urgent);
    assert_eq!(handoff.intent.as_deref(), Some("hacked"));
}

#[test]
fn commands_work_in_any_state() {
    let mut chat = Chat::new(bot());
    chat.say("my withdrawal has not arrived");
    chat.say("usdt");
    let reply = chat.say("/lang zh");
    assert!(
        reply.contains("走的哪个网络？"),
        "the question again, in Chinese: {reply}"
    );
    assert!(chat.session.lang_pinned);
    let reply = chat.say("/help");
    assert!(
        reply.contains("/cancel") && reply.contains("走的哪个网络？"),
        "{reply}"
    );
    let reply = chat.say("/cancel");
    assert!(reply.contains("已取消"), "{reply}");
    assert!(chat.session.dialog.is_none());
    assert!(chat.say("/cancel").contains("没有进行中的流程"));
    assert!(chat.say("/frobnicate").contains("未知命令"));

    let mut chat = Chat::new(bot());
    chat.say("my withdrawal has not arrived");
    chat.say("SOL");
    chat.say("/human");
    let handoff = chat.handoff().expect("/human hands off");
    assert_eq!(handoff.reason, HandoffReason::Requested);
    assert_eq!(handoff.values["coin"], "SOL");
    assert!(matches!(chat.say("/status").as_str(), ""));
    assert_eq!(chat.effects, vec![Effect::ShowTickets]);
}

#[test]
fn an_idle_dialog_expires() {
    let mut chat = Chat::new(bot());
    chat.say("my withdrawal has not arrived");
    chat.now += 10 * 60;
    chat.say("usdt");
    assert_eq!(chat.node(), Some("network"), "ten minutes is not idle");
    chat.now += Settings::default().idle_timeout_secs + 1;
    let reply = chat.say("TRC20");
    assert!(
        reply.starts_with("Our previous conversation timed out"),
        "{reply}"
    );
    assert!(chat.session.dialog.is_none());
}

#[test]
fn stale_buttons_are_refused_politely() {
    let mut chat = Chat::new(bot());
    chat.say("my withdrawal has not arrived");
    let reply = chat.press("opt:7");
    assert!(
        reply.contains("no longer works") && reply.contains("Which coin?"),
        "{reply}"
    );
    assert_eq!(chat.node(), Some("coin"));
    let mut chat = Chat::new(bot());
    assert!(chat.press("intent:greeting").contains("no longer works"));
}

#[test]
fn a_reload_that_removes_the_current_node_restarts_politely() {
    let dir = tempfile::tempdir().unwrap();
    let dialogs = dir.path().join("dialogs");
    std::fs::create_dir(&dialogs).unwrap();
    std::fs::copy(
        fixture().join("dialogs/hacked.toml"),
        dialogs.join("hacked.toml"),
    )
    .unwrap();
    let original = std::fs::read_to_string(fixture().join("dialogs/withdrawal.toml")).unwrap();
    let renamed = original
        .replace("id = \"network\"", "id = \"chain\"")
        .replace("next = \"network\"", "next = \"chain\"");
    std::fs::write(dialogs.join("withdrawal.toml"), renamed).unwrap();
    let reloaded = load(&fixture().join("intents"), &dialogs);

    let mut chat = Chat::new(bot());
    chat.say("my withdrawal has not arrived");
    chat.say("usdt");
    assert_eq!(chat.node(), Some("network"));
    chat.bot = &reloaded;
    let reply = chat.say("TRC20");
    assert!(reply.contains("this flow was just updated"), "{reply}");
    assert!(reply.contains("Which coin?"), "{reply}");
    assert_eq!(chat.session.dialog.as_ref().unwrap().values["coin"], "USDT");
}

#[test]
fn two_misses_offer_topics_and_a_person() {
    let mut chat = Chat::new(bot());
    let first = chat.say("写一首关于大海的诗");
    assert!(first.contains("换个说法"), "{first}");
    let second = chat.say("今天晚饭吃什么好呢");
    assert!(second.contains("[转人工客服]"), "{second}");
    let human = chat.session.offered.len();
    chat.say(&human.to_string());
    assert_eq!(chat.handoff().unwrap().reason, HandoffReason::Requested);
}

#[test]
fn bare_numbers_and_empty_messages_are_not_guessed() {
    let mut chat = Chat::new(bot());
    for message in ["", "   ", "🙂🙂", "???", "1", "\u{202e}\u{200b}"] {
        let reply = chat.say(message);
        assert!(!reply.is_empty(), "no reply to {message:?}");
        assert!(chat.session.dialog.is_none());
    }
}

#[test]
fn pasted_secrets_are_warned_about_and_never_echoed() {
    let seed =
        "abandon ability able about above absent absorb abstract absurd abuse access accident";
    let key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let cases = [
        (format!("my seed phrase is {seed}"), "abandon ability"),
        (
            "我的密码是 Abc12345xyz 充值没到账".to_string(),
            "Abc12345xyz",
        ),
        ("验证码 482913 请帮我登录".to_string(), "482913"),
        (format!("private key: {key}"), "4c0883a69102937d"),
    ];
    for (message, secret) in &cases {
        let mut chat = Chat::new(bot());
        let reply = chat.say(message);
        assert!(reply.contains("⚠️"), "no warning for {message}: {reply}");
        assert!(!reply.contains(secret), "secret echoed: {reply}");
        assert!(
            chat.effects.contains(&Effect::DeleteInput),
            "the message is deleted"
        );
        let transcript = serde_json::to_string(&chat.session).unwrap();
        assert!(!transcript.contains(secret), "secret kept: {transcript}");
    }
    // The rest of the message is still understood.
    let mut chat = Chat::new(bot());
    let reply = chat.say("我的密码是 Abc12345xyz 充值没到账");
    assert!(reply.contains("充值未到账"), "{reply}");
    // Even where a TXID is expected, a labelled private key is a secret, and
    // the question is asked again.
    let mut chat = Chat::new(bot());
    chat.say("withdrawal stuck in processing");
    chat.say("eth");
    chat.say("erc20");
    let reply = chat.say(&format!("my private key is {key}"));
    assert!(reply.contains("⚠️") && !reply.contains(key), "{reply}");
    assert!(reply.contains("Do you have the TXID?"), "{reply}");
    assert!(!serde_json::to_string(&chat.session).unwrap().contains(key));
}

#[test]
fn values_stated_in_the_first_message_are_not_asked_again() {
    let mut chat = Chat::new(bot());
    let reply = chat.say("my USDT withdrawal on TRC-20 has not arrived");
    assert!(
        !reply.contains("Which coin?") && !reply.contains("Which network?"),
        "{reply}"
    );
    assert!(reply.contains("Do you have the TXID?"), "{reply}");
    let values = &chat.session.dialog.as_ref().unwrap().values;
    assert_eq!(values["coin"], "USDT");
    assert_eq!(values["network"], "TRC20");
    // Only what was stated: here the network is still asked.
    let mut chat = Chat::new(bot());
    let reply = chat.say("提u还没到账");
    assert!(reply.contains("走的哪个网络？"), "{reply}");
}

#[test]
fn verify_and_look_alike_links_use_the_configured_lists() {
    let settings = Settings {
        staff_handles: vec!["examplesupport".into()],
        official_domains: vec!["example-exchange.com".into()],
        ..Settings::default()
    };
    let configured = kefu::pack::load_bot(
        &fixture().join("intents"),
        &fixture().join("dialogs"),
        CompileOptions::default(),
        settings,
    )
    .unwrap()
    .bot;
    let mut chat = Chat::new(&configured);
    assert!(chat
        .say("/verify @ExampleSupport")
        .starts_with("✅ @examplesupport"));
    let reply = chat.say("/verify @Example_Supp0rt");
    assert!(reply.starts_with("⚠️ @example_supp0rt is NOT"), "{reply}");
    assert!(chat.say("/verify").contains("Usage"));
    let reply =
        chat.say("support sent me https://example-exchange.com.verify-login.io/reset is it real?");
    assert!(reply.contains("⚠️ Careful"), "{reply}");
    let reply =
        chat.say("I logged in at https://www.example-exchange.com/login and my deposit is missing");
    assert!(!reply.contains("⚠️"), "official links are fine: {reply}");
    // Mid-dialog, /verify answers and the question comes back.
    chat.say("my withdrawal has not arrived");
    let reply = chat.say("/verify @someone");
    assert!(
        reply.contains("NOT") && reply.ends_with("Which coin?"),
        "{reply}"
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn input() -> impl Strategy<Value = (bool, String)> {
        prop_oneof![
            // Free text: any Unicode, and text made of the pieces users send.
            any::<String>().prop_map(|s| (false, s)),
            proptest::collection::vec(
                prop_oneof![
                    Just("提币".to_string()),
                    Just("usdt".to_string()),
                    Just("trc20".to_string()),
                    Just("/cancel".to_string()),
                    Just("/human".to_string()),
                    Just("/lang en".to_string()),
                    Just("my withdrawal has not arrived".to_string()),
                    Just("hacked".to_string()),
                    Just("1".to_string()),
                    Just("skip".to_string()),
                    Just("🙂".to_string()),
                    "[0-9a-f]{64}",
                    "[\\u{0}-\\u{ffff}]{0,8}",
                ],
                0..4,
            )
            .prop_map(|parts| (false, parts.join(" "))),
            // Buttons, valid or stale.
            prop_oneof![
                Just("opt:0".to_string()),
                Just("opt:2".to_string()),
                Just("opt:99".to_string()),
                Just("skip".to_string()),
                Just("yes".to_string()),
                Just("no".to_string()),
                Just("switch:yes".to_string()),
                Just("human".to_string()),
                Just("intent:deposit".to_string()),
                ".{0,70}",
            ]
            .prop_map(|v| (true, v)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        #[test]
        fn any_sequence_of_inputs_gets_answers(inputs in proptest::collection::vec(input(), 1..12), gaps in proptest::collection::vec(0i64..4000, 12)) {
            let mut chat = Chat::new(bot());
            for (i, (button, text)) in inputs.iter().enumerate() {
                chat.now += gaps[i];
                let reply = if *button { chat.press(text) } else { chat.say(text) };
                let acted = !reply.is_empty()
                    || chat
                        .effects
                        .iter()
                        .any(|e| !matches!(e, Effect::Reply { .. } | Effect::Verdict(_)));
                prop_assert!(acted, "no answer to {:?}", text);
                // The session always points at a node that exists.
                if let Some(state) = &chat.session.dialog {
                    prop_assert!(kefu::dialog::engine::is_valid(&bot().dialogs, state));
                }
            }
        }
    }
}

#[test]
fn each_free_text_message_reports_what_the_classifier_made_of_it() {
    use kefu::brain::Outcome;
    let verdict = |chat: &Chat| {
        chat.effects.iter().find_map(|e| match e {
            Effect::Verdict(outcome) => Some(outcome.clone()),
            _ => None,
        })
    };
    let mut chat = Chat::new(bot());
    chat.say("my deposit never showed up");
    assert_eq!(verdict(&chat), Some(Outcome::Matched("deposit".into())));
    chat.say("写一首关于大海的诗");
    assert_eq!(verdict(&chat), Some(Outcome::Fallback));
    chat.say("1");
    assert_eq!(verdict(&chat), Some(Outcome::Fallback), "a bare number");
    chat.say("/status");
    assert_eq!(verdict(&chat), None, "commands are not classified");
}

#[test]
fn transcript_lines_are_cut_by_characters_and_the_oldest_dropped() {
    use kefu::brain::{push_line, Line};
    let mut transcript: Vec<Line> = Vec::new();
    push_line(&mut transcript, true, "提现没到账", 4, 5);
    push_line(&mut transcript, false, "提现没到账了", 4, 5);
    push_line(&mut transcript, true, "abcdef", 4, 5);
    push_line(&mut transcript, true, "abc", 4, 5);
    let texts: Vec<&str> = transcript.iter().map(|l| &*l.text).collect();
    assert_eq!(texts, ["提现没到账", "提现没到账…", "abcde…", "abc"]);
    push_line(&mut transcript, false, "new", 4, 5);
    assert_eq!(transcript.len(), 4);
    assert_eq!(&*transcript[0].text, "提现没到账…", "the oldest line went");
    assert!(!transcript[3].user);
}
