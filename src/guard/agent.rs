//! Checks on a reply before it is sent to a user: the phishing screen.
//!
//! The most damaging scam on an exchange's support channel is "staff"
//! asking for a seed phrase or a 2FA code, asking the user to move funds to
//! a "safe account", to pay a fee to unfreeze the account, to continue on
//! WeChat or WhatsApp, or to install AnyDesk. A human agent's reply (or a
//! compromised agent account) must never do any of these, so every reply is
//! screened before it leaves.
//!
//! # How
//!
//! Fixed strings are easy to reword around, so the screen works by meaning:
//!
//! 1. **Normalise** ([`normalize_for_screen`]): NFKC (full-width → ASCII),
//!    lower case, Traditional → Simplified, invisible characters dropped,
//!    Cyrillic/Greek look-alike letters folded to Latin, spaced-out letters
//!    joined (`p r i v a t e  k e y`, `s.e.e.d`), spaces and dots between
//!    Chinese characters dropped (`私 钥`), and digit-for-letter spellings of
//!    the words that matter undone (`s33d`, `p@ssword`).
//! 2. **Split** into sentences and clauses.
//! 3. **Find concepts**: a *request* (send, give, tell, share, type it here,
//!    take a photo, "what is", "we need"; 发给, 告诉, 提供, 截图, 是多少…)
//!    near a *secret object* (seed or recovery words, "the 12 words", a
//!    backup card, private key, password or PIN, the code or number the
//!    user received, the authenticator's digits, API secret; 助记词, 私钥,
//!    密码, 验证码, 谷歌验证器上的数字…); a transfer to a "safe", new or
//!    verification account or to a given address, or a fee or deposit to
//!    unfreeze (保证金, 解冻费); a contact channel off the platform (WeChat,
//!    QQ, WhatsApp, a Telegram handle that is not staff, a phone number, an
//!    e-mail outside the official domains); remote access (AnyDesk,
//!    TeamViewer, 向日葵, ToDesk, screen sharing); links outside the
//!    official domains ([`check_links`]).
//! 4. **Scope**: a concept inside a negation or a warning ("never share
//!    your seed phrase", "我们不会索要您的密码", "anyone asking for your
//!    code is a scammer") is advice, not a request — unless the clause
//!    still asks for it to *us* ("don't worry, just send me the code").
//!    Topics are not requests either ("password reset", "验证码收不到",
//!    "tell me whether you received the code").
//!
//! The corpus test (`tests/agent_corpus.rs`) measures recall and false
//! positives on hundreds of written replies in both languages.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::links::{check_links, LinkReason};
use super::{scan, ScanContext, SecretKind};
use crate::lang::Lang;

/// One reason not to send a reply.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentReplyProblem {
    pub kind: AgentReplyProblemKind,
    /// Human-readable explanation for the agent. Never contains a secret:
    /// it names the words that triggered it, not the reply.
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
    /// The reply asks the user to move funds: a "safe" or verification
    /// account, an address to send to, a fee or deposit to unfreeze.
    MovesFunds,
    /// The reply takes the user off the platform: WeChat, QQ, WhatsApp, a
    /// handle, a phone number, an e-mail outside the official domains.
    OffPlatformContact,
    /// The reply asks for remote access or screen sharing.
    RemoteAccess,
}

impl AgentReplyProblemKind {
    /// A short name for notes and alerts (`asks for seed phrase`).
    pub fn name(self) -> String {
        match self {
            AgentReplyProblemKind::AsksForSecret(k) => format!("asks for {}", k.label(Lang::En)),
            AgentReplyProblemKind::ContainsSecret(k) => {
                format!("contains a {}", k.label(Lang::En))
            }
            AgentReplyProblemKind::UnofficialLink => "unofficial link".into(),
            AgentReplyProblemKind::MovesFunds => "asks to move funds".into(),
            AgentReplyProblemKind::OffPlatformContact => "off-platform contact".into(),
            AgentReplyProblemKind::RemoteAccess => "remote access".into(),
        }
    }
}

/// What the screen needs from the configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct AgentReplyPolicy<'a> {
    /// Links and e-mail addresses on these domains (and their subdomains)
    /// are ours.
    pub official_domains: &'a [String],
    /// Telegram handles of official staff accounts (with or without `@`).
    pub staff_handles: &'a [String],
}

/// Checks a reply before it is sent; an empty result means it is fine.
/// No staff handles: every Telegram handle counts as off-platform.
pub fn check_agent_reply(text: &str, official_domains: &[String]) -> Vec<AgentReplyProblem> {
    check_agent_reply_with(
        text,
        &AgentReplyPolicy {
            official_domains,
            staff_handles: &[],
        },
    )
}

/// Checks a reply before it is sent, with the staff handles known.
pub fn check_agent_reply_with(text: &str, policy: &AgentReplyPolicy<'_>) -> Vec<AgentReplyProblem> {
    let mut out: Vec<AgentReplyProblem> = Vec::new();
    let mut push = |kind: AgentReplyProblemKind, detail: String| {
        if !out.iter().any(|p| p.kind == kind) {
            out.push(AgentReplyProblem { kind, detail });
        }
    };
    let plain = plain_fold(text);
    let norm = normalize_for_screen(text);
    static CALLED_A_SCAM: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^\s*(?:that'?s|that\s+is|this\s+is|it'?s|it\s+is|these\s+are|they\s+are)\s+(?:a\s+|an\s+|always\s+a\s+)?(?:scam|fraud|fake|phishing|scammers?)|^\s*(?:这|那|都|这些|那些)?(?:是|都是|均为|一律是)(?:骗子|诈骗|骗局|假的|钓鱼)",
        )
    });
    /// "What is it?" after a sentence that named a code.
    static PRONOUN_QUESTION: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^\s*(?:so\s+|ok\s+|okay\s+|and\s+|now\s+)?(?:what\s+(?:is|was|are|were|does|did)\s+(?:it|they|that|those)(?:\s+say)?|what'?s\s+it|read\s+(?:it|them)(?:\s+(?:to\s+me|out))?|send\s+(?:it|them)(?:\s+to\s+(?:me|us))?|tell\s+me\s+(?:it|them|what\s+it\s+says))\s*$|^\s*(?:是多少|是什么|多少|发我|发给我|告诉我|念一下)\s*$",
        )
    });
    let all = sentences(&norm);
    let mut previous: Option<SecretKind> = None;
    for (i, sentence) in all.iter().enumerate() {
        let mut s = Sentence::new(sentence);
        s.warned = all.get(i + 1).is_some_and(|n| CALLED_A_SCAM.is_match(n));
        if PRONOUN_QUESTION.is_match(sentence) {
            if let Some(kind) = previous {
                push(
                    AgentReplyProblemKind::AsksForSecret(kind),
                    format!(
                        "asks the user for their {} (\"{}\" after naming it). Staff never ask for this; point the user to the app instead.",
                        kind.label(Lang::En),
                        sentence.trim()
                    ),
                );
            }
        }
        previous = s.mentioned();
        for (kind, why) in s.secret_requests() {
            push(
                AgentReplyProblemKind::AsksForSecret(kind),
                format!(
                    "asks the user for their {} ({why}). Staff never ask for this; point the user to the app instead.",
                    kind.label(Lang::En)
                ),
            );
        }
        if let Some(why) = s.fund_movement() {
            push(
                AgentReplyProblemKind::MovesFunds,
                format!("asks the user to move or pay funds ({why}). Staff never ask users to transfer to an account, wallet or address, or to pay a fee or deposit to unfreeze; deposits go only to the address the app shows."),
            );
        }
        if let Some(why) = s.off_platform(policy) {
            push(
                AgentReplyProblemKind::OffPlatformContact,
                format!("takes the user off the platform ({why}). Support happens only in this chat and the official app."),
            );
        }
        if let Some(why) = s.remote_access() {
            push(
                AgentReplyProblemKind::RemoteAccess,
                format!("asks for remote access or screen sharing ({why}). Staff never control a user's device."),
            );
        }
    }
    // Literal things: addresses to pay, phone numbers, e-mails, handles.
    for why in literal_contacts(&plain, &norm, policy) {
        push(
            AgentReplyProblemKind::OffPlatformContact,
            format!("takes the user off the platform ({why}). Support happens only in this chat and the official app."),
        );
    }
    if let Some(why) = address_to_pay(&plain) {
        push(
            AgentReplyProblemKind::MovesFunds,
            format!("gives the user an address to send funds to ({why}). Deposits go only to the address the app shows."),
        );
    }
    for f in scan(text, &ScanContext::default()) {
        push(
            AgentReplyProblemKind::ContainsSecret(f.kind),
            format!(
                "contains a secret ({}) at characters {}..{}",
                f.kind.label(Lang::En),
                f.start,
                f.end
            ),
        );
    }
    let staff: Vec<String> = policy
        .staff_handles
        .iter()
        .map(|h| handle_name(h))
        .collect();
    let mut links = Vec::new();
    for w in check_links(text, policy.official_domains) {
        // A link to an official staff account is fine.
        let lower = w.url.to_lowercase();
        if let Some(rest) = lower
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .strip_prefix("t.me/")
        {
            let name = rest.split(['/', '?', '#']).next().unwrap_or("");
            if staff.iter().any(|s| s == name) {
                continue;
            }
        }
        links.push(w);
    }
    for w in links {
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

// ------------------------------------------------------------ normalising

fn re(p: &str) -> Regex {
    Regex::new(p).expect("guard: invalid built-in regex")
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0xFE00..=0xFE0F | 0xFEFF)
}

/// Cyrillic and Greek letters that look like Latin ones (`раssword`).
fn confusable(c: char) -> char {
    match c {
        'а' => 'a',
        'в' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' => 'e',
        'һ' | 'н' => 'h',
        'і' | 'ї' | 'ι' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'м' => 'm',
        'ո' | 'η' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' => 'u',
        'ѵ' | 'ν' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        '‘' | '’' | '`' | '´' => '\'',
        '“' | '”' | '「' | '」' | '『' | '』' => '"',
        _ => c,
    }
}

/// NFKC, lower case, Traditional → Simplified, invisibles dropped,
/// look-alike letters folded. Keeps spacing, so literal addresses, phone
/// numbers and e-mail addresses can still be read.
fn plain_fold(text: &str) -> String {
    crate::text::fold(text)
        .chars()
        .filter(|&c| !is_invisible(c))
        .map(confusable)
        .collect()
}

fn is_han(c: char) -> bool {
    super::text::is_han(c)
}

/// Separators people put inside a word to get it past a filter.
fn is_filler(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '.' | '-' | '_' | '*' | '·' | '•' | '|' | '/' | '~' | '+' | '^'
    )
}

/// `s e e d`, `s.e.e.d`, `p-r-i-v-a-t-e k-e-y`: three or more single
/// letters in a row, each followed by filler, are joined into one word.
static SPACED_LETTERS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?:^|[^a-z0-9])(?:[a-z0-9][ \t.\-_*·•|/~+^]{1,3}){2,}[a-z0-9](?:$|[^a-z0-9])")
});

fn join_spaced_letters(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in SPACED_LETTERS.find_iter(s) {
        out.push_str(&s[last..m.start()]);
        let body = m.as_str();
        // Keep the delimiters at either end (they are not letters).
        let first = body.chars().next().unwrap_or(' ');
        let end = body.chars().last().unwrap_or(' ');
        if !first.is_ascii_alphanumeric() {
            out.push(first);
        }
        out.extend(body.chars().filter(|c| c.is_ascii_alphanumeric()));
        if !end.is_ascii_alphanumeric() {
            out.push(end);
        }
        last = m.end();
    }
    out.push_str(&s[last..]);
    out
}

/// `私 钥`, `助.记.词`: filler between two Chinese characters goes.
fn join_spaced_han(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_filler(c) && i > 0 && is_han(chars[i - 1]) {
            let mut j = i;
            while j < chars.len() && is_filler(chars[j]) {
                j += 1;
            }
            if j < chars.len() && is_han(chars[j]) {
                i = j;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

static TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"[a-z0-9@$]{3,24}"));

/// Words worth undoing digit-for-letter spellings for.
const LEET_STEMS: [&str; 20] = [
    "seed",
    "private",
    "passw",
    "phrase",
    "mnemonic",
    "anydesk",
    "teamviewer",
    "wechat",
    "whatsapp",
    "secret",
    "recovery",
    "wallet",
    "safe",
    "secure",
    "telegram",
    "code",
    "key",
    "words",
    "backup",
    "verif",
];

/// `s33d` → `seed`, `p@ssword` → `password`, but only when the result is
/// one of the words that matter (`trc20` and `0x…` stay as they are).
fn deleet(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in TOKEN.find_iter(s) {
        let t = m.as_str();
        let letters = t.chars().any(|c| c.is_ascii_alphabetic());
        let leet = t.char_indices().any(|(i, c)| {
            matches!(c, '0' | '1' | '3' | '4' | '5' | '7' | '$') || (c == '@' && i > 0)
        });
        if !(letters && leet) || t.starts_with("0x") {
            continue;
        }
        let mapped: String = t
            .char_indices()
            .map(|(i, c)| match c {
                '0' => 'o',
                '1' => 'i',
                '3' => 'e',
                '4' => 'a',
                '5' | '$' => 's',
                '7' => 't',
                '@' if i > 0 => 'a',
                _ => c,
            })
            .collect();
        if LEET_STEMS.iter().any(|stem| mapped.contains(stem)) {
            out.push_str(&s[last..m.start()]);
            out.push_str(&mapped);
            last = m.end();
        }
    }
    out.push_str(&s[last..]);
    out
}

/// The text the screen reads: see the module documentation.
pub fn normalize_for_screen(text: &str) -> String {
    let plain = plain_fold(text);
    deleet(&join_spaced_han(&join_spaced_letters(&plain)))
}

/// Sentences: split at `.!?;。！？；` and line breaks; a dot only ends a
/// sentence before a space or the end (so `binance.com` and `1.5` stay).
fn sentences(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next = it.peek().map(|&(_, n)| n);
        let ends = match c {
            '!' | '?' | ';' | '。' | '！' | '？' | '；' | '\n' | '\r' => true,
            '.' => next.is_none_or(|n| n.is_whitespace()),
            _ => false,
        };
        if ends {
            let part = &s[start..i];
            if !part.trim().is_empty() {
                out.push(part);
            }
            start = i + c.len_utf8();
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(&s[start..]);
    }
    out
}

// ------------------------------------------------------------- vocabulary

/// Secret objects. Group names give the kind.
const OBJECT: &str = concat!(
    r"(?P<seed>",
    r"(?-u:\b)seed(?:\s*(?:phrase|words?|sentence|backup))?s?(?-u:\b)|mnemonic\w*|recovery\s*(?:phrase|words?|seed|sentence|sheet|card|kit)|backup\s*(?:phrase|words?|seed|card|sheet|paper)|secret\s*(?:recovery\s*)?phrase|wallet\s*(?:words|phrase|backup)|(?-u:\b)(?:12|24|18|twelve|twenty[\s-]*four|eighteen)[\s-]*(?:english\s+)?words?(?-u:\b)|words\s+(?:you\s+)?(?:wrote|written|noted)\s+down|paper\s*(?:backup|wallet)|(?-u:\b)(?:the|those|these|all\s+the|all\s+(?:12|24|twelve))\s+words(?-u:\b)",
    r"|助记词|助记|种子词|种子短语|恢复短语|恢复词|备份词|备份短语|钱包短语|(?:12|24|十二|二十四)个?(?:英文)?单?词|助记卡|备份卡|(?:助记词|备份)的?(?:卡片|纸条|纸|卡)",
    r")|(?P<pk>",
    r"private\s*keys?|privkey|priv\s*key|(?-u:\b)wif(?-u:\b)|xprv|keystore|wallet\.dat|wallet\s*file",
    r"|私钥|钱包文件",
    r")|(?P<api>",
    r"api\s*(?:secret|keys?|credentials?|tokens?)|secret\s*keys?",
    r"|api\s*(?:密钥|秘钥|私钥)|(?:密钥|秘钥)",
    r")|(?P<pw>",
    r"password|passcode|passwd|(?-u:\b)pwd(?-u:\b)|(?-u:\b)pin(?:\s*code|\s*number)?(?-u:\b)|passphrase|login\s*(?:details|credentials|info)|credentials",
    r"|(?:登录|登陆|资金|交易|支付|提现|账户|账号|邮箱)?密码|口令|pin码",
    r")|(?P<otp>",
    r"(?-u:\b)2fa(?:\s*codes?)?|(?-u:\b)otp(?-u:\b)|one[\s-]*time\s*(?:codes?|passwords?|pins?)|(?:verification|sms|security|authenticator|auth|google|email|e-mail|text|confirmation|login|withdrawal|2fa|mfa|otp|6[\s-]*digit|six[\s-]*digit)\s*codes?|(?-u:\b)(?:google\s*)?authenticator(?:\s*app)?(?-u:\b)|(?-u:\b)(?:the|a|your)\s+(?:\d+[\s-]*digit\s+)?(?:code|number|digits|numbers|pin)\s+(?:that\s+|which\s+)?(?:you|we|was|were|just|has|i)\s+(?:just\s+|have\s+)?(?:got|received|receive|see|saw|sent|texted|emailed|arrived|came|been\s+sent|get)|(?:2fa|authenticator|google)\s+(?:backup|recovery|secret)\s+(?:key|code)s?|backup\s+codes?|recovery\s+codes?|(?-u:\b)(?:6|six)[\s-]*(?:digit|figure)s?(?:\s*(?:number|numbers|code|pin))?|(?-u:\b)codes?(?-u:\b)|(?-u:\b)digits(?-u:\b)|(?-u:\b)the\s+number(?-u:\b)",
    r"|(?:短信|谷歌|邮箱|邮件|手机|二次|动态|安全|身份|提现|登录|登陆)?验证码|动态码|校验码|安全码|谷歌码|谷歌验证器?|身份验证器|验证器|收到的(?:数字|号码|码|那串数字|六位数|6位数)|(?:短信|邮件|邮箱|谷歌验证器|验证器|手机)(?:里|中|上)?(?:的|收到的)?(?:数字|号码|六位数|6位数)|验证器的备份密钥|(?:六|6)位(?:数字?|码|的?验证码)",
    r")"
);

/// Verbs and phrasings that ask for something to be handed over.
const ASK: &str = concat!(
    r"(?-u:\b)(?:send|sent\s+over|give|tell|share|provide|forward|paste|dm|pm|text|message|email|e-mail|whatsapp|upload|attach|submit|post|reply\s+(?:with|back\s+with)|respond\s+with|read\s+(?:out|off|me|us|it|them|back)|read(?-u:\b)|spell(?:\s+out)?|recite|let\s+(?:me|us)\s+(?:know|have|see)|drop|show|list|hand\s+over|photograph|snap|scan|take\s+an?\s+(?:photo|picture|pic|screenshot|snapshot|image)|screenshot|(?:i|we)(?:'ll|\s+will|'d|\s+would|\s+just|\s+still|\s+also|\s+now|\s+only)?\s+(?:need|require|want|must\s+have|have\s+to\s+(?:collect|check|verify|see|confirm))|(?:i|we)(?:'m|\s+am|'re|\s+are)\s+going\s+to\s+need|need\s+you\s+to|requires?|is\s+required|are\s+required|must\s+(?:provide|submit|send|share)|what\s+(?:is|was|are|were)|what's|whats|which\s+(?:is|are)|can\s+(?:i|we)\s+(?:have|get|see)|may\s+(?:i|we)\s+(?:have|get|see)|could\s+(?:i|we)\s+(?:have|get|see)|(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:send|give|tell|share|provide|read|type|forward|paste|confirm|show|dm|text)|kindly\s+(?:send|give|tell|share|provide|confirm|type|forward)|confirm|verify|validate|type|enter|input|key\s+in|fill\s+in|write|put|import|sync|connect|restore|recover)(?-u:\b)",
    r"|提供|发给|发送|发我|发一下|发下|发过来|发来|发到|发出来|发给我|告诉|告知|给我|给一下|给客服|报一下|报给|报下|报上|说一下|说下|说出|念一下|念给|念出|读一下|读给|读出|回复|私信|复制|粘贴|贴出来|贴一下|贴给|填写|填一下|填入|输入|截图|截个图|截屏|拍照|拍张|拍一下|拍下|拍个|拍给|照片|上传|交给|提交|核对|核实|验证一下|确认一下|需要|要您的|要你的|是多少|是什么|是几|多少|导入|同步"
);

/// "type", "enter", "confirm"… only ask when aimed at the chat (or the
/// object is a seed or key, which no one ever types anywhere but their
/// own wallet).
static WEAK_ASK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:confirm|verify|validate|type|enter|input|key\s+in|fill\s+in|write|put|import|sync|connect|restore|recover|need|需要|核对|核实|验证一下|确认一下|输入|填写|填一下|填入|导入|同步)$",
    )
});

/// Where a weak verb points at this chat.
static HERE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:here|below|in\s+(?:this|the|our)\s+(?:chat|conversation|reply|message|thread|form)|in\s+your\s+(?:reply|next\s+message|answer)|to\s+(?:me|us)|with\s+(?:me|us)|for\s+(?:me|us)|so\s+(?:i|we)\s+can|(?:i|we)\s+(?:need|will|can|must)|the\s+(?:form|link|page)\s+(?:i|we)\s+(?:sent|gave))(?-u:\b)|这里|此处|下方|下面|对话框|聊天框|本对话|聊天窗口|表单|给我|我们|我来|我帮|帮您|帮你|客服",
    )
});

/// Official place to type a secret: the app or website (not this chat).
static IN_APP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:in|on|via|through|inside|within|into)\s+(?:the|your|our)\s+(?:official\s+|own\s+|exchange\s+|mobile\s+)?(?:app|application|website|site|web\s+page|login\s+page|withdrawal\s+page|security\s+(?:center|centre|settings|page)|account\s+settings|wallet\s+app)(?-u:\b)|(?:在|到|进入|于)?(?:官方|您的|你的|自己的)?(?:app|官网|网页版|安全中心|钱包app|钱包应用|提现页面|登录页面)(?:内|中|里|上)",
    )
});

/// Negation cues.
static NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:never|not|no|nobody|none|noone|don't|dont|doesn't|doesnt|won't|wont|cannot|can't|cant|shouldn't|mustn't|isn't|aren't|avoid|refuse|stop)(?-u:\b)|n't(?-u:\b)|no\s+one|不要|请勿|切勿|勿|千万别|别|不会|绝不|决不|绝对不|从不|从来不|从未|不需要|无需|不用|不必|不可以|不能|不得|禁止|严禁|避免|拒绝|不索要|不收取|没有任何",
    )
});

/// Negations that are not about the request ("don't worry, …").
static CANCELLED_NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:don'?t|do\s+not|no\s+need\s+to|not\s+to|never)\s+(?:worry|panic|hesitate|be\s+afraid|be\s+alarmed|stress|fret|mind)(?-u:\b)|(?-u:\b)no\s+(?:worries|problem|rush|stress)(?-u:\b)|(?-u:\b)not\s+a\s+problem(?-u:\b)|(?-u:\b)(?:don'?t|cannot|can't|could\s+not|couldn't|do\s+not)\s+(?:find|see|locate|verify|confirm|match|access|process|proceed|unlock|unfreeze|release)(?-u:\b)|不要担心|别担心|不用担心|别着急|不要着急|不用着急|别急|别怕|不要怕|不要紧|没问题|不用客气|别紧张|不要紧张|不用慌|别慌|不然|否则|无法|不能(?:解冻|提现|出金|处理|核实|验证|恢复|找回)",
    )
});

/// Words after a negation that start a new request ("I can't verify you
/// *unless* you send the code").
static BLOCKER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:unless|but|so|until|then|instead|just|only\s+if|otherwise|except)(?-u:\b)|除非|但是|但|不过|然后|才|只要|只需|就|而是|只有",
    )
});

/// A warning: the sentence is about scammers, not a request.
static WARNING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:scam\w*|fraud\w*|phish\w*|fake|impersonat\w*|imposters?|impostors?|beware|anyone|anybody|someone|somebody|strangers?|third\s+part(?:y|ies)|criminals?|hackers?|thieves|thief)(?-u:\b)|骗子|诈骗|欺诈|冒充|假冒|钓鱼|谨防|警惕|骗局|任何人|别人|他人|陌生人|第三方|黑客|盗号|有人|自称|不法分子",
    )
});

/// The request is aimed at us: a warning cue does not excuse it.
static TO_US: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:me|us|to\s+our\s+\w+|our\s+(?:team|agent|staff|department|engineer))(?-u:\b)|给我|发我|告诉我|我们|本人|告知我|私信我",
    )
});

static ASK_RE: LazyLock<Regex> = LazyLock::new(|| re(ASK));
static OBJECT_RE: LazyLock<Regex> = LazyLock::new(|| re(OBJECT));

/// Between verb and object: the sentence is about something else
/// ("tell me *whether* you received the code").
static BETWEEN_EXCL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:whether|if|how|where|why|when|once|after|about|regarding|problem|issue|error|status|reset|change|changed|enable|enabled|disable|disabled|set\s+up|bind|unbind|forgot|forgotten|lost|strength|rules?|requirements?|tips?|steps?|guide|instructions?|way|method|link\s+to\s+reset|time|delay|delays)(?-u:\b)|是否|有没有|能否|收不到|没收到|如何|怎么|怎样|哪里|什么时候|关于|有关|错误|问题|重置|修改|更改|找回|设置|开启|关闭|绑定|解绑|忘记|忘了|丢失|规则|要求|步骤|方法|教程",
    )
});

/// Between verb and a seed or key: only these make it a topic ("tell me
/// where you wrote the seed words" is still a request).
static STRONG_BETWEEN_EXCL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:whether|if|how\s+to|how\s+you|about|regarding|guide|tips?|steps?|instructions?|method|way\s+to|lost|forgot|forgotten|reset)(?-u:\b)|是否|如何|怎么|关于|有关|教程|方法|步骤|丢失|忘记|忘了",
    )
});

/// A secret word followed by one of these is a topic ("password reset",
/// "2FA settings", "验证码收不到").
static AFTER_EXCL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s*(?:reset|resets|change|changes|recovery\s+(?:page|link|process)|manager|settings?|page|screen|error|issue|problem|field|box|requirements?|policy|strength|length|rules?|function|feature|option|menu|button|request|delivery|permissions?|label|status|history|expired|expiry|is\s+(?:enabled|disabled|on|off|working|not|wrong|incorrect|invalid|correct)|was\s+(?:enabled|disabled|wrong|incorrect|changed|reset)|has\s+(?:expired|been)|didn't|doesn't|isn't|wasn't|won't|not\s+(?:working|arriving|received)|never\s+arrived|arrives?|delay|delays|login|binding|bound|on\s+the\s+(?:app|website)|in\s+the\s+app)(?-u:\b)|^\s*(?:收不到|没收到|未收到|收不了|没有收到|页面|错误|报错|设置|重置|修改|找回|功能|的问题|问题|记录|时间|失效|过期|已过期|发送失败|有误|不正确|不对|错了|是否|长度|规则|强度|格式|管理|权限|名称|备注|延迟|的设置|绑定|解绑|登录不了|无法)",
    )
});

/// "error code", "referral code", "order number" are not secrets.
static CODE_QUAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:referral|promo|promotion|invite|invitation|error|coupon|qr|country|zip|area|postal|bank|swift|discount|gift|voucher|reward|bonus|activation|tracking|product|source|status|order|reference|ticket|transaction|tx|account|phone|mobile|uid|case|serial|card|id|hash|memo|tag|network|chain|contract|address|\d)\s*$|(?:邀请|推荐|错误|优惠|兑换|订单|工单|交易|追踪|区号|邮编)$",
    )
});

/// The code or number is clearly some other code when the sentence talks
/// about these.
static CODE_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:error|http|referral|promo|invite|invitation|qr|country|zip|area|coupon|voucher|gift|tracking|memo|tag|order|txid|hash|uid|ticket|reference|api\s+docs?|source|bug)(?-u:\b)|错误|邀请码|推荐码|兑换码|订单|工单|备注|标签|memo",
    )
});

/// A bare "code", "digits" or 验证器 needs a hint that it is the user's
/// one-time code.
fn is_weak_object(noun: &str) -> bool {
    let n = noun.trim();
    n == "code" || n == "codes" || n == "digits" || n == "验证器" || n.ends_with("number")
}

// ------------------------------------------------------------- sentences

struct Sentence<'a> {
    text: &'a str,
    /// Byte ranges of the clauses (split at commas and colons).
    clauses: Vec<(usize, usize)>,
    /// The next sentence calls this one a scam ("…; that's a scam").
    warned: bool,
}

impl<'a> Sentence<'a> {
    fn new(text: &'a str) -> Self {
        let mut clauses = Vec::new();
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if matches!(c, ',' | '，' | ':' | '：' | '(' | ')' | '（' | '）' | '—') {
                clauses.push((start, i));
                start = i + c.len_utf8();
            }
        }
        clauses.push((start, text.len()));
        Sentence {
            text,
            clauses,
            warned: false,
        }
    }

    fn clause_of(&self, at: usize) -> (usize, usize) {
        self.clauses
            .iter()
            .copied()
            .find(|&(s, e)| at >= s && at <= e)
            .unwrap_or((0, self.text.len()))
    }

    /// Is a trigger at `[start, end)` inside a negation or a warning?
    fn negated(&self, start: usize, end: usize) -> bool {
        if self.warned {
            return true;
        }
        let (cs, ce) = self.clause_of(start);
        let clause = &self.text[cs..ce];
        let masked = mask(clause, &CANCELLED_NEGATION);
        let rel = start - cs;
        let rel_end = (end - cs).min(clause.len());
        let to_us = TO_US.is_match(clause);
        for m in NEGATION.find_iter(&masked) {
            if m.end() <= rel {
                // Negation before the trigger governs it unless something
                // starts a new request in between.
                let between = &masked[m.end()..rel];
                if !BLOCKER.is_match(between) {
                    return true;
                }
            } else if m.start() >= rel_end && !to_us {
                // "…is not something we ask for".
                return true;
            } else if m.start() < rel_end && m.end() > rel {
                return true;
            }
        }
        // Warnings about scammers, anyone, strangers.
        let masked_sentence = mask(self.text, &CANCELLED_NEGATION);
        if WARNING.is_match(&masked_sentence) && !TO_US.is_match(clause) {
            return true;
        }
        if WARNING.is_match(clause) {
            return true;
        }
        false
    }

    /// A secret this sentence names (not as a topic, not in a warning).
    fn mentioned(&self) -> Option<SecretKind> {
        for c in OBJECT_RE.captures_iter(self.text) {
            let (Some(kind), Some(m)) = (kind_of(&c), c.get(0)) else {
                continue;
            };
            let (cs, ce) = self.clause_of(m.start());
            if AFTER_EXCL.is_match(&self.text[m.end()..ce.max(m.end())])
                || (kind == SecretKind::OneTimeCode
                    && (CODE_QUAL.is_match(&self.text[cs..m.start()])
                        || CODE_TOPIC.is_match(self.text)))
                || self.negated(m.start(), m.end())
            {
                continue;
            }
            return Some(kind);
        }
        None
    }

    fn secret_requests(&self) -> Vec<(SecretKind, String)> {
        let mut out: Vec<(SecretKind, String)> = Vec::new();
        let objects: Vec<(SecretKind, usize, usize)> = OBJECT_RE
            .captures_iter(self.text)
            .filter_map(|c| {
                let kind = kind_of(&c)?;
                let m = c.get(0)?;
                Some((kind, m.start(), m.end()))
            })
            .collect();
        for &(kind, os, oe) in &objects {
            if out.iter().any(|(k, _)| *k == kind) {
                continue;
            }
            if let Some(why) = self.asked(kind, os, oe) {
                out.push((kind, why));
            }
        }
        out
    }

    /// Is the secret object at `[os, oe)` asked for?
    fn asked(&self, kind: SecretKind, os: usize, oe: usize) -> Option<String> {
        let t = self.text;
        let noun = &t[os..oe];
        let (cs, ce) = self.clause_of(os);
        let clause = &t[cs..ce];
        if AFTER_EXCL.is_match(&t[oe..ce.max(oe)]) {
            return None;
        }
        if CODE_QUAL.is_match(&t[cs..os]) && kind == SecretKind::OneTimeCode {
            return None;
        }
        if kind == SecretKind::OneTimeCode && is_weak_object(noun) && CODE_TOPIC.is_match(t) {
            return None;
        }
        // Verbs before the object, in the same clause.
        let before = &t[cs..os];
        let mut found: Option<(usize, usize)> = None;
        let strong = matches!(kind, SecretKind::SeedPhrase | SecretKind::PrivateKey);
        let excluded = |gap: &str| {
            if strong {
                STRONG_BETWEEN_EXCL.is_match(gap)
            } else {
                BETWEEN_EXCL.is_match(gap)
            }
        };
        for m in ASK_RE.find_iter(before) {
            let gap = &before[m.end()..];
            if gap.chars().count() > 48 || excluded(gap) {
                continue;
            }
            found = Some((cs + m.start(), cs + m.end()));
        }
        // "send it here: your recovery words" — the verb in the clause
        // before, pointing forward.
        if found.is_none() && cs > 0 {
            static FORWARD: LazyLock<Regex> = LazyLock::new(|| {
                re(
                    r"(?-u:\b)(?:it|them|this|these|the\s+following|here|below)\s*$|如下\s*$|以下\s*$",
                )
            });
            let (ps, pe) = self
                .clauses
                .iter()
                .copied()
                .rfind(|&(_, e)| e < cs)
                .unwrap_or((0, 0));
            let prev = &t[ps..pe];
            if FORWARD.is_match(prev) && !OBJECT_RE.is_match(prev) {
                if let Some(m) = ASK_RE.find_iter(prev).last() {
                    found = Some((ps + m.start(), ps + m.end()));
                }
            }
        }
        // Verbs after the object: "验证码发我", "密码是多少", "your seed
        // phrase — type it below".
        if found.is_none() {
            let after = &t[oe..ce];
            if let Some(m) = ASK_RE.find(after) {
                let gap = &after[..m.start()];
                if gap.chars().count() <= 14 && !excluded(gap) {
                    found = Some((oe + m.start(), oe + m.end()));
                }
            }
        }
        // "your seed phrase, please" / "the 12 words please".
        static PLEASE_AFTER: LazyLock<Regex> = LazyLock::new(|| {
            re(r"^\s*(?:,\s*)?(?:please|pls|plz|asap)(?-u:\b)|^\s*[,，]?\s*(?:谢谢|麻烦|快点|尽快)")
        });
        static POSSESSIVE_BEFORE: LazyLock<Regex> =
            LazyLock::new(|| re(r"(?-u:\b)(?:your|the|ur)\s*$|您的\s*$|你的\s*$"));
        let please = found.is_none()
            && PLEASE_AFTER.is_match(&t[oe..])
            && POSSESSIVE_BEFORE.is_match(&t[cs..os]);
        // The object in one clause, "send it to me" in the next.
        if found.is_none() && !please {
            let later = &t[ce..];
            static PRONOUN_ASK: LazyLock<Regex> = LazyLock::new(|| {
                re(
                    r"^[\s,，:：]*(?:and\s+|then\s+|please\s+|just\s+|kindly\s+)*(?:send|give|tell|share|forward|paste|dm|text|read|type|write|post|upload|photograph|snap)\s+(?:it|them|those|these|this|that|all|the\s+words)(?-u:\b)|^[\s,，:：]*(?:请|麻烦|然后|再)?(?:发给我|发我|告诉我|给我|报给我|发过来|截图|拍照|拍下来|私信我|发一下)",
                )
            });
            if let Some(m) = PRONOUN_ASK.find(later) {
                let rest = &later[m.end()..];
                let rest = rest.split([',', '，', ':', '：']).next().unwrap_or("");
                let new_thing = rest.chars().filter(|c| c.is_alphanumeric()).count() > 4
                    && !rest.trim_start().starts_with("to ")
                    && !rest.trim_start().starts_with("please");
                if !new_thing
                    && !BETWEEN_EXCL.is_match(clause)
                    && !self.negated(ce + m.start(), ce + m.end())
                    && !self.negated(os, oe)
                {
                    return Some(format!(
                        "\"{}\" … \"{}\"",
                        noun.trim(),
                        m.as_str().trim_matches([' ', ',', '，', ':', '：'])
                    ));
                }
            }
            return None;
        }
        let (vs, ve) = found.unwrap_or((os, oe));
        let verb = t[vs..ve].trim();
        // Weak verbs need to point at this chat (seeds and keys excepted).
        if found.is_some() && WEAK_ASK.is_match(verb) {
            let toward_us = HERE.is_match(clause);
            let typed_somewhere =
                !matches!(verb, "need" | "需要" | "write" | "put" | "核对" | "核实");
            if !(toward_us || (strong && typed_somewhere)) {
                return None;
            }
            if !toward_us && IN_APP.is_match(clause) {
                return None;
            }
            // "need" is not an ask when someone else needs it ("the app
            // needs your password").
            if (verb == "need" || verb == "需要") && !toward_us {
                return None;
            }
        }
        // "what is the error code" was handled; "what is" needs "your".
        if verb.starts_with("what") || verb.starts_with("which") {
            let between = &t[ve..os];
            let possessive =
                between.contains("your") || between.contains("the ") || noun.starts_with("the ");
            if !possessive {
                return None;
            }
        }
        // Typing a code into the app is what we want users to do.
        if IN_APP.is_match(clause)
            && !TO_US.is_match(clause)
            && !matches!(kind, SecretKind::SeedPhrase | SecretKind::PrivateKey)
        {
            return None;
        }
        // Bare "code"/"digits" need the user's one-time code to be meant.
        if kind == SecretKind::OneTimeCode && is_weak_object(noun) {
            static OTP_HINT: LazyLock<Regex> = LazyLock::new(|| {
                re(
                    r"(?-u:\b)(?:sms|text|texted|phone|email|e-mail|authenticator|google|2fa|received|receive|got|get|just|sent|verify|verification|login|withdrawal|security|unlock|confirm|digits?|6|six|number|expires?|expiring)(?-u:\b)|短信|手机|邮箱|谷歌|收到|刚才|刚刚|登录|提现|过期|失效",
                )
            });
            if !OTP_HINT.is_match(t) {
                return None;
            }
        }
        if self.negated(vs, ve.max(oe)) || self.negated(os, oe) {
            return None;
        }
        Some(if please {
            format!("\"{}\" … please", noun.trim())
        } else {
            format!("\"{}\" … \"{}\"", verb, noun.trim())
        })
    }

    fn fund_movement(&self) -> Option<String> {
        static RULES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
            [
                // A transfer to a "safe", new, verification… account or wallet.
                r"(?-u:\b)(?:transfer|send|move|deposit|pay|wire|remit|put|withdraw|top\s*up|park|keep|store|hold)\w*(?-u:\b)[^.;]{0,60}?(?-u:\b)(?:to|into|in|onto|at|via)\s+(?:a|an|the|our|my|this|that|your|one)?\s*(?:new\s+|temporary\s+|special\s+|designated\s+|dedicated\s+|official\s+|company\s+|personal\s+|own\s+)?(?:safe|safer|safety|secure|secured|security|protected|protection|verification|verified|verifying|holding|escrow|insured|reserve|clean|isolation|quarantine|audit|audited|compliance|backup|recovery|temporary|temp|designated|special|custody|custodial|whitelisted|validation|frozen|unfreeze|guarantee)\s+(?:account|wallet|address|vault|pool)s?(?-u:\b)",
                r"(?-u:\b)(?:safe|secure|security|protected|verification|holding|escrow|insured|isolation|quarantine|custody)\s+(?:account|wallet|vault)s?(?-u:\b)[^.;]{0,40}?(?-u:\b)(?:transfer|send|move|deposit|pay)",
                // To an address or wallet the agent gives.
                r"(?-u:\b)(?:transfer|send|move|deposit|pay|wire|remit)\w*(?-u:\b)[^.;]{0,60}?(?-u:\b)(?:to|into|at)\s+(?:the\s+following|this|my|our|the\s+below|the\s+address\s+(?:below|here|i|we))\s*(?:new\s+|company\s+|personal\s+|private\s+|own\s+|other\s+|backup\s+|cold\s+|usdt\s+|trc20\s+|erc20\s+|btc\s+|eth\s+)?(?:address|wallet|account)",
                r"(?-u:\b)(?:transfer|send|move|deposit)\s+(?:all|everything|your\s+(?:funds|assets|balance|coins|usdt|btc|eth|money|crypto))[^.;]{0,40}?(?-u:\b)(?:to|into)\s+(?:a|an|the|our|my|this)\s+(?:new|different|another|other)\s+(?:account|wallet|address)(?-u:\b)",
                // Verification deposits and fees to unfreeze.
                r"(?-u:\b)(?:verification|verify|activation|activate|unfreeze|unfreezing|unfrozen|unlock|unlocking|unblock|release|clearance|aml|anti[\s-]*money[\s-]*laundering|tax|insurance|guarantee|security|margin|compliance|reactivation|validation|audit|upgrade)\s+(?:fee|fees|deposit|deposits|payment|charge|charges|bond)(?-u:\b)",
                r"(?-u:\b)(?:pay|deposit|transfer|send|top\s*up)\w*(?-u:\b)[^.;]{0,60}?(?-u:\b)(?:to|so\s+(?:we|i|that\s+we)\s+can|in\s+order\s+to|before\s+(?:we|i)\s+can|and\s+(?:we|i)\s+will|then\s+(?:we|i)\s+will|for)\s+(?:\w+\s+){0,3}(?:verify|unfreeze|unlock|unblock|release|activate|reactivate|restore|validate|prove|confirm\s+(?:your\s+)?(?:identity|ownership|wallet))",
                r"(?-u:\b)(?:to|before\s+we\s+can|in\s+order\s+to)\s+(?:unfreeze|unlock|unblock|release|activate|reactivate)[^.;]{0,60}?(?-u:\b)(?:pay|deposit|transfer|send|top\s*up)(?-u:\b)",
                r"(?-u:\b)(?:pay|deposit|transfer|send)\s+(?:a|an|the)?\s*(?:small\s+|refundable\s+|one[\s-]*time\s+)?(?:fee|deposit|amount|sum)\s+(?:of|first|to)(?-u:\b)",
                r"(?-u:\b)(?:pay|deposit|transfer|send)\w*(?-u:\b)[^.;]{0,40}?(?-u:\b)(?:tax|taxes|fee|fees|deposit|charge|penalty)(?-u:\b)[^.;]{0,40}?(?-u:\b)(?:released|unfrozen|unlocked|unblocked|activated|restored|go\s+through|processed)(?-u:\b)",
                r"(?-u:\b)(?:safe|safety|protected|insured|escrow|quarantine|isolation|holding)\s+(?:account|wallet|vault)s?(?-u:\b)|(?-u:\b)(?:a|an|the|our|my|this|new)\s+(?:new\s+)?secure\s+(?:account|wallet|vault)(?-u:\b)",
                r"保证金[^。；.;]{0,40}?(?-u:\b)(?:pay|transfer|send|deposit)(?-u:\b)|保证金[^，。；]{0,12}?(?:缴|交纳|支付|付款|补交)",
                // Chinese.
                r"安全账户|安全账号|安全钱包|安全地址|保险账户|保险箱账户|监管账户|托管账户|验证账户|核验账户|备用账户|临时账户|隔离账户|审计账户|指定账户|指定钱包|指定地址|专用账户|专用钱包|对公账户|公司账户|官方账户|冻结账户",
                r"(?:转|转账|转移|转入|转到|转至|打|汇|充值|充|存|提|划转|提币)[^，。；]{0,20}?(?:新|另一个|另外的|其他|以下|下面|这个|我的|我们的|客服的|这个)的?(?:账户|账号|钱包|地址)",
                r"解冻费|解冻金|解封费|激活费|激活金|验证费|认证费|审核费|通道费|升级费|保释金|风险金|税费|个税|验资|验证金|验证资金|充值验证|刷流水|流水费|押金|保证金[^，。；]{0,12}?(?:解冻|解封|激活|提现|出金|恢复|解锁)|(?:缴纳|交纳|支付|补交|补缴|先交|交一笔|缴|付|转|充)[^，。；]{0,8}?保证金|(?:解冻|解封|激活|解锁|恢复)[^。；]{0,16}?(?:缴纳|交纳|支付|付|补交|补缴|转账|转入|充值|充)|(?:缴纳|交纳|支付|付|补交|补缴|转账|转入|充值)[^。；]{0,16}?(?:才能|即可|就能|方可|后)[^。；]{0,6}?(?:解冻|解封|激活|解锁|恢复|提现|出金)|手续费[^，。；]{0,10}?(?:解冻|解封|激活|解锁)",
                r"(?:转|转账|打款|汇款|充值|转入|转到)[^，。；]{0,10}?(?:验证|核验|证明)(?:资金|身份|所有权|钱包)",
            ]
            .iter()
            .map(|p| re(p))
            .collect()
        });
        for rule in RULES.iter() {
            for m in rule.find_iter(self.text) {
                let hit = m.as_str();
                // "move your funds to a new wallet you created yourself" is
                // what we tell users whose seed leaked.
                static OWN: LazyLock<Regex> = LazyLock::new(|| {
                    re(
                        r"(?-u:\b)(?:yourself|you\s+(?:just\s+)?(?:created|create|made|control|own)|your\s+own|only\s+you)(?-u:\b)|您自己|你自己|自己创建|自己的新钱包|您本人",
                    )
                });
                if (hit.contains("new")
                    || hit.contains("新")
                    || hit.contains("another")
                    || hit.contains("different"))
                    && OWN.is_match(self.text)
                {
                    continue;
                }
                if self.negated(m.start(), m.end()) {
                    continue;
                }
                return Some(format!("\"{}\"", clip(hit.trim(), 60)));
            }
        }
        None
    }

    fn off_platform(&self, policy: &AgentReplyPolicy<'_>) -> Option<String> {
        let _ = policy;
        static PLATFORM: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?-u:\b)(?:wechat|we\s+chat|weixin|vx|wx|qq|whatsapp|whats\s+app|wa\.me|viber|skype|kakao\w*|line\s+(?:app|id)|signal\s+(?:app|messenger)|discord|snapchat|messenger|imo|zalo)(?-u:\b)|微信|威信|薇信|维信|v信|vx|微x|扣扣|qq|企鹅号|whatsapp|电报|纸飞机|飞机号|飞机群|tg号|line号|推特私信|钉钉",
            )
        });
        static CONTACT: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?-u:\b)(?:add|contact|message|msg|reach|call|text|dm|pm|chat|talk|ping|find|search|join|write|switch|move|continue|go|follow|scan|my|our|id|number|account|handle|group|username|user\s*name|on|via|through|at)(?-u:\b)|加|添加|联系|私聊|私信|找|搜|号|群|扫码|二维码|转到|转移到|继续|沟通|详聊|细聊|对接|上|用",
            )
        });
        static PAY_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?-u:\b)(?:pay|payment|payments|wallet\s+balance|p2p|c2c|merchant|seller|buyer|method)(?-u:\b)|支付|付款|收款|转账方式|买家|卖家|商家|收款方式|付款方式",
            )
        });
        for m in PLATFORM.find_iter(self.text) {
            let (cs, ce) = self.clause_of(m.start());
            let clause = &self.text[cs..ce];
            if PAY_TOPIC.is_match(clause) && !TO_US.is_match(clause) {
                continue;
            }
            if !CONTACT.is_match(clause) {
                continue;
            }
            if self.negated(m.start(), m.end()) {
                continue;
            }
            return Some(format!("\"{}\"", m.as_str().trim()));
        }
        // "add me", "私聊我", "contact me directly".
        static DIRECT: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?-u:\b)(?:add\s+me|dm\s+me|pm\s+me|message\s+me\s+(?:directly|privately|personally|on|at)|contact\s+me\s+(?:directly|privately|personally|on|at)|text\s+me|call\s+me|reach\s+me\s+(?:on|at|directly)|my\s+(?:personal|private)\s+(?:number|account|email|handle|telegram|line|phone|contact)|outside\s+(?:this|the)\s+(?:chat|bot|platform))(?-u:\b)|加我|私聊我|私信我|加一下我|加个好友|加好友|我的私人|我个人的|私下(?:联系|沟通|聊|处理|交易)|打我电话|给我打电话|拨打我",
            )
        });
        if let Some(m) = DIRECT.find(self.text) {
            if !self.negated(m.start(), m.end()) {
                return Some(format!("\"{}\"", m.as_str().trim()));
            }
        }
        None
    }

    fn remote_access(&self) -> Option<String> {
        static TOOL: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?-u:\b)(?:any\s*desk|team\s*viewer|to\s*desk|rust\s*desk|quick\s*assist|chrome\s+remote\s+desktop|ultra\s*viewer|supremo|splashtop|logmein|screen\s*connect|remote\s*(?:access|desktop|control|assistance|session|support\s+(?:app|tool|software))|screen\s*shar\w*|shar\w*\s+(?:your|the|my)\s+(?:screen|desktop)|share\s+screen)(?-u:\b)|向日葵|todesk|anydesk|共享屏幕|屏幕共享|共享桌面|远程协助|远程控制|远程桌面|远程操作|远程帮|远程处理|远程连接|远程软件|远程工具|投屏|屏幕分享|分享屏幕|腾讯会议[^，。]{0,10}共享",
            )
        });
        static ASKED_ABOUT: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?-u:\b)(?:uninstall|remove|removed|delete|deleted|did\s+you|have\s+you|were\s+you|was\s+there|recently|installed\s+by|someone\s+else)(?-u:\b)|卸载|删除|是否|有没有|最近|之前",
            )
        });
        for m in TOOL.find_iter(self.text) {
            let (cs, ce) = self.clause_of(m.start());
            if ASKED_ABOUT.is_match(&self.text[cs..ce]) {
                continue;
            }
            if self.negated(m.start(), m.end()) {
                continue;
            }
            return Some(format!("\"{}\"", m.as_str().trim()));
        }
        None
    }
}

/// The clause with matches of `rx` blanked out (same length).
fn mask(s: &str, rx: &Regex) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in rx.find_iter(s) {
        out.push_str(&s[last..m.start()]);
        out.extend(std::iter::repeat_n(' ', m.as_str().len()));
        last = m.end();
    }
    out.push_str(&s[last..]);
    out
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

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

fn handle_name(h: &str) -> String {
    h.trim().trim_start_matches('@').to_lowercase()
}

// ------------------------------------------------------------- literals

/// Phone numbers, e-mail addresses and Telegram handles in the reply.
fn literal_contacts(plain: &str, norm: &str, policy: &AgentReplyPolicy<'_>) -> Vec<String> {
    static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?P<before>(?-u:\b)(?:your|ur)\s+(?:\w+\s+)?(?:e-?mail(?:\s+address)?\s+)?(?:is\s+)?|您的[^，。\s]{0,8})?[a-z0-9._%+-]+@(?P<domain>[a-z0-9.-]+\.[a-z]{2,})",
        )
    });
    static HANDLE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?:^|[^a-z0-9._%+*-])@(?P<name>[a-z][a-z0-9_]{3,31})(?-u:\b)"));
    static PHONE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?:^|[^0-9a-z])(?P<num>\+\s?\d{1,3}[\s-]?\(?\d{1,4}\)?(?:[\s-]?\d{2,5}){2,4}|1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|\(\d{3}\)\s?\d{3}-\d{4}|\d{3}-\d{3}-\d{4}|0\d{2,3}-\d{7,8}|400-?\d{3}-?\d{4})(?:$|[^0-9a-z])",
        )
    });
    static PHONE_CUE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?-u:\b)(?:call|phone|tel|telephone|mobile|hotline|whatsapp|ring|dial|text|sms\s+me|number\s+is|reach)(?-u:\b)|电话|手机|致电|拨打|打给|热线|联系|微信|号码",
        )
    });
    static ID_LABEL: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?-u:\b)(?:uid|order|id|txid|ticket|reference|ref|no|number\s+of|amount|usdt|btc|eth|block|height)(?-u:\b)[^a-z]{0,6}$|(?:订单|订单号|工单|uid|编号|单号|金额|区块)[^a-z]{0,6}$",
        )
    });
    let mut out = Vec::new();
    let officials: Vec<String> = policy
        .official_domains
        .iter()
        .map(|d| handle_name(d).trim_start_matches("www.").to_string())
        .collect();
    for c in EMAIL.captures_iter(plain) {
        let Some(domain) = c.name("domain") else {
            continue;
        };
        let domain = domain.as_str().trim_end_matches('.');
        let ours = officials
            .iter()
            .any(|o| domain == o || domain.ends_with(&format!(".{o}")));
        // The user's own address read back to them is fine.
        if ours || c.name("before").is_some() {
            continue;
        }
        out.push(format!("an e-mail address at {domain}"));
        break;
    }
    let staff: Vec<String> = policy
        .staff_handles
        .iter()
        .map(|h| handle_name(h))
        .collect();
    for c in HANDLE.captures_iter(plain) {
        let Some(name) = c.name("name") else { continue };
        if staff.iter().any(|s| s == name.as_str()) {
            continue;
        }
        out.push(format!("the handle @{}", name.as_str()));
        break;
    }
    for c in PHONE.captures_iter(plain) {
        let Some(num) = c.name("num") else { continue };
        let digits = num.as_str().chars().filter(|c| c.is_ascii_digit()).count();
        if digits < 8 {
            continue;
        }
        let lead = &plain[..num.start()];
        let lead_window: String = lead
            .chars()
            .rev()
            .take(16)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if ID_LABEL.is_match(&lead_window) {
            continue;
        }
        if num.as_str().starts_with('+') || PHONE_CUE.is_match(norm) {
            out.push("a phone number".to_string());
            break;
        }
    }
    out
}

/// A crypto address in a reply that also asks to send or deposit.
fn address_to_pay(plain: &str) -> Option<String> {
    static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?:^|[^a-z0-9])(?P<addr>t[1-9a-z]{33}|0x[0-9a-f]{40}|bc1[02-9a-z]{25,62}|[13][1-9a-z]{25,34})(?:$|[^a-z0-9])",
        )
    });
    static PAY: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?-u:\b)(?:send|transfer|deposit|pay|move|wire|remit|top\s*up)(?-u:\b)|转到|转入|转账|转至|转给|打到|打入|汇到|充值|充到|存入|转过去|打款|转移|转",
        )
    });
    static PAST: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?-u:\b)(?:you\s+(?:sent|transferred|deposited|withdrew|used)|was\s+sent|were\s+sent|withdrawal\s+to|your\s+(?:withdrawal|deposit)\s+address|is\s+this\s+your|did\s+you|from\s+the\s+address|on[\s-]?chain|txid|check|confirm\s+(?:the|that)|belongs?\s+to\s+you)(?-u:\b)|您提现到|您充值的|您的提现地址|您转出|您发送到|已转|已提|是否是您|是您的|您的地址|核对",
        )
    });
    for c in ADDRESS.captures_iter(plain) {
        let Some(a) = c.name("addr") else { continue };
        let addr = a.as_str();
        // A run of the same class of letters is no address (bitcoin base58
        // needs digits and letters both).
        if !(addr.chars().any(|c| c.is_ascii_digit())
            && addr.chars().any(|c| c.is_ascii_alphabetic()))
        {
            continue;
        }
        if PAY.is_match(plain) && !PAST.is_match(plain) {
            let shown: String = addr.chars().take(6).collect();
            return Some(format!("the address {shown}…"));
        }
    }
    None
}
