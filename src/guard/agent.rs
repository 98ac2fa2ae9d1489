//! Checks on a reply before it is sent to a user.
//!
//! The most damaging scam on an exchange's support channel is "staff" asking
//! for a 2FA code or a seed phrase. Our own replies (templates, human agents)
//! must therefore never ask for a secret, never contain one, and never link
//! outside the official domains — and users should be able to learn that
//! *any* message asking for these is fake.
//!
//! Asking is told apart from warning by clause: a clause with a negation or
//! warning cue ("never share…", "请勿…", "不要…") is advice, not a request.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::links::{check_links, LinkReason};
use super::text::Prepared;
use super::{scan, ScanContext, SecretKind};
use crate::lang::Lang;

/// One reason not to send a reply.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentReplyProblem {
    pub kind: AgentReplyProblemKind,
    /// Human-readable explanation for the agent. Never contains the secret.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentReplyProblemKind {
    /// The reply asks the user for a secret.
    AsksForSecret(SecretKind),
    /// The reply itself contains a secret.
    ContainsSecret(SecretKind),
    /// The reply carries a link outside the official domains.
    UnofficialLink,
}

fn re(p: &str) -> Regex {
    Regex::new(p).expect("guard: invalid built-in regex")
}

/// Negation and warning cues: a clause with one of these is advice.
static NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:never|not|no|don'?t|dont|doesn'?t|won'?t|cannot|can'?t|nobody|anyone|anybody|beware|scam|scams|scammer|scammers|phishing|fake|avoid|refuse|impersonat\w*)(?-u:\b)|n't|不要|请勿|切勿|勿|千万别|别(?:把|将|向|给|发|告诉|透露|泄露|相信|点击)|不会|绝不|决不|从不|从来不|任何人|谨防|警惕|诈骗|骗子|不需要|无需|不用|不必|妥善保管|防止|冒充|假冒",
    )
});

/// English nouns for secrets (group names give the kind).
const EN_NOUN: &str = r"(?P<seed>seed(?:\s+phrase|\s+words)?|mnemonic(?:\s+phrase)?|recovery\s+(?:phrase|words)|secret\s+(?:phrase|recovery\s+phrase)|(?:12|24)[\s-]+words)|(?P<pk>private\s+keys?|privkey)|(?P<api>api\s+(?:secret|key)s?|secret\s+keys?)|(?P<pw>password|passcode|passwd|pwd|pin)|(?P<otp>2fa(?:\s+code)?|otp|one[\s-]time\s+(?:code|password)|(?:verification|sms|security|authenticator|auth|google(?:\s+authenticator)?|email|text)\s+code|codes?)";

/// Request verbs that ask for something to be handed over.
static EN_ASK: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(?-u:\b)(?:send|give|tell|provide|share|forward|paste|dm|text|reply\s+with|let\s+(?:me|us)\s+know|read\s+(?:out|me)|what\s+(?:is|was)|what'?s|whats|can\s+(?:i|we)\s+(?:have|get)|(?:i|we)(?:'ll|\s+will|'d|\s+would)?\s+(?:need|require|want)|need\s+you\s+to\s+(?:send|give|tell|provide|share))(?-u:\b)(?P<between>[^.!?\n]{{0,40}}?)(?-u:\b)(?:{EN_NOUN})(?-u:\b)"
    ))
});

/// Verbs that only ask when aimed at the chat ("type your code *here*").
static EN_ASK_HERE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(?-u:\b)(?:enter|type|input|write|post|put|confirm)(?-u:\b)(?P<between>[^.!?\n]{{0,30}}?)(?-u:\b)(?:{EN_NOUN})(?-u:\b)[^.!?\n]{{0,30}}?(?-u:\b)(?:here|below|in\s+(?:this|the)\s+(?:chat|conversation|reply)|in\s+your\s+reply|to\s+(?:me|us)|with\s+(?:me|us))(?-u:\b)"
    ))
});

/// "your 2FA code, please".
static EN_PLEASE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(?-u:\b)(?P<between>your)\s+(?:{EN_NOUN})\s*,?\s*(?:please|pls|plz)(?-u:\b)"
    ))
});

/// Words that, between verb and noun, show the sentence is about something
/// else ("tell me *whether* you received the code").
static EN_BETWEEN_EXCL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:whether|if|how|where|why|when|about|receive[ds]?|received|get|got|arrive[ds]?|arrived|working|which|error|status|time|problem|issue)(?-u:\b)",
    )
});

/// A secret noun followed by one of these is a topic, not the secret
/// ("password reset", "2FA settings", "验证码收不到").
static EN_AFTER_EXCL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:reset|change|recovery|manager|settings?|page|screen|error|issue|problem|link|field|requirements?|policy|strength|length|app|function|feature|option|menu|button|request|delivery|permissions?|label|name|status|history|not|isn't|wasn't|didn't|doesn't|won't|expired|used\s+for|mean)(?-u:\b)",
    )
});

/// Pointing the user to the official app or site is the opposite of asking
/// for the secret in chat ("provide the code in the app").
static IN_APP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:in|on|via|through|inside|within)\s+(?:the|your|our)\s+(?:official\s+)?(?:app|application|website|site|security\s+(?:center|settings))(?-u:\b)|(?:在|到|进入)?(?:官方)?(?:app|App|APP|官网|网页版)(?:内|中|里|上)",
    )
});

/// Bare "code" in a clause about errors or other codes is not a 2FA code.
static CODE_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:error|status|http|referral|promo|invite|invitation|qr|country|zip|area|coupon|voucher|gift|tracking)(?-u:\b)",
    )
});

/// "referral code", "error code" are not one-time codes.
static EN_CODE_QUAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:referral|promo|promotion|invite|invitation|error|coupon|qr|country|zip|area|postal|bank|swift|discount|gift|voucher|reward|bonus|activation|tracking|product|source|status)\s*$",
    )
});

const ZH_NOUN: &str = r"(?P<seed>助记词|助記詞|种子词|恢复短语)|(?P<api>api\s*(?:密钥|秘钥|key|secret)|secret\s*key)|(?P<pk>私钥|私鑰|密钥|秘钥)|(?P<pw>(?:登录|登陆|资金|交易|支付|提现)?密码|密碼|口令)|(?P<otp>(?:短信|谷歌|邮箱|手机|二次)?验证码|驗證碼|动态码|校验码|安全码|2fa|谷歌码)";

/// 请提供您的验证码 / 告诉我你的密码.
static ZH_ASK: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(?:提供|发给|发送|发我|发一下|发过来|发来|发到|告诉|告知|给我|给一下|报一下|报给|报下|说一下|说下|说出|念一下|回复|私信|复制给|贴出来|在这里输入|在此输入|输入到这里|输入在这里|填在这里|填写在这里)(?P<between>[^，。！？；\n]{{0,15}}?)(?:{ZH_NOUN})"
    ))
});
/// 把助记词发给我.
static ZH_BA: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)把(?P<between>[^，。！？；\n]{{0,10}}?)(?:{ZH_NOUN})[^，。！？；\n]{{0,6}}?(?:发|给|告诉|提供|报|说|私信|贴|复制)"
    ))
});
/// 验证码发我一下 / 您的密码是多少.
static ZH_NOUN_VERB: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(?P<between>)(?:{ZH_NOUN})\s*(?:发我|发给我|发给客服|发给我们|给我|告诉我|告知我|报给我|报一下|发过来|发一下|是多少|是几|多少|提供一下|提供给我|说一下|念一下)"
    ))
});
static ZH_BETWEEN_EXCL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"是否|有没有|能否|收到|收不到|没收到|如何|怎么|怎样|哪里|什么时候|关于|有关|的截图|截图|错误|问题",
    )
});
static ZH_AFTER_EXCL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s*(?:收不到|没收到|未收到|的截图|截图|页面|错误|报错|设置|重置|修改|找回|功能|的问题|问题|记录|时间|失效|过期|发送失败|有误|不正确|是否|吗|长度|规则|强度|格式|管理|权限|名称|备注)",
    )
});

/// Checks a reply before it is sent; an empty result means it is fine.
pub fn check_agent_reply(text: &str, official_domains: &[String]) -> Vec<AgentReplyProblem> {
    let mut out = Vec::new();
    let p = Prepared::new(text);
    let mut asked: Vec<SecretKind> = Vec::new();
    for clause in p
        .folded
        .split(['.', '!', '?', '\n', ';', '。', '！', '？', '；', ',', '，'])
    {
        if clause.trim().is_empty() || NEGATION.is_match(clause) || IN_APP.is_match(clause) {
            continue;
        }
        if let Some(kind) = asks_for(clause) {
            if !asked.contains(&kind) {
                asked.push(kind);
                out.push(AgentReplyProblem {
                    kind: AgentReplyProblemKind::AsksForSecret(kind),
                    detail: format!(
                        "asks the user for their {}: \"{}\" — staff must never ask for this",
                        kind.label(Lang::En),
                        clip(clause.trim(), 80)
                    ),
                });
            }
        }
    }
    for f in scan(text, &ScanContext::default()) {
        out.push(AgentReplyProblem {
            kind: AgentReplyProblemKind::ContainsSecret(f.kind),
            detail: format!(
                "contains a secret ({}) at characters {}..{}",
                f.kind.label(Lang::En),
                f.start,
                f.end
            ),
        });
    }
    for w in check_links(text, official_domains) {
        let why = match &w.reason {
            LinkReason::NotOfficial => "is not an official domain".to_string(),
            LinkReason::LookAlike { official } => format!("imitates {official}"),
        };
        out.push(AgentReplyProblem {
            kind: AgentReplyProblemKind::UnofficialLink,
            detail: format!("link to {} {}", w.domain, why),
        });
    }
    out
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

fn kind_of(c: &regex::Captures) -> Option<SecretKind> {
    if c.name("seed").is_some() {
        Some(SecretKind::SeedPhrase)
    } else if c.name("pk").is_some() {
        Some(SecretKind::PrivateKey)
    } else if c.name("api").is_some() {
        Some(SecretKind::ApiKey)
    } else if c.name("pw").is_some() {
        Some(SecretKind::Password)
    } else if c.name("otp").is_some() {
        Some(SecretKind::OneTimeCode)
    } else {
        None
    }
}

/// Does this clause (already free of negation cues) ask for a secret?
fn asks_for(clause: &str) -> Option<SecretKind> {
    let en: [(&Regex, bool); 3] = [(&EN_ASK, true), (&EN_ASK_HERE, false), (&EN_PLEASE, false)];
    for (rx, what_needs_your) in en {
        for c in rx.captures_iter(clause) {
            let Some(kind) = kind_of(&c) else { continue };
            let (Some(all), Some(between)) = (c.get(0), c.name("between")) else {
                continue;
            };
            if EN_BETWEEN_EXCL.is_match(between.as_str()) {
                continue;
            }
            let noun_group = ["seed", "pk", "api", "pw", "otp"]
                .iter()
                .find_map(|g| c.name(g));
            let Some(noun) = noun_group else { continue };
            if EN_AFTER_EXCL.is_match(&clause[noun.end()..]) {
                continue;
            }
            if kind == SecretKind::OneTimeCode
                && (EN_CODE_QUAL.is_match(&clause[all.start()..noun.start()])
                    || (noun.as_str().to_ascii_lowercase().starts_with("code")
                        && CODE_TOPIC.is_match(clause)))
            {
                continue;
            }
            let verb = all.as_str().to_ascii_lowercase();
            if what_needs_your
                && verb.starts_with("what")
                && !between.as_str().to_ascii_lowercase().contains("your")
            {
                continue;
            }
            return Some(kind);
        }
    }
    for rx in [&*ZH_ASK, &*ZH_BA, &*ZH_NOUN_VERB] {
        for c in rx.captures_iter(clause) {
            let Some(kind) = kind_of(&c) else { continue };
            if c.name("between")
                .is_some_and(|b| ZH_BETWEEN_EXCL.is_match(b.as_str()))
            {
                continue;
            }
            let noun_end = ["seed", "pk", "api", "pw", "otp"]
                .iter()
                .find_map(|g| c.name(g))
                .map(|m| m.end());
            if let Some(e) = noun_end {
                if std::ptr::eq(rx, &*ZH_ASK) && ZH_AFTER_EXCL.is_match(&clause[e..]) {
                    continue;
                }
            }
            return Some(kind);
        }
    }
    None
}
