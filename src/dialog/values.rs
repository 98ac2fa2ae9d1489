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
static UID: LazyLock<Regex> = LazyLock::new(|| regex(r"(?:^|[^0-9])([0-9]{5,12})(?:$|[^0-9])"));
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"));
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(?:0x[0-9a-fA-F]{40}|T[1-9A-HJ-NP-Za-km-z]{33}|bc1[02-9ac-hj-np-z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b",
    )
});
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?:^|[^0-9.])((?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?)(?:\s*([A-Za-z]{1,10}))?",
    )
});

/// Coins by symbol, with the names users write instead.
const COINS: &[(&str, &[&str])] = &[
    ("BTC", &["bitcoin", "比特币", "大饼"]),
    ("ETH", &["ether", "ethereum", "以太坊", "以太币", "二饼"]),
    (
        "USDT",
        &["tether", "泰达币", "泰达", "u", "usdt-trc20", "usdt-erc20"],
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

/// Networks by their usual name, with the spellings users write.
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
    ("SOL", &["solana", "sol", "spl"]),
    ("Polygon", &["polygon", "matic", "pol"]),
    ("Arbitrum", &["arbitrum", "arb", "arbitrum one"]),
    ("Optimism", &["optimism", "op"]),
    ("Base", &["base"]),
    ("BTC", &["bitcoin", "btc", "比特币网络", "比特币主网"]),
    ("Lightning", &["lightning", "ln", "闪电网络"]),
    ("TON", &["ton"]),
    ("AVAX-C", &["avalanche", "avax", "avax c-chain", "c-chain"]),
    ("OMNI", &["omni"]),
];

/// Words that skip an optional question.
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
    "n/a",
    "i don't have it",
    "跳过",
    "不知道",
    "不清楚",
    "不确定",
    "没有",
    "忘了",
    "不记得",
];

/// True if the user declines to answer an optional question.
pub fn is_skip(text: &str) -> bool {
    let text = crate::text::normalize(text);
    let text = text.trim();
    SKIP_WORDS
        .iter()
        .any(|w| text == *w || text.starts_with(&format!("{w} ")))
        || (text.chars().count() <= 12 && SKIP_WORDS.iter().any(|w| text.contains(w)))
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
        Kind::Uid => UID.captures(text).map(|c| c[1].to_string()),
        Kind::Email => EMAIL.find(text).map(|m| m.as_str().to_lowercase()),
        Kind::Address => ADDRESS.find(text).map(|m| m.as_str().to_string()),
        Kind::Coin => coin(text),
        Kind::Network => network(text),
        Kind::Amount => amount(text),
        Kind::DateTime => datetime(text, now).map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
        Kind::Text => Some(text.chars().take(MAX_TEXT_CHARS).collect()),
    }
}

/// A value stated in the message that started a dialog ("my USDT withdrawal
/// on TRC20 …"), so the dialog need not ask for it. Only kinds that cannot
/// be mistaken for something else: a coin named outright, a network by its
/// own name (not "eth", which is also a coin), a TXID, an address, an
/// email. Numbers (order ids, UIDs, amounts) and dates are always asked.
pub fn prefill(kind: Kind, text: &str, now: NaiveDateTime) -> Option<String> {
    match kind {
        Kind::Txid | Kind::Address | Kind::Email => extract(kind, text, now),
        Kind::Coin => lookup(COINS, &text.nfkc().collect::<String>()).map(str::to_string),
        Kind::Network => {
            let text: String = text.nfkc().collect::<String>().to_lowercase();
            let explicit: &[(&str, &[&str])] = &[
                ("ERC20", &["erc20", "erc-20", "erc 20"]),
                ("TRC20", &["trc20", "trc-20", "trc 20", "波场"]),
                ("BEP20", &["bep20", "bep-20", "bep 20", "bsc", "币安智能链"]),
                ("BEP2", &["bep2", "bep-2"]),
            ];
            lookup(explicit, &text).map(str::to_string)
        }
        _ => None,
    }
}

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
    let known = |word: &str| lookup(COINS, word).is_some() || lookup(NETWORKS, word).is_some();
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

fn coin(text: &str) -> Option<String> {
    if let Some(symbol) = lookup(COINS, text) {
        return Some(symbol.to_string());
    }
    // An unknown symbol typed alone ("PYUSD").
    let words = words(text);
    match words.as_slice() {
        [one] if (2..=10).contains(&one.len()) && one.chars().any(|c| c.is_ascii_alphabetic()) => {
            Some(one.to_uppercase())
        }
        _ => None,
    }
}

fn network(text: &str) -> Option<String> {
    lookup(NETWORKS, text).map(str::to_string)
}

fn amount(text: &str) -> Option<String> {
    let captures = AMOUNT.captures(text)?;
    let number = captures[1].replace(',', "");
    let value: f64 = number.parse().ok()?;
    if value <= 0.0 || !value.is_finite() {
        return None;
    }
    match captures.get(2).and_then(|m| coin(m.as_str())) {
        Some(symbol) => Some(format!("{number} {symbol}")),
        None => Some(number),
    }
}

static RELATIVE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)([0-9]+(?:\.[0-9]+)?)\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|分钟|个小时|小时|天)\s*(?:ago|前|之前|以前)",
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

/// Parses the dates and times users write: `2026-11-20 14:30`, `11/20`,
/// `11月20日 下午3点`, `14:30` (today), `yesterday 9pm`, `昨天晚上8点`,
/// `3 hours ago`, `30分钟前`, `just now`. Times in the future are refused.
pub fn datetime(text: &str, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let lower = text.to_lowercase();
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
            _ => amount * 24.0 * 60.0,
        };
        if !(0.0..=60.0 * 24.0 * 3660.0).contains(&minutes) {
            return None;
        }
        return Some(now - Duration::minutes(minutes.round() as i64));
    }

    let mut date = None;
    let mut rest = lower.clone();
    if let Some(c) = FULL_DATE.captures(&lower) {
        date = NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
        date?;
        rest = lower.replacen(&c[0], " ", 1);
    } else if let Some(c) = SHORT_DATE.captures(&lower) {
        let (month, day): (u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?);
        let mut candidate = NaiveDate::from_ymd_opt(now.date().year_ce().1 as i32, month, day);
        if let Some(d) = candidate {
            if d > now.date() {
                candidate = NaiveDate::from_ymd_opt(d.year_ce().1 as i32 - 1, month, day);
            }
        }
        if candidate.is_some() {
            date = candidate;
            rest = lower.replacen(&c[0], " ", 1);
        }
    }
    let day_word = if ["day before yesterday", "前天"]
        .iter()
        .any(|w| lower.contains(w))
    {
        Some(2)
    } else if ["yesterday", "昨天", "昨晚", "昨日"]
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
        date = day_word.map(|days| now.date() - Duration::days(days));
    }

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
            || ["下午", "晚上", "晚", "傍晚", "tonight", "evening"]
                .iter()
                .any(|w| lower.contains(w));
        let hour = if afternoon && hour < 12 {
            hour + 12
        } else if meridiem.is_some_and(|m| m.as_str() == "am") && hour == 12 {
            0
        } else {
            hour
        };
        NaiveTime::from_hms_opt(hour, minute, 0)
    });

    let at = match (date, time) {
        (Some(d), Some(t)) => d.and_time(t),
        (Some(d), None) => d.and_time(NaiveTime::MIN),
        (None, Some(t)) => {
            let today = now.date().and_time(t);
            // "23:10" typed at 01:00 means last night.
            if today > now + Duration::minutes(10) {
                today - Duration::days(1)
            } else {
                today
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
    fn skipping() {
        assert!(is_skip("skip"));
        assert!(is_skip("I don't know"));
        assert!(is_skip("不知道"));
        assert!(is_skip("idk"));
        assert!(!is_skip(
            "0xabc and I don't know if it's right but here is a long message"
        ));
    }
}
