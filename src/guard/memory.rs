//! Redaction that follows the conversation.
//!
//! People rarely paste a secret in one tidy message. They announce it
//! ("my password is", "I got an SMS code", "私钥如下", "助記詞：") and send it
//! in the next message; they paste half a seed, then the rest; they put a
//! key on the lines after its label. [`Memory`] remembers what the last
//! messages *armed* — never the secret itself: the kind a label announced,
//! how many seed words came so far, and how long the window stays open
//! (the next [`WINDOW_MESSAGES`] messages or [`WINDOW_SECS`] seconds,
//! whichever ends first).
//!
//! Every part of a secret is hidden on arrival: anything after a seed label
//! is taken as seed words, numbered or bare list words count on their own,
//! key pieces after a key label count. So no earlier message ever needs
//! hiding after the fact — by then it would already be in the store's
//! files, and deleting bytes from a log-structured store is not something
//! a redaction can promise.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::secrets::{self, Cand, API_CTX, PRIV_CTX, SECRETKEY_CTX, SEED_CTX, TX_CTX, TX_TALK};
use super::text::Prepared;
use super::{Expected, Redaction, ScanContext, SecretKind};
use crate::lang::Lang;

/// Messages an announcement covers.
pub const WINDOW_MESSAGES: u8 = 2;
/// Seconds an announcement covers.
pub const WINDOW_SECS: i64 = 180;

/// What the conversation has armed. Holds kinds and counts, never text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Memory {
    /// The kind of secret a label announced, or a seed or key not yet
    /// complete.
    pub expect: Option<SecretKind>,
    /// A label announced a transaction hash (`txid:`): a bare hash in the
    /// next message is one.
    pub expect_tx: bool,
    /// Seed words seen so far of a seed that is not complete.
    pub seed_words: u32,
    /// Messages left in the window.
    pub messages_left: u8,
    /// Unix seconds when the window closes.
    pub until: i64,
}

impl Memory {
    fn arm(&mut self, expect: Option<SecretKind>, tx: bool, now: i64) {
        self.expect = expect;
        self.expect_tx = tx;
        self.messages_left = WINDOW_MESSAGES;
        self.until = now + WINDOW_SECS;
        if expect != Some(SecretKind::SeedPhrase) {
            self.seed_words = 0;
        }
    }

    fn open(&self, now: i64) -> bool {
        self.messages_left > 0 && now <= self.until
    }
}

/// Like [`super::redact`], across messages: uses what `memory` armed, then
/// records what this message arms. `now` is Unix seconds.
pub fn redact_following(
    text: &str,
    ctx: &ScanContext,
    lang: Lang,
    memory: &mut Memory,
    now: i64,
) -> Redaction {
    if !memory.open(now) {
        *memory = Memory::default();
    }
    let mut ctx = *ctx;
    if memory.expect_tx && ctx.expecting.is_none() {
        ctx.expecting = Some(Expected::TxHash);
    }
    let p = Prepared::new(text);
    let mut cands = secrets::detect(&p, &ctx);
    if let Some(kind) = memory.expect {
        cands.extend(armed(text, &p, kind, &ctx));
    }
    let findings = super::finish(text, cands);

    // What this message leaves armed.
    let seed_words: usize = findings
        .iter()
        .filter(|f| f.kind == SecretKind::SeedPhrase)
        .map(|f| secrets::seed_word_count(&p, f.start, f.end))
        .sum();
    let key_part = findings.iter().any(|f| {
        f.kind == SecretKind::PrivateKey && {
            let t = p.slice(f.start, f.end);
            let hex = t.chars().filter(char::is_ascii_hexdigit).count();
            t.chars()
                .all(|c| c.is_ascii_hexdigit() || c.is_whitespace() || c == 'x')
                && hex < 64
        }
    });
    let before = memory.clone();
    memory.messages_left = memory.messages_left.saturating_sub(1);
    if seed_words > 0 {
        let total = memory.seed_words as usize + seed_words;
        if secrets::VALID_SEED_LENS.contains(&total) || total > 24 {
            *memory = Memory::default();
        } else {
            memory.arm(Some(SecretKind::SeedPhrase), false, now);
            memory.seed_words = total as u32;
        }
    } else if key_part {
        memory.arm(Some(SecretKind::PrivateKey), false, now);
    } else if let Some(kind) = before.expect {
        // The announced secret came: the window closes.
        if findings.iter().any(|f| f.kind == kind) {
            *memory = Memory::default();
        }
    }
    match announced(&p) {
        Some(Announced::Secret(kind)) if findings.iter().all(|f| f.kind != kind) => {
            memory.arm(Some(kind), false, now);
        }
        Some(Announced::TxHash) => memory.arm(None, true, now),
        // "My deposit has not arrived": a bare hash next is its TXID.
        _ if memory.expect.is_none() && TX_TALK.is_match(&p.folded) => memory.arm(None, true, now),
        _ => {}
    }
    if !memory.open(now) {
        *memory = Memory::default();
    }
    super::apply(text, findings, lang)
}

/// Detection in a message that follows an announcement of `kind`: the
/// message is read as if the label stood right before it (after words
/// like "here it is" or "好的，给你").
fn armed(text: &str, p: &Prepared, kind: SecretKind, ctx: &ScanContext) -> Vec<Cand> {
    let mut out = Vec::new();
    if kind == SecretKind::SeedPhrase {
        if let Some((s, e)) = secrets::seed_continuation(p) {
            out.push(Cand {
                kind,
                start: s,
                end: e,
            });
        }
    }
    if kind == SecretKind::OneTimeCode
        && matches!(
            ctx.expecting,
            Some(Expected::OrderId | Expected::Uid | Expected::Amount)
        )
    {
        return out;
    }
    let skip = FILLER
        .find(text)
        .map_or(0, |m| text[..m.end()].chars().count());
    let rest: String = text.chars().skip(skip).collect();
    // A password is one word; a sentence after "my password is" is talk.
    if kind == SecretKind::Password && rest.split_whitespace().count() > 3 {
        return out;
    }
    let prefix = match kind {
        SecretKind::SeedPhrase => "seed: ",
        SecretKind::PrivateKey => "private key: ",
        SecretKind::ApiKey => "api secret: ",
        SecretKind::Password => "password: ",
        SecretKind::OneTimeCode => "code: ",
    };
    let shifted = format!("{prefix}{rest}");
    let n = prefix.chars().count();
    let q = Prepared::new(&shifted);
    for c in secrets::detect(&q, ctx) {
        if c.start >= n {
            out.push(Cand {
                kind: c.kind,
                start: c.start - n + skip,
                end: c.end - n + skip,
            });
        }
    }
    out
}

/// Words before the secret itself in a message that follows a label.
static FILLER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:\s|[,.:;!~\-，。：；！、]|here(?:'s| is| it is| you go| you are)?(?-u:\b)|it(?:'s| is)?(?-u:\b)|this(?: is)?(?-u:\b)|that(?: is)?(?-u:\b)|ok(?:ay)?(?-u:\b)|sure(?-u:\b)|yes(?-u:\b)|yeah(?-u:\b)|the(?-u:\b)|one(?-u:\b)|is(?-u:\b)|my(?-u:\b)|sorry(?-u:\b)|是|就是|这是|這是|好的|好|给你|給你|发你|發你|如下|我的|嗯)*",
    )
    .expect("guard: invalid built-in regex")
});

enum Announced {
    Secret(SecretKind),
    TxHash,
}

static PW_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:password|passwd|passcode|passphrase|p@ssw[o0]rd|passw0rd|pwd|pass|pin)(?-u:\b)|密码|口令",
    )
    .expect("guard: invalid built-in regex")
});
static OTP_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:2fa|2-fa|otp|totp|mfa|sms|codes?|authenticator|authy)(?-u:\b)|验证码|验证器|谷歌|校验码|动态码|动态口令|安全码|确认码|短信",
    )
    .expect("guard: invalid built-in regex")
});
/// The label is the last thing said: only these may follow it.
static LABEL_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:\s|\p{P}|is(?-u:\b)|are(?-u:\b)|was(?-u:\b)|=|>|->|=>|below(?-u:\b)|here(?-u:\b)|it(?-u:\b)|then(?-u:\b)|now(?-u:\b)|是|为|為|就是|如下|发你|給你|给你|在下面)*$",
    )
    .expect("guard: invalid built-in regex")
});
/// Words that send a secret on its way, wherever they stand.
static SENDING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:here it is|here you go|here you are|here's|heres|below|as follows|in the next message|next message|sending (?:it|now))(?-u:\b)|如下|发给你|發給你|发你|發你|给你|給你|下一条|下面是|在下面",
    )
    .expect("guard: invalid built-in regex")
});
static GOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:got|received|receive|came|arrived)(?-u:\b)|收到|来了|來了")
        .expect("guard: invalid built-in regex")
});
/// Talk about a secret, not the secret's arrival.
static NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:not|no|never|didn't|didnt|don't|dont|can't|cant|cannot|forgot|forget|lost|reset|wrong|invalid|change|changed|how|what|why|where|which|should|safe|steal|stole|stolen|hacked|scam\w*|anyone|someone|ask|asked|asking|help|need|share|give)(?-u:\b)|\?|？|忘|丢|錯|错|重置|修改|改了|收不到|没收到|沒收到|未收到|不到|没有|沒有|怎么|怎麼|什么|什麼|为什么|為什麼|吗|嗎|呢|骗|騙|偷|盗|盜|别人|别|不要|要我|让我|讓我",
    )
    .expect("guard: invalid built-in regex")
});

/// The kind of secret (or a transaction hash) this message announces: a
/// label with nothing after it ("my seed is", "助記詞："), "here it is" /
/// "如下" after a label, or "I got an SMS code". Questions and complaints
/// about a secret ("I forgot my password", "验证码收不到") announce nothing.
fn announced(p: &Prepared) -> Option<Announced> {
    let text = p.folded.as_str();
    let labels: [(&Regex, Option<SecretKind>); 7] = [
        (&SEED_CTX, Some(SecretKind::SeedPhrase)),
        (&PRIV_CTX, Some(SecretKind::PrivateKey)),
        (&SECRETKEY_CTX, Some(SecretKind::PrivateKey)),
        (&API_CTX, Some(SecretKind::ApiKey)),
        (&PW_LABEL, Some(SecretKind::Password)),
        (&OTP_LABEL, Some(SecretKind::OneTimeCode)),
        (&TX_CTX, None),
    ];
    // The label said last wins ("I got the code, my password is").
    let (end, kind) = labels
        .iter()
        .filter_map(|(rx, kind)| rx.find_iter(text).last().map(|m| (m.end(), *kind)))
        .max_by_key(|(end, _)| *end)?;
    let after = &text[end..];
    let sending = SENDING.is_match(text);
    // Or a few words more ("the password for the account").
    let at_end = LABEL_END.is_match(after)
        || (after.split_whitespace().count() <= 4 && !after.chars().any(super::text::is_han));
    let negated = NEGATION.is_match(text);
    let got = kind == Some(SecretKind::OneTimeCode) && GOT.is_match(text);
    if !(sending || ((at_end || got) && !negated)) {
        return None;
    }
    Some(match kind {
        Some(kind) => Announced::Secret(kind),
        None => Announced::TxHash,
    })
}
