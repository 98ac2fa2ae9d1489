//! Guard: keeps secrets out of the chat and phishing links away from users.
//!
//! Users of an exchange's support chat regularly paste things nobody should
//! ever see — seed phrases, private keys, API secrets, passwords, 2FA codes —
//! often because a scammer posing as staff asked for them. This module:
//!
//! - finds such secrets in a message ([`scan`]) and hides them before the
//!   message is logged, shown to staff or forwarded ([`redact`]), and tells
//!   the user what to do now ([`warning`]);
//! - checks a reply *before* an agent or template sends it
//!   ([`check_agent_reply`]): a reply must never ask for a secret, contain one,
//!   or carry a link outside the official domains;
//! - checks links in any text against the official domains and explains
//!   look-alikes ([`check_links`], [`link_warning_text`]).
//!
//! # Design
//!
//! Everything is pure and synchronous (no IO, clock or environment), never
//! panics, and runs in time linear in the input: detectors are char loops
//! and `regex` searches (linear-time by construction), so nothing needs to
//! be cut and no secret can hide past a cut-off.
//!
//! Offsets in [`Finding`] are *character* offsets, because the rest of kefu
//! works by character (Chinese text) and byte offsets would be a trap.
//!
//! A support chat is full of long numbers and hex strings that are *not*
//! secrets (order ids, UIDs, amounts, TXIDs, addresses). Detection therefore
//! leans on the label nearest to a token (`订单号 12345678` vs `验证码
//! 482913`, `TXID <hex>` vs `私钥 <hex>`) and on what the dialog asked for
//! ([`ScanContext`]).

mod agent;
mod links;
mod memory;
mod secrets;
mod text;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

pub use agent::{
    check_agent_reply, check_agent_reply_with, normalize_for_screen, AgentReplyPolicy,
    AgentReplyProblem, AgentReplyProblemKind,
};
pub use links::{check_links, link_warning_text, LinkReason, LinkWarning};
pub use memory::{redact_following, Memory, WINDOW_MESSAGES, WINDOW_SECS};

/// The kinds of secret a user may leak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// BIP-39 mnemonic (English or Simplified Chinese word list).
    SeedPhrase,
    /// Raw 64-hex key, WIF, or extended private key (xprv…).
    PrivateKey,
    /// Exchange API key or API secret.
    ApiKey,
    /// Login, fund or trading password (or PIN / passphrase).
    Password,
    /// 2FA/SMS/email one-time code.
    OneTimeCode,
}

impl SecretKind {
    /// All kinds, in the order warnings list them (most dangerous first).
    pub const ALL: [SecretKind; 5] = [
        SecretKind::SeedPhrase,
        SecretKind::PrivateKey,
        SecretKind::ApiKey,
        SecretKind::Password,
        SecretKind::OneTimeCode,
    ];

    /// Short human name, used in placeholders and warnings.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (SecretKind::SeedPhrase, Lang::Zh) => "助记词",
            (SecretKind::SeedPhrase, Lang::En) => "seed phrase",
            (SecretKind::PrivateKey, Lang::Zh) => "私钥",
            (SecretKind::PrivateKey, Lang::En) => "private key",
            (SecretKind::ApiKey, Lang::Zh) => "API 密钥",
            (SecretKind::ApiKey, Lang::En) => "API key",
            (SecretKind::Password, Lang::Zh) => "密码",
            (SecretKind::Password, Lang::En) => "password",
            (SecretKind::OneTimeCode, Lang::Zh) => "验证码",
            (SecretKind::OneTimeCode, Lang::En) => "one-time code",
        }
    }

    /// When two detections overlap, the merged span takes the kind that is
    /// worse to leak (a key controls funds forever; a code expires).
    fn severity(self) -> u8 {
        match self {
            SecretKind::PrivateKey => 5,
            SecretKind::SeedPhrase => 4,
            SecretKind::ApiKey => 3,
            SecretKind::Password => 2,
            SecretKind::OneTimeCode => 1,
        }
    }
}

/// One detected secret: `start..end` are CHARACTER offsets into the text
/// that was scanned (not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    pub kind: SecretKind,
    pub start: usize,
    pub end: usize,
}

/// What the conversation currently asks the user for. Context decides what
/// a bare number or hash means: a 64-hex string is a TXID when we asked for a
/// transaction hash, an 8-digit number is an order id when we asked for one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScanContext {
    pub expecting: Option<Expected>,
}

impl ScanContext {
    /// Context for a dialog step that asked for `e`.
    pub fn expecting(e: Expected) -> Self {
        ScanContext { expecting: Some(e) }
    }
}

/// What a dialog step asked for; see [`ScanContext`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    TxHash,
    OrderId,
    Uid,
    Address,
    Amount,
    Email,
    Other,
}

/// Finds secrets in `text`. Findings are sorted, non-overlapping, in char
/// offsets. Every further verbatim occurrence of a detected secret is also
/// reported (a password typed twice, or reused as an email local part, must
/// not survive redaction just because only one copy had a label).
pub fn scan(text: &str, ctx: &ScanContext) -> Vec<Finding> {
    let p = text::Prepared::new(text);
    finish(text, secrets::detect(&p, ctx))
}

/// Candidates → findings: merged, and every further copy of a secret added.
fn finish(text: &str, cands: Vec<secrets::Cand>) -> Vec<Finding> {
    let merged = merge(cands);
    if merged.is_empty() {
        return merged;
    }
    expand_duplicates(text, merged)
}

/// Sort and merge overlapping candidates; the merged span keeps the most
/// severe kind, so nothing that was detected is ever left half-visible.
fn merge(mut c: Vec<secrets::Cand>) -> Vec<Finding> {
    c.retain(|x| x.start < x.end);
    c.sort_by_key(|x| (x.start, x.end));
    let mut out: Vec<Finding> = Vec::with_capacity(c.len());
    for x in c {
        if let Some(last) = out.last_mut() {
            if x.start < last.end {
                last.end = last.end.max(x.end);
                if x.kind.severity() > last.kind.severity() {
                    last.kind = x.kind;
                }
                continue;
            }
        }
        out.push(Finding {
            kind: x.kind,
            start: x.start,
            end: x.end,
        });
    }
    out
}

/// At most this many distinct secrets are searched for again; bounds the
/// work on adversarial input (a message with thousands of "codes").
const MAX_DUPLICATE_SEARCH: usize = 64;

fn char_starts(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect()
}

fn expand_duplicates(text: &str, found: Vec<Finding>) -> Vec<Finding> {
    let starts = char_starts(text);
    let mut secrets: HashMap<&str, SecretKind> = HashMap::new();
    for f in &found {
        if secrets.len() >= MAX_DUPLICATE_SEARCH {
            break;
        }
        let s = &text[starts[f.start]..starts[f.end]];
        secrets.entry(s).or_insert(f.kind);
    }
    let mut extra: Vec<secrets::Cand> = Vec::new();
    for (s, kind) in secrets {
        for (b, _) in text.match_indices(s) {
            let cs = starts.partition_point(|&x| x < b);
            let ce = starts.partition_point(|&x| x < b + s.len());
            extra.push(secrets::Cand {
                kind,
                start: cs,
                end: ce,
            });
        }
    }
    extra.extend(found.iter().map(|f| secrets::Cand {
        kind: f.kind,
        start: f.start,
        end: f.end,
    }));
    merge(extra)
}

/// A redacted message; `findings` use offsets into the ORIGINAL text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    pub text: String,
    pub findings: Vec<Finding>,
}

impl Redaction {
    /// Distinct kinds found, in warning order; feed this to [`warning`].
    pub fn kinds(&self) -> Vec<SecretKind> {
        SecretKind::ALL
            .into_iter()
            .filter(|k| self.findings.iter().any(|f| f.kind == *k))
            .collect()
    }
}

/// The text that replaces a secret: `[已隐藏: 助记词]` / `[hidden: seed phrase]`.
pub fn placeholder(kind: SecretKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("[已隐藏: {}]", kind.label(lang)),
        Lang::En => format!("[hidden: {}]", kind.label(lang)),
    }
}

/// Replaces every secret in `text` with a placeholder in `lang`.
///
/// One message on its own; in a conversation use [`redact_following`],
/// which also catches a secret announced in one message and sent in the
/// next, or pasted in pieces.
pub fn redact(text: &str, ctx: &ScanContext, lang: Lang) -> Redaction {
    apply(text, scan(text, ctx), lang)
}

/// Replaces `findings` (sorted, non-overlapping) in `text` by placeholders.
fn apply(text: &str, findings: Vec<Finding>, lang: Lang) -> Redaction {
    if findings.is_empty() {
        return Redaction {
            text: text.to_string(),
            findings,
        };
    }
    let starts = char_starts(text);
    let mut out = String::with_capacity(text.len() + findings.len() * 16);
    let mut at = 0usize;
    for f in &findings {
        out.push_str(&text[starts[at]..starts[f.start]]);
        out.push_str(&placeholder(f.kind, lang));
        at = f.end;
    }
    out.push_str(&text[starts[at]..]);
    Redaction {
        text: out,
        findings,
    }
}

/// A clear, actionable warning for the secrets a user just sent.
///
/// Why per-kind advice: "don't share secrets" is useless after the fact.
/// What helps is the one thing to do *now* for that kind — move funds for a
/// seed/key (it cannot be changed), change the password, reset 2FA for a
/// code (it may be in use right now), revoke an API key. Returns an empty
/// string when `kinds` is empty.
pub fn warning(kinds: &[SecretKind], lang: Lang) -> String {
    let ks: Vec<SecretKind> = SecretKind::ALL
        .into_iter()
        .filter(|k| kinds.contains(k))
        .collect();
    if ks.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    match lang {
        Lang::Zh => {
            let names: Vec<&str> = ks.iter().map(|k| k.label(lang)).collect();
            s.push_str(&format!(
                "⚠️ 请不要发送您的{}。我们永远不需要它，工作人员也绝不会向您索要。\n如果您已经在任何地方（包括本对话、任何网站或其他聊天）发送过，请立即处理：",
                names.join("、")
            ));
            for k in &ks {
                s.push_str("\n• ");
                s.push_str(match k {
                    SecretKind::SeedPhrase => "助记词：请立即创建一个新钱包，并把全部资产转到新钱包。拿到助记词的人可以转走您的全部资产。",
                    SecretKind::PrivateKey => "私钥：请立即把全部资产转到一个新钱包。拿到私钥的人可以完全控制这个钱包。",
                    SecretKind::ApiKey => "API 密钥：请立即在 API 管理中删除（撤销）这个密钥，需要时再重新创建。",
                    SecretKind::Password => "密码：请立即修改这个密码；其他用了同一密码的地方也要一起修改。",
                    SecretKind::OneTimeCode => "验证码：它可能正在被人使用。请立即修改密码并重置二次验证（2FA）。",
                });
            }
        }
        Lang::En => {
            let names: Vec<&str> = ks.iter().map(|k| k.label(lang)).collect();
            let list = match names.len() {
                1 => names[0].to_string(),
                n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
            };
            let it = if ks.len() == 1 { "it" } else { "them" };
            s.push_str(&format!(
                "⚠️ Please never send your {list}. We never need {it}, and our staff will never ask for {it}.\nIf you have shared {it} anywhere (this chat, a website, another app), act now:"
            ));
            for k in &ks {
                s.push_str("\n• ");
                s.push_str(match k {
                    SecretKind::SeedPhrase => "Seed phrase: create a new wallet now and move all your funds to it. Anyone with these words can take everything.",
                    SecretKind::PrivateKey => "Private key: move all funds to a new wallet now. Anyone with this key controls the wallet.",
                    SecretKind::ApiKey => "API key: delete (revoke) this API key now in API Management, and create a new one only if you need it.",
                    SecretKind::Password => "Password: change it now, and anywhere else you use the same password.",
                    SecretKind::OneTimeCode => "One-time code: it may be in use right now. Change your password and reset your 2FA immediately.",
                });
            }
        }
    }
    s
}
