//! The kinds of value an `ask` node can collect, and how each is found in
//! what a user writes ("my order id is 88231907, please check" → `88231907`).
//!
//! A value is *extracted*, not required to be the whole message: anxious
//! users wrap answers in sentences. Values are kept in a canonical form
//! (coins upper-case, networks by their usual name, dates as
//! `YYYY-MM-DD HH:MM`), so branches and agents see one spelling.

use std::sync::LazyLock;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// A built-in kind of value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    OrderId,
    Txid,
    Coin,
    Network,
    Uid,
    Email,
    Address,
    DateTime,
    Amount,
    Text,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::OrderId,
        Kind::Txid,
        Kind::Coin,
        Kind::Network,
        Kind::Uid,
        Kind::Email,
        Kind::Address,
        Kind::DateTime,
        Kind::Amount,
        Kind::Text,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::OrderId => "order_id",
            Kind::Txid => "txid",
            Kind::Coin => "coin",
            Kind::Network => "network",
            Kind::Uid => "uid",
            Kind::Email => "email",
            Kind::Address => "address",
            Kind::DateTime => "datetime",
            Kind::Amount => "amount",
            Kind::Text => "text",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What the guard should treat as expected while this kind is asked
    /// for: a 64-hex string is a TXID here, not a private key.
    pub fn expected(self) -> Option<crate::guard::Expected> {
        use crate::guard::Expected;
        Some(match self {
            Kind::Txid => Expected::TxHash,
            Kind::OrderId => Expected::OrderId,
            Kind::Uid => Expected::Uid,
            Kind::Address => Expected::Address,
            Kind::Amount => Expected::Amount,
            Kind::Email => Expected::Email,
            Kind::Coin | Kind::Network | Kind::DateTime | Kind::Text => return None,
        })
    }
}

/// Longest free-text answer kept.
pub const MAX_TEXT_CHARS: usize = 500;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in pattern")
}

/// 64 hex (EVM, Tron, Bitcoin…), or a base58 signature (Solana, 86–88).
static TXID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:0x)?[0-9a-fA-F]{64}\b|\b[1-9A-HJ-NP-Za-km-z]{86,88}\b"));
static ORDER_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[A-Za-z0-9][A-Za-z0-9-]{5,39}\b"));
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"));
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(?:0x[0-9a-fA-F]{40}|T[1-9A-HJ-NP-Za-km-z]{33}|bc1[02-9ac-hj-np-z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b",
    )
});

/// Coins by symbol, with the names users write instead.
const COINS: &[(&str, &[&str])] = &[
    ("BTC", &["bitcoin", "比特币", "大饼"]),
    ("ETH", &["ether", "ethereum", "以太坊", "以太币", "二饼"]),
    (
        "USDT",
        &["tether", "泰达币", "泰达", "usdt-trc20", "usdt-erc20"],
    ),
    ("USDC", &[]),
    ("BNB", &["币安币"]),
    ("TRX", &["tron", "波场币"]),
    ("SOL", &["solana"]),
    ("XRP", &["ripple", "瑞波币"]),
    ("DOGE", &["dogecoin", "狗狗币"]),
    ("LTC", &["litecoin", "莱特币"]),
    ("ADA", &["cardano"]),
    ("DOT", &["polkadot"]),
    ("POL", &["matic"]),
    ("AVAX", &[]),
    ("TON", &["toncoin"]),
    ("SHIB", &[]),
    ("LINK", &["chainlink"]),
    ("DAI", &[]),
    ("BCH", &[]),
    ("ETC", &[]),
    ("FIL", &[]),
    ("ATOM", &[]),
    ("NEAR", &[]),
    ("APT", &[]),
    ("ARB", &[]),
    ("OP", &[]),
    ("SUI", &[]),
    ("PEPE", &[]),
    ("FDUSD", &[]),
];

/// Networks by their usual name, with the spellings users write. A coin's
/// own chain is named as exchanges list it ("XRP Ledger", "Stellar").
const NETWORKS: &[(&str, &[&str])] = &[
    (
        "ERC20",
        &[
            "erc20",
            "erc-20",
            "erc 20",
            "ethereum",
            "eth",
            "以太坊",
            "以太坊网络",
            "以太网",
        ],
    ),
    (
        "TRC20",
        &[
            "trc20",
            "trc-20",
            "trc 20",
            "tron",
            "trx",
            "波场",
            "波场网络",
        ],
    ),
    (
        "BEP20",
        &[
            "bep20",
            "bep-20",
            "bep 20",
            "bsc",
            "bnb smart chain",
            "币安智能链",
            "币安链",
            "bnb chain",
        ],
    ),
    ("BEP2", &["bep2", "bep-2", "bnb beacon chain"]),
    ("SOL", &["solana", "sol", "spl", "索拉纳"]),
    ("Polygon", &["polygon", "matic", "pol", "马蹄链"]),
    ("Arbitrum", &["arbitrum", "arb", "arbitrum one"]),
    ("Optimism", &["optimism", "op", "op mainnet"]),
    ("Base", &["base"]),
    ("BTC", &["bitcoin", "btc", "比特币网络", "比特币主网"]),
    ("Lightning", &["lightning", "ln", "闪电网络"]),
    ("TON", &["ton", "toncoin", "the open network"]),
    (
        "XRP Ledger",
        &["xrp", "ripple", "xrpl", "xrp ledger", "瑞波"],
    ),
    ("Stellar", &["xlm", "stellar", "恒星链"]),
    ("AVAX-C", &["avalanche", "avax", "avax c-chain", "c-chain"]),
    ("LTC", &["litecoin", "ltc", "莱特币"]),
    ("DOGE", &["dogecoin", "doge", "狗狗币"]),
    ("ADA", &["cardano", "ada"]),
    ("DOT", &["polkadot", "dot"]),
    ("ATOM", &["cosmos", "atom"]),
    ("NEAR", &["near protocol"]),
    ("APT", &["aptos", "apt"]),
    ("SUI", &["sui"]),
    ("BCH", &["bitcoin cash", "bch"]),
    ("ETC", &["ethereum classic", "etc"]),
    ("OMNI", &["omni"]),
];

/// The networks a coin is usually sent on, most common first: what a
/// question about the network suggests once the coin is known.
pub fn networks_for(coin: Option<&str>) -> &'static [&'static str] {
    const DEFAULT: &[&str] = &["TRC20", "ERC20", "BEP20"];
    match coin.map(str::to_uppercase).as_deref() {
        Some("USDT") => &[
            "TRC20", "ERC20", "BEP20", "SOL", "TON", "Polygon", "Arbitrum",
        ],
        Some("USDC") => &[
            "ERC20", "SOL", "BEP20", "Polygon", "Arbitrum", "Base", "Optimism",
        ],
        Some("FDUSD") | Some("DAI") => &["ERC20", "BEP20"],
        Some("BTC") => &["BTC", "Lightning", "BEP20"],
        Some("ETH") => &["ERC20", "Arbitrum", "Optimism", "Base"],
        Some("BNB") => &["BEP20", "BEP2"],
        Some("TRX") => &["TRC20"],
        Some("SOL") => &["SOL"],
        Some("XRP") => &["XRP Ledger"],
        Some("XLM") => &["Stellar"],
        Some("TON") => &["TON"],
        Some("DOGE") => &["DOGE"],
        Some("LTC") => &["LTC"],
        Some("ADA") => &["ADA"],
        Some("DOT") => &["DOT"],
        Some("ATOM") => &["ATOM"],
        Some("NEAR") => &["NEAR"],
        Some("APT") => &["APT"],
        Some("SUI") => &["SUI"],
        Some("BCH") => &["BCH"],
        Some("ETC") => &["ETC"],
        Some("AVAX") => &["AVAX-C"],
        Some("POL") => &["Polygon", "ERC20"],
        Some("ARB") => &["Arbitrum", "ERC20"],
        Some("OP") => &["Optimism"],
        Some("SHIB") | Some("PEPE") | Some("LINK") => &["ERC20", "BEP20"],
        _ => DEFAULT,
    }
}

/// Words that skip an optional question ("none" in its common forms).
/// Latin phrases match whole words; Han phrases anywhere in a short reply.
const SKIP_WORDS: &[&str] = &[
    "skip",
    "don't know",
    "dont know",
    "do not know",
    "no idea",
    "not sure",
    "idk",
    "dunno",
    "no clue",
    "none",
    "no",
    "nope",
    "nah",
    "n/a",
    "na",
    "nothing",
    "not available",
    "no txid",
    "no tx",
    "no hash",
    "no order id",
    "no memo",
    "there isn't one",
    "there is none",
    "there's none",
    "there isn't any",
    "i don't have it",
    "i don't have one",
    "i dont have it",
    "don't have",
    "dont have",
    "do not have",
    "haven't got",
    "not yet",
    "can't find",
    "cant find",
    "跳过",
    "不知道",
    "不清楚",
    "不确定",
    "没有",
    "还没有",
    "无",
    "没",
    "暂无",
    "忘了",
    "不记得",
    "找不到",
    "没找到",
];

/// True if the user declines to answer an optional question: a short reply
/// that is one of the "none" forms ("no", "no txid", "无", "没有txid",
/// "there isn't one").
pub fn is_skip(text: &str) -> bool {
    let text = crate::text::normalize(text);
    let text = text.trim().trim_end_matches(['.', '。', '!', '！', '~']);
    if text.is_empty() {
        return false;
    }
    let han = text.chars().filter(|c| crate::text::is_han(*c)).count();
    let latin: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '/'))
        .filter(|w| !w.is_empty() && !w.chars().any(crate::text::is_han))
        .collect();
    if han > 8 || latin.len() > 6 {
        return false;
    }
    let padded = format!(" {} ", latin.join(" "));
    SKIP_WORDS.iter().any(|w| {
        if w.chars().count() == 1 && w.chars().all(crate::text::is_han) {
            // "无" and "没" alone; inside words they mean something else.
            text == *w
        } else if w.chars().any(crate::text::is_han) {
            text.contains(w)
        } else {
            // normalize drops apostrophes ("don't" → "dont"): so here too.
            padded.contains(&format!(" {} ", crate::text::normalize(w)))
        }
    })
}

/// Finds a value of `kind` in `text`. `now` is the user's local time, for
/// dates like "3 hours ago" or "昨天 10 点".
pub fn extract(kind: Kind, text: &str, now: NaiveDateTime) -> Option<String> {
    let text: String = text.nfkc().collect();
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match kind {
        Kind::Txid => TXID.find(text).map(|m| {
            let found = m.as_str();
            // Hex is case-insensitive; base58 is not.
            if found.len() <= 66 {
                found.to_lowercase()
            } else {
                found.to_string()
            }
        }),
        Kind::OrderId => ORDER_ID
            .find_iter(text)
            .map(|m| m.as_str())
            .find(|token| token.chars().filter(char::is_ascii_digit).count() >= 6)
            .map(str::to_string),
        Kind::Uid => uid(text),
        Kind::Email => EMAIL.find(text).map(|m| m.as_str().to_lowercase()),
        Kind::Address => ADDRESS.find(text).map(|m| m.as_str().to_string()),
        Kind::Coin => coin(text),
        Kind::Network => network(text),
        Kind::Amount => amount(text).map(|a| a.to_string()),
        Kind::DateTime => datetime(text, now).map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
        Kind::Text => Some(text.chars().take(MAX_TEXT_CHARS).collect()),
    }
}

/// A value a message states without being asked for it ("my USDT
/// withdrawal on TRC20, 500u, 昨天晚上…"), so the dialog need not ask. Only
/// what cannot be mistaken for something else: a coin or network named
/// outright (a network by a name that is not also a coin's: "eth" is
/// asked), a TXID, an address, an email, an amount written with its coin
/// or a multiplier ("500u", "3k", "1.5万") or after a label ("amount",
/// "充了"), a UID or order id after its label, a date or time with a word
/// that says so. A bare number is never taken.
pub fn prefill(kind: Kind, text: &str, now: NaiveDateTime) -> Option<String> {
    let text: String = text.nfkc().collect();
    let text = text.trim();
    match kind {
        Kind::Txid | Kind::Address | Kind::Email => extract(kind, text, now),
        Kind::Coin => named_coin(text)
            .or_else(|| amount(text).and_then(|a| a.coin))
            .map(str::to_string),
        Kind::Network => stated_network(text).map(str::to_string),
        Kind::Amount => amount(text)
            .filter(|a| a.coin.is_some() || a.multiplied || a.labelled)
            .map(|a| a.to_string()),
        Kind::Uid => UID_LABEL.captures(text).and_then(|c| uid(&c[1])),
        Kind::OrderId => ORDER_LABEL
            .captures(text)
            .map(|c| c[1].to_string())
            .filter(|id| id.chars().filter(char::is_ascii_digit).count() >= 6),
        Kind::DateTime => {
            let lower = text.to_lowercase();
            let cue = TIME_CUES.iter().any(|w| lower.contains(w)) || TIME_CUE.is_match(&lower);
            if cue {
                extract(kind, text, now)
            } else {
                None
            }
        }
        Kind::Text => None,
    }
}

static UID_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:^|[^a-z])(?:uid|用户\s*id|用户编号|user\s*id|账户\s*id|账号\s*id)\s*(?:is|是|为|号|:|#)?\s*([0-9][0-9 \-]{3,20})",
    )
});
static ORDER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:订单号|订单编号|单号|(?:^|[^a-z])order\s*(?:id|no\.?|number|#)?)\s*(?:is|是|为|:|#)?\s*([A-Za-z0-9][A-Za-z0-9-]{5,39})",
    )
});
/// Words that make a number a time ("3点", "yesterday").
const TIME_CUES: &[&str] = &[
    "ago",
    "前",
    "昨",
    "今天",
    "今早",
    "今晚",
    "刚",
    "yesterday",
    "today",
    "tonight",
    "morning",
    "afternoon",
    "evening",
    "night",
    "last ",
    "just now",
    "周",
    "星期",
    "礼拜",
    "上午",
    "下午",
    "晚上",
    "早上",
    "凌晨",
    "中午",
    "傍晚",
    "半夜",
    "点",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
static TIME_CUE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"[0-9]\s*(?:am|pm)\b|[0-9]:[0-9]{2}|20[0-9]{2}\s*[-/.年]|[0-9]\s*月\s*[0-9]")
});

/// The message is nothing but coin or network names ("USDT", "usdt
/// trc20", "波场"): an answer to some question, never a new subject.
pub fn is_bare_value(text: &str) -> bool {
    let text: String = text.nfkc().collect::<String>().to_lowercase();
    let text = text
        .trim()
        .trim_end_matches(['.', '。', '!', '！', '?', '？']);
    if text.is_empty() {
        return false;
    }
    let known = |word: &str| named_coin(word).is_some() || lookup(NETWORKS, word).is_some();
    if text.chars().any(crate::text::is_han) {
        return known(text) && text.chars().count() <= 6;
    }
    let words = words(text);
    !words.is_empty() && words.len() <= 3 && words.iter().all(|w| known(w))
}

/// Latin words of a message, lower-cased, for whole-word lookups.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn lookup(table: &[(&'static str, &[&str])], text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    let words = words(&lower);
    // Multi-word and Han names first, as substrings.
    for (name, aliases) in table {
        for alias in aliases.iter() {
            let multi = alias.contains(' ') || alias.chars().any(crate::text::is_han);
            if multi && lower.contains(alias) {
                return Some(name);
            }
        }
    }
    for word in &words {
        for (name, aliases) in table {
            if name.to_lowercase() == *word || aliases.contains(&word.as_str()) {
                return Some(name);
            }
        }
    }
    None
}

/// A coin named in `text`. "u" (chat slang for USDT) counts alone, next
/// to Han ("提u") or glued to a number (see [`amount`]), not as the
/// English "u" of "can u help".
fn named_coin(text: &str) -> Option<&'static str> {
    if let Some(symbol) = lookup(COINS, text) {
        return Some(symbol);
    }
    let lower = text.trim().to_lowercase();
    let alone = lower.trim_end_matches(['.', '。', '!', '！', '?', '？']) == "u";
    let by_han = lower.chars().any(crate::text::is_han) && words(&lower).iter().any(|w| w == "u");
    (alone || by_han).then_some("USDT")
}

fn coin(text: &str) -> Option<String> {
    if let Some(symbol) = named_coin(text) {
        return Some(symbol.to_string());
    }
    if let Some(symbol) = amount(text).and_then(|a| a.coin) {
        return Some(symbol.to_string());
    }
    // An unknown symbol typed alone ("PYUSD").
    let words = words(text);
    match words.as_slice() {
        [one] if (2..=10).contains(&one.len()) && one.chars().all(|c| c.is_ascii_alphabetic()) => {
            Some(one.to_uppercase())
        }
        _ => None,
    }
}

fn network(text: &str) -> Option<String> {
    lookup(NETWORKS, text).map(str::to_string)
}

static NAMED_NETWORK: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)([a-z][a-z0-9-]*)\s*(?:network|chain|mainnet|blockchain|网络|链|主网)")
});

/// A network named outright: "trc20", "bsc", "波场", "Ripple network",
/// "sol链". Not "eth", "sol" or "以太坊" alone: those are coins too.
fn stated_network(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    let words = words(&lower);
    const NOT_NETWORK_NAMES: &[&str] = &["bitcoin cash", "ethereum classic", "near protocol"];
    for (name, aliases) in NETWORKS {
        for alias in aliases.iter() {
            let han = alias.chars().any(crate::text::is_han);
            let explicit = if han {
                alias.contains(['链', '网', '场'])
            } else if alias.contains(' ') {
                !NOT_NETWORK_NAMES.contains(alias)
            } else {
                alias.chars().any(|c| c.is_ascii_digit())
                    || matches!(
                        *alias,
                        "bsc"
                            | "arbitrum"
                            | "optimism"
                            | "polygon"
                            | "lightning"
                            | "xrpl"
                            | "c-chain"
                    )
            };
            if !explicit {
                continue;
            }
            let found = if han || alias.contains(' ') {
                lower.contains(alias)
            } else {
                words.iter().any(|w| w == alias)
            };
            if found {
                return Some(name);
            }
        }
    }
    NAMED_NETWORK
        .captures_iter(&lower)
        .find_map(|c| lookup(NETWORKS, &c[1]))
}

/// A UID: 5 to 12 digits, possibly written in groups ("4812 3390 67",
/// "4812-3390-67"). Groups of up to 4 digits are joined; a longer group
/// stands alone, so "12345 500" is the UID 12345.
fn uid(text: &str) -> Option<String> {
    for m in UID_GROUPS.find_iter(text) {
        let groups: Vec<&str> = m.as_str().split([' ', '-']).collect();
        let digits = if groups[0].len() <= 4 {
            let mut digits = String::new();
            for group in &groups {
                if group.len() > 4 {
                    break;
                }
                digits.push_str(group);
            }
            digits
        } else {
            groups[0].to_string()
        };
        if (5..=12).contains(&digits.len()) {
            return Some(digits);
        }
    }
    None
}

static UID_GROUPS: LazyLock<Regex> = LazyLock::new(|| regex(r"[0-9]+(?:[ -][0-9]+)*"));

/// An amount as written, kept exact (no floating point): `units / 10^scale`,
/// with the coin written next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    pub units: u128,
    pub scale: u32,
    pub coin: Option<&'static str>,
    /// Written with 万, 千, k, m…
    pub multiplied: bool,
    /// After a word that says it is an amount ("amount", "充了").
    pub labelled: bool,
}

impl std::fmt::Display for Amount {
    /// `1500.5 USDT`: no thousands separators, no trailing zeros.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut digits = self.units.to_string();
        let scale = self.scale as usize;
        while digits.len() <= scale {
            digits.insert(0, '0');
        }
        let (int, frac) = digits.split_at(digits.len() - scale);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            write!(f, "{int}")?;
        } else {
            write!(f, "{int}.{frac}")?;
        }
        if let Some(coin) = self.coin {
            write!(f, " {coin}")?;
        }
        Ok(())
    }
}

static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9]+(?:[.,][0-9]+)*|[零〇一二两三四五六七八九十百千万萬亿億]{2,}"));
static MULTIPLIER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\s*(万|萬|千|百|亿|億|w|k|m|mn|million|thousand|bn|billion)"));
static AMOUNT_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?:金额|数量|数额|充了|提了|转了|充值了|提现了|amount|sum|sent|deposited|withdrew|withdrawn|transferred)\s*(?:is|of|是|为|:)?\s*(?:about|around|大概|大约|约)?\s*$",
    )
});
/// What may follow a number that is not an amount: a time, a date, a
/// percentage, a count of hours.
static NOT_AMOUNT_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:\s*(?:[:/%点點时時号號日月年分秒天周]|个小时|个月|个星期|小时|minutes?\b|mins?\b|hours?\b|hrs?\b|h\b|days?\b|weeks?\b|am\b|pm\b|ago\b|x)|[0-9a-z])",
    )
});

/// Parses digits as written with either thousands convention: `1,500.50`
/// and `1.500,50` are both 1500.5; `1,500` and `1.500.000` are thousands.
/// One separator followed by other than three digits is a decimal point
/// (`0,5`, `12.75`). `1.500` alone is read as 1.5: on an exchange a dot
/// is the decimal point (quantities like `0.500 BTC` are common), while
/// thousands are written with a comma or without separator.
pub fn parse_digits(written: &str) -> Option<(u128, u32)> {
    let commas = written.matches(',').count();
    let dots = written.matches('.').count();
    let thousands = |sep: char, part: &str| -> Option<String> {
        let groups: Vec<&str> = part.split(sep).collect();
        let ok = (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3);
        ok.then(|| groups.concat())
    };
    let (int, frac) = match (commas, dots) {
        (0, 0) => (written.to_string(), String::new()),
        (_, 0) => match thousands(',', written) {
            Some(int) => (int, String::new()),
            None if commas == 1 => {
                let (i, f) = written.split_once(',')?;
                (i.to_string(), f.to_string())
            }
            None => return None,
        },
        (0, 1) => {
            let (i, f) = written.split_once('.')?;
            (i.to_string(), f.to_string())
        }
        (0, _) => (thousands('.', written)?, String::new()),
        _ => {
            let (decimal, group) = if written.rfind('.') > written.rfind(',') {
                ('.', ',')
            } else {
                (',', '.')
            };
            let (i, f) = written.rsplit_once(decimal)?;
            if i.contains(decimal) {
                return None;
            }
            (thousands(group, i)?, f.to_string())
        }
    };
    if int.is_empty() || int.len() > 30 || frac.len() > 18 {
        return None;
    }
    let units: u128 = format!("{int}{frac}").parse().ok()?;
    Some((units, frac.len() as u32))
}

/// A Chinese numeral: 一万五 (15000: a last digit after a unit counts in
/// the next unit down), 三千二百, 两千, 一亿五千万, 十五, 一万零五.
pub fn chinese_integer(text: &str) -> Option<u128> {
    let value = |c: char| -> Option<u128> {
        Some(match c {
            '零' | '〇' => 0,
            '一' => 1,
            '二' | '两' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '七' => 7,
            '八' => 8,
            '九' => 9,
            _ => return None,
        })
    };
    let (mut total, mut section, mut pending): (u128, u128, Option<u128>) = (0, 0, None);
    let mut last_unit: u128 = 1;
    let mut any = false;
    for c in text.chars() {
        if let Some(v) = value(c) {
            if pending.is_some() && v != 0 {
                return None; // "二三": digit by digit is not a numeral here
            }
            pending = if v == 0 { None } else { Some(v) };
            any = true;
            continue;
        }
        let unit: u128 = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            '万' | '萬' => 10_000,
            '亿' | '億' => 100_000_000,
            _ => return None,
        };
        any = true;
        if unit < 10_000 {
            let d = match pending.take() {
                Some(d) => d,
                None if unit == 10 => 1, // 十五: the 一 goes unsaid
                None => return None,
            };
            section = section.checked_add(d * unit)?;
        } else {
            let part = section.checked_add(pending.take().unwrap_or(0))?;
            if part == 0 && total == 0 {
                return None;
            }
            total = if unit == 100_000_000 {
                total.checked_add(part)?.checked_mul(unit)?
            } else {
                total.checked_add(part.checked_mul(unit)?)?
            };
            section = 0;
        }
        last_unit = unit;
    }
    if !any {
        return None;
    }
    let tail = match pending {
        // 一万五 = 15000, 三千二 = 3200, but 十五 = 15 and 一万零五 = 10005.
        Some(d) if after_unit_digit(text) && last_unit >= 100 => d * (last_unit / 10),
        Some(d) => d,
        None => 0,
    };
    total.checked_add(section)?.checked_add(tail)
}

/// The numeral ends in a digit that directly follows a unit ("一万五").
fn after_unit_digit(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.len() >= 2 && "十百千万萬亿億".contains(chars[chars.len() - 2])
}

/// Finds the amount in `text`: digits with either thousands convention or
/// a Chinese numeral, times 万/千/k/m, with a coin glued or next to it
/// ("2000u", "500 USDT", "0.5btc", "1.5万u"). Numbers that are times,
/// dates or parts of names ("3点", "11/20", "trc20") are passed over; of
/// the rest, one with a coin is preferred, then one with a multiplier.
pub fn amount(text: &str) -> Option<Amount> {
    let lower: String = text.nfkc().collect::<String>().to_lowercase();
    let mut best: Option<(u8, Amount)> = None;
    for m in NUMBER.find_iter(&lower) {
        let before = &lower[..m.start()];
        let after = &lower[m.end()..];
        let han = !m.as_str().starts_with(|c: char| c.is_ascii_digit());
        if !han {
            let prev = before.chars().next_back();
            if prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '/') {
                continue;
            }
            if prev == Some('-')
                && before[..before.len() - 1].ends_with(|c: char| c.is_ascii_alphabetic())
            {
                continue;
            }
        } else if !m
            .as_str()
            .starts_with(|c: char| "一二两三四五六七八九十".contains(c))
        {
            continue;
        }
        let parsed = if han {
            chinese_integer(m.as_str()).map(|n| (n, 0))
        } else {
            parse_digits(m.as_str())
        };
        let Some((mut units, mut scale)) = parsed else {
            continue;
        };
        let mut rest = after;
        let mut multiplied = han
            && m.as_str()
                .contains(['十', '百', '千', '万', '萬', '亿', '億']);
        if let Some(c) = MULTIPLIER.captures(rest) {
            let word = c.get(1).expect("group").as_str();
            let next = &rest[c.get(0).expect("match").end()..];
            let latin = word.is_ascii();
            if !latin || !next.starts_with(|ch: char| ch.is_ascii_alphabetic()) {
                let zeros = match word {
                    "百" => 2,
                    "千" | "k" | "thousand" => 3,
                    "万" | "萬" | "w" => 4,
                    "m" | "mn" | "million" => 6,
                    _ => {
                        if word == "亿" || word == "億" {
                            8
                        } else {
                            9
                        }
                    }
                };
                if scale >= zeros {
                    scale -= zeros;
                } else {
                    units = match units.checked_mul(10u128.pow(zeros - scale)) {
                        Some(u) => u,
                        None => continue,
                    };
                    scale = 0;
                }
                multiplied = true;
                rest = next;
            }
        }
        if !multiplied && NOT_AMOUNT_AFTER.is_match(rest) {
            // A glued coin ("500u", "0.5btc") is still an amount.
            if glued_coin(rest).is_none() {
                continue;
            }
        }
        if units == 0 {
            continue;
        }
        let coin = glued_coin(rest);
        let labelled = AMOUNT_LABEL.is_match(before);
        let amount = Amount {
            units,
            scale,
            coin,
            multiplied,
            labelled,
        };
        let score = u8::from(amount.coin.is_some()) * 4
            + u8::from(amount.labelled) * 2
            + u8::from(amount.multiplied);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, amount));
        }
    }
    best.map(|(_, a)| a)
}

static COIN_AFTER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\s*(?:个|枚)?\s*([a-z][a-z0-9]*(?:-[a-z0-9]+)?)"));

/// The coin written right after an amount: "u", "usdt", "btc", "泰达币".
fn glued_coin(rest: &str) -> Option<&'static str> {
    if let Some(c) = COIN_AFTER.captures(rest) {
        let word = &c[1];
        if word == "u" {
            return Some("USDT");
        }
        return COINS.iter().find_map(|(symbol, aliases)| {
            (symbol.eq_ignore_ascii_case(word) || aliases.contains(&word)).then_some(*symbol)
        });
    }
    let rest = rest.trim_start().trim_start_matches(['个', '枚']);
    COINS.iter().find_map(|(symbol, aliases)| {
        aliases
            .iter()
            .any(|a| a.chars().any(crate::text::is_han) && rest.starts_with(a))
            .then_some(*symbol)
    })
}

static RELATIVE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)([0-9]+(?:\.[0-9]+)?)\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|分钟|个小时|小时|天|周|个星期|星期)\s*(?:ago|前|之前|以前)",
    )
});
static FULL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(20[0-9]{2})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")
});
static SHORT_DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[^0-9])([0-9]{1,2})\s*(?:[-/]|月)\s*([0-9]{1,2})\s*(?:日|号)?"));
static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)([0-9]{1,2})\s*(?::|点|時|时)\s*(?:([0-9]{1,2})\s*分?|半)?\s*(am|pm)?|([0-9]{1,2})\s*(am|pm)",
    )
});
/// A Chinese numeral before a time or date unit ("三点", "两天前").
static HAN_TIME_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"([零〇一二两三四五六七八九十]+)(点|時|时|分钟|分|个小时|小时|天|号|日|月|周|个星期|个月)",
    )
});
static WEEKDAY_ZH: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(上上|上|这|本|下)?个?(?:周|星期|礼拜)([一二三四五六日天1-7])"));
static WEEKDAY_EN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?:\b(last|this|next)\s+)?\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    )
});

/// Parts of the day said without a clock time, recorded as one
/// representative hour so every date keeps the `YYYY-MM-DD HH:MM` form:
/// early morning 03:00, morning 09:00, noon 12:00, afternoon 15:00, dusk
/// 18:00, evening 20:00, late night 23:00. More specific words first.
const PARTS_OF_DAY: &[(&[&str], u32)] = &[
    (&["凌晨", "early morning", "before dawn"], 3),
    (&["半夜", "深夜", "late night", "late at night"], 23),
    (&["早上", "早晨", "上午", "今早", "清晨", "morning"], 9),
    (&["中午", "noon", "lunchtime"], 12),
    (&["下午", "afternoon"], 15),
    (&["傍晚", "dusk"], 18),
    (
        &[
            "晚上", "昨晚", "今晚", "夜里", "tonight", "evening", "night",
        ],
        20,
    ),
];

fn part_of_day(lower: &str) -> Option<u32> {
    PARTS_OF_DAY
        .iter()
        .find(|(words, _)| words.iter().any(|w| lower.contains(w)))
        .map(|(_, hour)| *hour)
}

/// Parses the dates and times users write: `2026-11-20 14:30`, `11/20`,
/// `11月20日 下午3点`, `14:30` (today), `yesterday 9pm`, `昨天晚上8点`,
/// `前天下午三点`, `上周五`, `last friday`, `around 3am`, `this morning`,
/// `3 hours ago`, `30分钟前`, `两天前`, `just now`. A part of the day
/// alone takes its representative hour ([`PARTS_OF_DAY`]). 上周五 is the
/// Friday of the previous week (weeks start on Monday); "last friday" the
/// latest Friday before today. Times in the future are refused.
pub fn datetime(text: &str, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let lower = text.nfkc().collect::<String>().to_lowercase();
    let lower = HAN_TIME_NUMBER
        .replace_all(&lower, |c: &regex::Captures<'_>| {
            match chinese_integer(&c[1]).or_else(|| {
                // "十" alone, "零"
                match &c[1] {
                    "十" => Some(10),
                    "零" | "〇" => Some(0),
                    _ => None,
                }
            }) {
                Some(n) => format!("{n}{}", &c[2]),
                None => c[0].to_string(),
            }
        })
        .into_owned();
    if ["just now", "刚刚", "刚才", "right now"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Some(now);
    }
    if let Some(c) = RELATIVE.captures(&lower) {
        let amount: f64 = c[1].parse().ok()?;
        let minutes = match &c[2] {
            u if u.starts_with('m') || u == "分钟" => amount,
            u if u.starts_with('h') || u.contains("小时") => amount * 60.0,
            u if u.starts_with('w') || u.contains('周') || u.contains("星期") => {
                amount * 7.0 * 24.0 * 60.0
            }
            _ => amount * 24.0 * 60.0,
        };
        if !(0.0..=60.0 * 24.0 * 3660.0).contains(&minutes) {
            return None;
        }
        return Some(now - Duration::minutes(minutes.round() as i64));
    }

    let today = now.date();
    let mut date = None;
    let mut rest = lower.clone();
    if let Some(c) = FULL_DATE.captures(&lower) {
        date = NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
        date?;
        rest = lower.replacen(&c[0], " ", 1);
    } else if let Some(c) = SHORT_DATE.captures(&lower) {
        let (month, day): (u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?);
        let mut candidate = NaiveDate::from_ymd_opt(today.year(), month, day);
        if let Some(d) = candidate {
            if d > today {
                candidate = NaiveDate::from_ymd_opt(d.year() - 1, month, day);
            }
        }
        if candidate.is_some() {
            date = candidate;
            rest = lower.replacen(&c[0], " ", 1);
        }
    }
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let latest = |weekday: u32, strictly_before: bool| {
        let back = (7 + today.weekday().num_days_from_monday() - weekday) % 7;
        let back = if back == 0 && strictly_before {
            7
        } else {
            back
        };
        today - Duration::days(i64::from(back))
    };
    if date.is_none() {
        if let Some(c) = WEEKDAY_ZH.captures(&lower) {
            let weekday = match &c[2] {
                "一" | "1" => 0,
                "二" | "2" => 1,
                "三" | "3" => 2,
                "四" | "4" => 3,
                "五" | "5" => 4,
                "六" | "6" => 5,
                _ => 6,
            };
            date = Some(match c.get(1).map(|m| m.as_str()) {
                Some("上上") => monday - Duration::days(14 - weekday),
                Some("上") => monday - Duration::days(7 - weekday),
                Some("这") | Some("本") | Some("下") => {
                    monday + Duration::days(weekday + if &c[1] == "下" { 7 } else { 0 })
                }
                _ => latest(weekday as u32, false),
            });
            rest = lower.replacen(&c[0], " ", 1);
        } else if let Some(c) = WEEKDAY_EN.captures(&lower) {
            let weekday = [
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            ]
            .iter()
            .position(|d| *d == &c[2])? as u32;
            date = Some(match c.get(1).map(|m| m.as_str()) {
                Some("last") => latest(weekday, true),
                Some("this") => monday + Duration::days(i64::from(weekday)),
                Some(_) => monday + Duration::days(7 + i64::from(weekday)),
                None => latest(weekday, false),
            });
            rest = lower.replacen(&c[0], " ", 1);
        }
    }
    let day_word = if ["大前天"].iter().any(|w| lower.contains(w)) {
        Some(3)
    } else if ["day before yesterday", "前天"]
        .iter()
        .any(|w| lower.contains(w))
    {
        Some(2)
    } else if ["yesterday", "昨天", "昨晚", "昨日", "昨儿", "last night"]
        .iter()
        .any(|w| lower.contains(w))
    {
        Some(1)
    } else if [
        "today",
        "今天",
        "今日",
        "今早",
        "今晚",
        "this morning",
        "this afternoon",
        "this evening",
        "tonight",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        Some(0)
    } else {
        None
    };
    if date.is_none() {
        date = day_word.map(|days| today - Duration::days(days));
    }

    let part = part_of_day(&lower);
    let time = CLOCK.captures(&rest).and_then(|c| {
        let (hour, minute, meridiem) = match c.get(1) {
            Some(h) => {
                let minute = match c.get(2) {
                    Some(m) => m.as_str().parse().ok()?,
                    None if c[0].contains('半') => 30,
                    None => 0,
                };
                (h.as_str().parse::<u32>().ok()?, minute, c.get(3))
            }
            None => (c[4].parse::<u32>().ok()?, 0, c.get(5)),
        };
        let afternoon = meridiem.is_some_and(|m| m.as_str() == "pm")
            || (meridiem.is_none() && matches!(part, Some(15 | 18 | 20 | 23)))
            || (meridiem.is_none() && part == Some(12) && hour < 6);
        let hour = if afternoon && hour < 12 {
            hour + 12
        } else if meridiem.is_some_and(|m| m.as_str() == "am") && hour == 12 {
            0
        } else {
            hour
        };
        NaiveTime::from_hms_opt(hour, minute, 0)
    });
    let part_time = part.and_then(|hour| NaiveTime::from_hms_opt(hour, 0, 0));

    let at = match (date, time.or(part_time)) {
        (Some(d), Some(t)) => {
            let at = d.and_time(t);
            // "this morning" said at 08:30: as late as now, not later.
            if time.is_none() && at > now && d == today {
                now
            } else {
                at
            }
        }
        (Some(d), None) => d.and_time(NaiveTime::MIN),
        (None, Some(t)) => {
            let at_today = today.and_time(t);
            // "23:10" typed at 01:00 means last night.
            if at_today > now + Duration::minutes(10) {
                at_today - Duration::days(1)
            } else {
                at_today
            }
        }
        (None, None) => return None,
    };
    (at <= now + Duration::minutes(10)).then_some(at)
}

use chrono::Datelike;

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap()
    }

    fn get(kind: Kind, text: &str) -> Option<String> {
        extract(kind, text, now())
    }

    #[test]
    fn coin_and_network_names_alone_are_bare_values() {
        for text in ["USDT", "usdt trc20", "ETH.", "波场", "BTC?"] {
            assert!(is_bare_value(text), "{text}");
        }
        for text in [
            "",
            "my usdt order failed",
            "usdt withdrawal",
            "提现",
            "123456",
        ] {
            assert!(!is_bare_value(text), "{text}");
        }
    }

    #[test]
    fn finds_values_inside_sentences() {
        let hash = "ab".repeat(32);
        assert_eq!(
            get(Kind::Txid, &format!("txid is 0x{hash} thanks")),
            Some(format!("0x{hash}"))
        );
        assert_eq!(get(Kind::Txid, &hash.to_uppercase()), Some(hash.clone()));
        assert_eq!(get(Kind::Txid, "abc123"), None);
        let solana = "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW";
        assert_eq!(
            get(Kind::Txid, &format!("sig {solana}")),
            Some(solana.to_string())
        );
        assert_eq!(
            get(Kind::OrderId, "订单号 88231907，麻烦查一下"),
            Some("88231907".into())
        );
        assert_eq!(
            get(Kind::OrderId, "order W2026-11223344"),
            Some("W2026-11223344".into())
        );
        assert_eq!(get(Kind::OrderId, "no idea"), None);
        assert_eq!(
            get(Kind::Uid, "我的UID是 20391844"),
            Some("20391844".into())
        );
        assert_eq!(get(Kind::Uid, "uid 12"), None);
        assert_eq!(
            get(Kind::Email, "mail: Ann.Lee@Example.com"),
            Some("ann.lee@example.com".into())
        );
        assert_eq!(get(Kind::Email, "ann at example"), None);
        assert_eq!(
            get(
                Kind::Address,
                "to TQ2gMv3jTMMnT1xAYvZfsPFrBgHsKtbUWd please"
            ),
            Some("TQ2gMv3jTMMnT1xAYvZfsPFrBgHsKtbUWd".into())
        );
        assert_eq!(get(Kind::Text, "  "), None);
        assert_eq!(
            get(Kind::Text, &"x".repeat(2000)).unwrap().len(),
            MAX_TEXT_CHARS
        );
    }

    #[test]
    fn coins_and_networks_have_one_spelling() {
        assert_eq!(get(Kind::Coin, "usdt"), Some("USDT".into()));
        assert_eq!(get(Kind::Coin, "提的是泰达币"), Some("USDT".into()));
        assert_eq!(get(Kind::Coin, "I sent some Bitcoin"), Some("BTC".into()));
        assert_eq!(get(Kind::Coin, "PYUSD"), Some("PYUSD".into()));
        assert_eq!(get(Kind::Coin, "I don't remember at all"), None);
        assert_eq!(get(Kind::Network, "trc-20"), Some("TRC20".into()));
        assert_eq!(get(Kind::Network, "走的波场"), Some("TRC20".into()));
        assert_eq!(get(Kind::Network, "BSC I think"), Some("BEP20".into()));
        assert_eq!(get(Kind::Network, "ERC 20"), Some("ERC20".into()));
        assert_eq!(get(Kind::Network, "the red one"), None);
    }

    #[test]
    fn amounts_keep_their_coin() {
        assert_eq!(
            get(Kind::Amount, "1,250.5 usdt"),
            Some("1250.5 USDT".into())
        );
        assert_eq!(get(Kind::Amount, "提了 300"), Some("300".into()));
        assert_eq!(get(Kind::Amount, "500u"), Some("500 USDT".into()));
        assert_eq!(get(Kind::Amount, "0"), None);
        assert_eq!(get(Kind::Amount, "lots"), None);
    }

    /// The inputs the issue recorded wrongly, and their neighbours.
    #[test]
    fn amounts_as_people_write_them() {
        let a = |t: &str| get(Kind::Amount, t);
        assert_eq!(a("大概1.5万"), Some("15000".into()));
        assert_eq!(a("about 3k"), Some("3000".into()));
        assert_eq!(a("1.500,50"), Some("1500.5".into()));
        assert_eq!(a("1,500.50"), Some("1500.5".into()));
        assert_eq!(a("2000u"), Some("2000 USDT".into()));
        assert_eq!(a("500USDT"), Some("500 USDT".into()));
        assert_eq!(a("0.5btc"), Some("0.5 BTC".into()));
        assert_eq!(a("1.5万u"), Some("15000 USDT".into()));
        assert_eq!(a("一万五"), Some("15000".into()));
        assert_eq!(a("三千二百"), Some("3200".into()));
        assert_eq!(a("两千"), Some("2000".into()));
        assert_eq!(a("大概两千个泰达币"), Some("2000 USDT".into()));
        assert_eq!(a("2.5m"), Some("2500000".into()));
        assert_eq!(a("1w"), Some("10000".into()));
        // One dot is a decimal point; several are thousands.
        assert_eq!(a("1.500"), Some("1.5".into()));
        assert_eq!(a("1.500.000"), Some("1500000".into()));
        assert_eq!(a("1,500"), Some("1500".into()));
        assert_eq!(a("0,5 eth"), Some("0.5 ETH".into()));
        assert_eq!(a("1,2,3"), None);
        // Times, dates and names are not amounts; the amount is.
        assert_eq!(a("昨天晚上8点 转了 500u"), Some("500 USDT".into()));
        assert_eq!(a("trc20"), None);
        assert_eq!(a("waited 30 minutes"), None);
        assert_eq!(a("11/20"), None);
        assert_eq!(a("三点"), None);
        assert_eq!(a("一直没到"), None);
    }

    #[test]
    fn chinese_numerals() {
        for (text, value) in [
            ("一万五", 15_000),
            ("三千二百", 3_200),
            ("三千二", 3_200),
            ("两千", 2_000),
            ("十五", 15),
            ("二十", 20),
            ("一百零五", 105),
            ("一万零五", 10_005),
            ("一亿五千万", 150_000_000),
            ("两百五", 250),
        ] {
            assert_eq!(chinese_integer(text), Some(value), "{text}");
        }
        assert_eq!(chinese_integer("二三"), None);
        assert_eq!(chinese_integer("万"), None);
    }

    #[test]
    fn coins_glued_and_networks_of_their_own() {
        assert_eq!(get(Kind::Coin, "2000u"), Some("USDT".into()));
        assert_eq!(get(Kind::Coin, "500USDT"), Some("USDT".into()));
        assert_eq!(get(Kind::Coin, "0.5btc"), Some("BTC".into()));
        assert_eq!(get(Kind::Coin, "usdt trc20"), Some("USDT".into()));
        assert_eq!(get(Kind::Network, "usdt trc20"), Some("TRC20".into()));
        assert_eq!(get(Kind::Coin, "XRP, Ripple network"), Some("XRP".into()));
        assert_eq!(
            get(Kind::Network, "XRP, Ripple network"),
            Some("XRP Ledger".into())
        );
        assert_eq!(get(Kind::Network, "xlm"), Some("Stellar".into()));
        assert_eq!(get(Kind::Network, "TON"), Some("TON".into()));
        assert_eq!(get(Kind::Network, "arbitrum one"), Some("Arbitrum".into()));
        assert_eq!(get(Kind::Network, "base"), Some("Base".into()));
        assert_eq!(get(Kind::Network, "polygon"), Some("Polygon".into()));
        assert_eq!(get(Kind::Network, "op mainnet"), Some("Optimism".into()));
        assert_eq!(networks_for(Some("XRP")), ["XRP Ledger"]);
        assert_eq!(
            networks_for(Some("USDT"))[..4],
            ["TRC20", "ERC20", "BEP20", "SOL"]
        );
        assert_eq!(networks_for(None), ["TRC20", "ERC20", "BEP20"]);
        // "u" is USDT alone or beside Han, not the English "u".
        assert_eq!(get(Kind::Coin, "u"), Some("USDT".into()));
        assert_eq!(
            prefill(Kind::Coin, "提u一直没到", now()),
            Some("USDT".into())
        );
        assert_eq!(prefill(Kind::Coin, "can u check my deposit", now()), None);
    }

    #[test]
    fn uids_written_in_groups() {
        assert_eq!(
            get(Kind::Uid, "我的uid是 4812 3390 67"),
            Some("4812339067".into())
        );
        assert_eq!(get(Kind::Uid, "4812-3390-67"), Some("4812339067".into()));
        assert_eq!(get(Kind::Uid, "12345 500"), Some("12345".into()));
        assert_eq!(
            prefill(Kind::Uid, "我的uid是 4812 3390 67", now()),
            Some("4812339067".into())
        );
        assert_eq!(prefill(Kind::Uid, "I sent 48123390 yesterday", now()), None);
    }

    #[test]
    fn dates_relative_and_absolute() {
        let d = |t: &str| get(Kind::DateTime, t);
        assert_eq!(d("2026-11-20 14:30"), Some("2026-11-20 14:30".into()));
        assert_eq!(d("2026年11月20日"), Some("2026-11-20 00:00".into()));
        assert_eq!(d("11/20 9pm"), Some("2026-11-20 21:00".into()));
        assert_eq!(d("11月21日 下午3点"), Some("2026-11-21 15:00".into()));
        assert_eq!(d("3 hours ago"), Some("2026-11-22 12:00".into()));
        assert_eq!(d("30分钟前"), Some("2026-11-22 14:30".into()));
        assert_eq!(d("昨天晚上8点半"), Some("2026-11-21 20:30".into()));
        assert_eq!(d("yesterday 10:15"), Some("2026-11-21 10:15".into()));
        assert_eq!(d("14:05"), Some("2026-11-22 14:05".into()));
        assert_eq!(d("23:10"), Some("2026-11-21 23:10".into()));
        assert_eq!(d("12/25"), Some("2025-12-25 00:00".into()));
        assert_eq!(d("2027-01-01"), None, "the future is refused");
        assert_eq!(d("2026-13-40"), None);
        assert_eq!(d("a while back"), None);
        assert_eq!(d("just now"), Some("2026-11-22 15:00".into()));
    }

    /// `now()` is Sunday 2026-11-22 15:00.
    #[test]
    fn dates_by_day_and_part_of_day() {
        let d = |t: &str| get(Kind::DateTime, t);
        assert_eq!(d("前天下午三点"), Some("2026-11-20 15:00".into()));
        assert_eq!(d("昨天晚上"), Some("2026-11-21 20:00".into()));
        assert_eq!(d("上周五"), Some("2026-11-13 00:00".into()));
        assert_eq!(d("上周五下午两点半"), Some("2026-11-13 14:30".into()));
        assert_eq!(d("周五"), Some("2026-11-20 00:00".into()));
        assert_eq!(d("last friday"), Some("2026-11-20 00:00".into()));
        assert_eq!(d("last sunday"), Some("2026-11-15 00:00".into()));
        assert_eq!(d("around 3am"), Some("2026-11-22 03:00".into()));
        assert_eq!(d("this morning"), Some("2026-11-22 09:00".into()));
        assert_eq!(d("下午三点"), Some("2026-11-22 15:00".into()));
        assert_eq!(d("晚上十点"), Some("2026-11-21 22:00".into()));
        assert_eq!(d("凌晨两点"), Some("2026-11-22 02:00".into()));
        assert_eq!(d("yesterday evening"), Some("2026-11-21 20:00".into()));
        assert_eq!(d("last night"), Some("2026-11-21 20:00".into()));
        assert_eq!(d("两天前"), Some("2026-11-20 15:00".into()));
        assert_eq!(d("2 weeks ago"), Some("2026-11-08 15:00".into()));
        assert_eq!(d("下周五"), None, "the future is refused");
    }

    #[test]
    fn prefills_only_unmistakable_values() {
        let p = |kind, text| prefill(kind, text, now());
        let text = "my usdt withdrawal on trc-20 hasn't arrived";
        assert_eq!(p(Kind::Coin, text), Some("USDT".into()));
        assert_eq!(p(Kind::Network, text), Some("TRC20".into()));
        assert_eq!(p(Kind::Network, "my eth withdrawal is late"), None);
        assert_eq!(p(Kind::OrderId, "withdrew 1000000 usdt"), None);
        assert_eq!(p(Kind::Coin, "提币还没到账"), None);
    }

    #[test]
    fn prefills_every_value_of_one_answer() {
        let p = |kind| prefill(kind, "500u trc20 昨天晚上", now());
        assert_eq!(p(Kind::Amount), Some("500 USDT".into()));
        assert_eq!(p(Kind::Coin), Some("USDT".into()));
        assert_eq!(p(Kind::Network), Some("TRC20".into()));
        assert_eq!(p(Kind::DateTime), Some("2026-11-21 20:00".into()));
        // A bare number is not an amount, a UID or an order id.
        let text = "withdrawal of 48123390 still missing";
        for kind in [Kind::Amount, Kind::Uid, Kind::OrderId, Kind::DateTime] {
            assert_eq!(prefill(kind, text, now()), None, "{kind:?}");
        }
        assert_eq!(
            prefill(Kind::Amount, "I deposited 250 yesterday", now()),
            Some("250".into())
        );
        assert_eq!(
            prefill(Kind::OrderId, "订单号 88231907", now()),
            Some("88231907".into())
        );
        assert_eq!(
            prefill(Kind::Network, "sent it on the Ripple network", now()),
            Some("XRP Ledger".into())
        );
        assert_eq!(prefill(Kind::Network, "以太坊提现没到", now()), None);
    }

    #[test]
    fn skipping() {
        assert!(is_skip("skip"));
        assert!(is_skip("I don't know"));
        assert!(is_skip("不知道"));
        assert!(is_skip("idk"));
        for none in [
            "no",
            "No.",
            "no txid",
            "No, no TXID",
            "无",
            "没有",
            "there isn't one",
            "i don't have it",
            "I don't have one",
            "n/a",
            "N/A",
            "没有txid",
            "还没有",
            "none",
        ] {
            assert!(is_skip(none), "{none}");
        }
        for not_none in [
            "0xabc and I don't know if it's right but here is a long message",
            "无效",
            "没到账",
            "nonce",
            "note",
        ] {
            assert!(!is_skip(not_none), "{not_none}");
        }
    }
}
