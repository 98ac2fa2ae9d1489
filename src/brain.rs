//! The conversation brain: a message and the session in, the new session and
//! the effects out. Pure: no IO, no clock, no globals. The terminal chat and
//! (later) Telegram are adapters around the same function, so they behave
//! identically.

use serde::{Deserialize, Serialize};

use crate::guard;
use crate::intent::{IntentSet, Verdict};
use crate::lang::Lang;

/// What the bot remembers about one conversation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub lang: Lang,
    /// Set by `/lang`: the user chose, so the script of later messages no
    /// longer switches the language.
    pub lang_pinned: bool,
    /// Intent ids offered as choices in the last reply ("did you mean…?").
    pub offered: Vec<String>,
    /// Consecutive messages the bot did not understand.
    pub misses: u32,
}

/// A choice the user can pick (a button in Telegram, a number in the
/// terminal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub label: String,
    pub value: String,
}

/// Something the adapter must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Reply { text: String, choices: Vec<Choice> },
}

impl Effect {
    fn text(text: impl Into<String>) -> Effect {
        Effect::Reply {
            text: text.into(),
            choices: Vec::new(),
        }
    }
}

/// The bot's own words, in both languages.
pub mod texts {
    use crate::lang::Lang;

    pub fn welcome(lang: Lang) -> &'static str {
        lang.pick(
            "您好，我是智能客服。请直接描述您遇到的问题，例如“提币还没到账”或“账号被冻结”。\n输入 /help 查看帮助，/lang en 切换到英文。\n提醒：客服绝不会向您索要密码、验证码、私钥或助记词。",
            "Hi, I'm the support assistant. Tell me what's wrong in your own words, e.g. \"my withdrawal hasn't arrived\" or \"my account is locked\".\nType /help for help, /lang zh for Chinese.\nReminder: support will never ask for your password, codes, private keys or seed phrase.",
        )
    }

    pub fn help(lang: Lang) -> &'static str {
        lang.pick(
            "我可以帮您处理：账号冻结、找回密码或 2FA、账号被盗、交易失败、提币未到账、充值未到账、实名认证、核实客服身份等问题。\n命令：\n/lang zh|en 切换语言\n/help 帮助\n直接用一句话描述问题即可。",
            "I can help with: locked accounts, password or 2FA reset, hacked accounts, failed trades, withdrawals not arrived, missing deposits, identity verification (KYC), and checking whether someone is really our staff.\nCommands:\n/lang zh|en switch language\n/help this help\nJust describe your problem in one sentence.",
        )
    }

    pub fn language_set(lang: Lang) -> &'static str {
        lang.pick(
            "好的，接下来我会用中文回复您。",
            "OK, I'll reply in English from now on.",
        )
    }

    pub fn language_usage(lang: Lang) -> &'static str {
        lang.pick("用法：/lang zh 或 /lang en", "Usage: /lang zh or /lang en")
    }

    pub fn unknown_command(lang: Lang) -> &'static str {
        lang.pick(
            "未知命令。输入 /help 查看可用命令。",
            "Unknown command. Type /help to see what I understand.",
        )
    }

    pub fn did_you_mean(lang: Lang) -> &'static str {
        lang.pick("您想咨询的是以下哪个问题？", "Which of these do you mean?")
    }

    pub fn not_understood(lang: Lang) -> &'static str {
        lang.pick(
            "抱歉，我没能理解您的问题。能换个说法再描述一下吗？例如“USDT 提币 3 小时还没到账”。",
            "Sorry, I didn't understand that. Could you say it another way? For example: \"my USDT withdrawal hasn't arrived after 3 hours\".",
        )
    }

    pub fn offer_topics(lang: Lang) -> &'static str {
        lang.pick(
            "抱歉，我还是没能理解。您可以从常见问题中选择，或输入 /human 联系人工客服。",
            "Sorry, I still didn't get that. Pick a common topic below, or type /human to reach a person.",
        )
    }

    pub fn empty_message(lang: Lang) -> &'static str {
        lang.pick(
            "请用文字描述您的问题。",
            "Please describe your problem in words.",
        )
    }
}

/// Intents offered when the bot keeps missing: the most common problems.
const COMMON_TOPICS: [&str; 4] = [
    "withdrawal_delayed",
    "deposit_missing",
    "account_locked",
    "password_reset",
];

/// Handles one user message. Commands (`/help`, `/lang`) work in any state.
///
/// Secrets (passwords, codes, seed phrases, keys) are redacted before
/// anything else looks at the message: the user is warned, and the rest of
/// the message is handled as if the secret had never been there.
pub fn respond(set: &IntentSet, session: &Session, message: &str) -> (Session, Vec<Effect>) {
    let mut session = session.clone();
    if !session.lang_pinned {
        if let Some(lang) = Lang::detect(message) {
            session.lang = lang;
        }
    }
    let redaction = guard::redact(message, &guard::ScanContext::default(), session.lang);
    if redaction.findings.is_empty() {
        return respond_clean(set, session, message);
    }
    let warning = Effect::text(guard::warning(&redaction.kinds(), session.lang));
    // What is left once the secrets are gone may still be a question.
    let rest: String = message
        .chars()
        .enumerate()
        .filter(|(at, _)| {
            !redaction
                .findings
                .iter()
                .any(|f| (f.start..f.end).contains(at))
        })
        .map(|(_, ch)| ch)
        .collect();
    let has_question = crate::text::normalize(&rest)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .count()
        >= 4;
    if !has_question {
        session.offered.clear();
        return (session, vec![warning]);
    }
    let (session, mut effects) = respond_clean(set, session, &redaction.text);
    effects.insert(0, warning);
    (session, effects)
}

fn respond_clean(set: &IntentSet, mut session: Session, message: &str) -> (Session, Vec<Effect>) {
    let trimmed = message.trim();
    let lang = session.lang;
    if let Some(command) = trimmed.strip_prefix('/') {
        let mut parts = command.split_whitespace();
        let name = parts
            .next()
            .unwrap_or_default()
            .split('@')
            .next()
            .unwrap_or_default();
        let effects = match name.to_lowercase().as_str() {
            "start" => vec![Effect::text(texts::welcome(lang))],
            "help" => vec![Effect::text(texts::help(lang))],
            "lang" | "language" => match parts.next().and_then(Lang::parse) {
                Some(chosen) => {
                    session.lang = chosen;
                    session.lang_pinned = true;
                    vec![Effect::text(texts::language_set(chosen))]
                }
                None => vec![Effect::text(texts::language_usage(lang))],
            },
            _ => vec![Effect::text(texts::unknown_command(lang))],
        };
        session.offered.clear();
        return (session, effects);
    }

    // A pick among the choices offered last time: by number or by title.
    if let Some(intent) = picked_choice(set, &session, trimmed) {
        session.offered.clear();
        session.misses = 0;
        let effects = answer(set, intent, lang);
        return (session, effects);
    }
    session.offered.clear();

    if crate::text::normalize(trimmed).is_empty() {
        return (session, vec![Effect::text(texts::empty_message(lang))]);
    }

    let classification = set.classify(trimmed);
    let effects = match classification.verdict {
        Verdict::Matched(intent) => {
            session.misses = 0;
            answer(set, intent, lang)
        }
        Verdict::Ambiguous(intents) => {
            session.misses = 0;
            offer(set, &mut session, &intents, texts::did_you_mean(lang))
        }
        Verdict::NoMatch => {
            session.misses += 1;
            if session.misses >= 2 {
                let topics: Vec<usize> =
                    COMMON_TOPICS.iter().filter_map(|id| set.find(id)).collect();
                offer(set, &mut session, &topics, texts::offer_topics(lang))
            } else {
                vec![Effect::text(texts::not_understood(lang))]
            }
        }
    };
    (session, effects)
}

fn answer(set: &IntentSet, intent: usize, lang: Lang) -> Vec<Effect> {
    let intent = set.intent(intent);
    let text = intent
        .text(lang)
        .answer
        .clone()
        .or_else(|| intent.text(lang.other()).answer.clone())
        .unwrap_or_else(|| intent.text(lang).title.clone());
    vec![Effect::text(text)]
}

fn offer(set: &IntentSet, session: &mut Session, intents: &[usize], prompt: &str) -> Vec<Effect> {
    let lang = session.lang;
    session.offered = intents.iter().map(|&i| set.intent(i).id.clone()).collect();
    let choices = intents
        .iter()
        .map(|&i| Choice {
            label: set.intent(i).text(lang).title.clone(),
            value: set.intent(i).id.clone(),
        })
        .collect();
    vec![Effect::Reply {
        text: prompt.to_string(),
        choices,
    }]
}

fn picked_choice(set: &IntentSet, session: &Session, text: &str) -> Option<usize> {
    if session.offered.is_empty() {
        return None;
    }
    let picked = if let Ok(number) = text.parse::<usize>() {
        session.offered.get(number.checked_sub(1)?)
    } else {
        let wanted = crate::text::normalize(text);
        session.offered.iter().find(|id| {
            let intent = set.find(id).map(|i| set.intent(i));
            *id == text
                || intent.is_some_and(|intent| {
                    crate::text::normalize(&intent.zh.title) == wanted
                        || crate::text::normalize(&intent.en.title) == wanted
                })
        })
    }?;
    set.find(picked)
}
