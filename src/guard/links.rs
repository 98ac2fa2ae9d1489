//! Link checks: which links in a text leave the official domains, and which
//! of those imitate an official domain (the phishing ones).
//!
//! Phishing sites that target exchange users rarely use random names; they
//! imitate the real one: `blnance.com` (digit/letter swap), `bіnance.com`
//! with a Cyrillic `і` (often shown as punycode `xn--…`), `binance-support.com`
//! (extra words), `binance.com.evil.io` (the real name as a subdomain),
//! `binance.co` (wrong TLD) or a one-letter typo. Telling the user *which*
//! official domain a link imitates makes the warning believable.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::text::Prepared;
use crate::lang::Lang;

/// A link that is not on an official domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LinkWarning {
    /// The link as found (full-width characters folded to ASCII).
    pub url: String,
    /// Its host, lowercased, as written (punycode stays punycode).
    pub domain: String,
    pub reason: LinkReason,
}

/// Why a link is flagged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkReason {
    /// Simply not one of ours.
    NotOfficial,
    /// Built to be mistaken for `official`.
    LookAlike { official: String },
}

/// Host label characters: the scripts used in look-alike domains. Han is
/// excluded on purpose so `请访问binance.com查询` yields `binance.com`.
const HC: &str = r"[\p{Latin}\p{Greek}\p{Cyrillic}\p{Armenian}\p{Cherokee}0-9\p{M}]";

/// TLDs accepted for *bare* domains (no scheme, no `www.`). A closed list
/// keeps `file.txt`, `v1.2` and `Thanks.So` from being read as links; with a
/// scheme or `www.` any TLD is accepted.
const BARE_TLDS: &str = "com|net|org|io|co|xyz|info|top|app|vip|cc|pro|online|site|live|link|club|tk|ml|ga|cf|gq|ru|cn|hk|sg|uk|de|fr|jp|kr|biz|exchange|finance|trade|one|ai|dev|support|help|services|world|today|shop|store|tech|cloud|page|network|money|cash|capital|global|group|ltd|asia|tw|vn|au|ca|eu|ch|nl|pl|tr|ua|br|ws|pw|gg|ly|icu|cyou|buzz|space|website|digital|wallet|bet|click|zone|center|email|su|cx|sbs|lol|bond|xn--[a-z0-9-]+";

static URL: LazyLock<Regex> = LazyLock::new(|| {
    let label = format!("{HC}(?:[{inner}-]{{0,62}})?", inner = &HC[1..HC.len() - 1]);
    let host = format!("(?:{label}\\.)+{label}");
    let path = r#"(?:[/?#][^\s<>"'`{}|\\^，。、；！？）】」\p{Han}]*)?"#;
    let pat = format!(
        r#"(?i)(?:(?:https?|hxxps?|ftp)://[^\s<>"'`{{}}|\\^，。、；！？）】」\p{{Han}}]+|(?-u:\b)www\.{host}(?::\d{{1,5}})?{path}|(?-u:\b)t\.me/[A-Za-z0-9_/+-]+|(?:{label}\.)+(?:{BARE_TLDS})(?-u:\b)(?::\d{{1,5}})?{path})"#
    );
    Regex::new(&pat).expect("guard: invalid built-in URL regex")
});

/// Finds links in `text` that are not on `official_domains` (or their
/// subdomains). Domains written in e-mail addresses are only reported when
/// they imitate an official domain — a user's own `@gmail.com` is fine.
pub fn check_links(text: &str, official_domains: &[String]) -> Vec<LinkWarning> {
    let p = Prepared::new(text);
    let officials: Vec<String> = official_domains
        .iter()
        .map(|d| normalize_official(d))
        .filter(|d| !d.is_empty())
        .collect();
    let mut out: Vec<LinkWarning> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for m in candidate_chunks(&p.folded).flat_map(|(off, chunk)| {
        URL.find_iter(chunk)
            .map(move |m| (off + m.start(), m.as_str()))
    }) {
        let m = Match {
            start: m.0,
            text: m.1,
        };
        let url = m
            .text
            .trim_end_matches(|c: char| ".,;:!?)]}'\"".contains(c));
        let Some((host, userinfo)) = host_of(url) else {
            continue;
        };
        if host.is_empty() || !host.contains('.') {
            continue;
        }
        let email = p.folded[..m.start].ends_with('@');
        let ascii = to_ascii(&host);
        if officials.iter().any(|o| is_same_or_sub(&ascii, o)) {
            continue;
        }
        // `https://binance.com@evil.io/` shows the official name before an `@`.
        let deceptive = |o: &String| {
            looks_like(&host, o) || (!userinfo.is_empty() && userinfo.contains(o.as_str()))
        };
        let reason = match officials.iter().find(|o| deceptive(o)) {
            Some(o) => LinkReason::LookAlike {
                official: o.clone(),
            },
            None if email => continue,
            None => LinkReason::NotOfficial,
        };
        if !seen.insert(url) {
            continue;
        }
        out.push(LinkWarning {
            url: url.to_string(),
            domain: host,
            reason,
        });
    }
    out
}

struct Match<'a> {
    start: usize,
    text: &'a str,
}

/// Whitespace- and Han-delimited chunks that may hold a link: a URL never
/// contains either, and a chunk without `://` or a dot followed by a letter
/// or digit cannot hold one. Running the (Unicode-heavy) URL regex only on
/// these chunks makes link checks on ordinary chat text nearly free, and the
/// result is the same as scanning the whole text.
fn candidate_chunks(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0usize;
    let bounds = text
        .char_indices()
        .filter(|&(_, c)| c.is_whitespace() || super::text::is_han(c))
        .map(|(i, c)| (i, i + c.len_utf8()))
        .chain(std::iter::once((text.len(), text.len())));
    bounds.filter_map(move |(a, b)| {
        let chunk = &text[start..a];
        let off = start;
        start = b;
        let bytes = chunk.as_bytes();
        let dotted = bytes
            .windows(2)
            .any(|w| w[0] == b'.' && (w[1].is_ascii_alphanumeric() || w[1] >= 0x80));
        (dotted || chunk.contains("://")).then_some((off, chunk))
    })
}

fn normalize_official(d: &str) -> String {
    let d = d.trim().to_lowercase();
    let d = d.split("://").last().unwrap_or("");
    let d = d.split(['/', '?', '#']).next().unwrap_or("");
    let d = d.trim_start_matches("www.").trim_matches('.');
    to_ascii(d)
}

/// The lowercased host of a URL (scheme, port and path removed) and the
/// user-info part before an `@`, if any.
fn host_of(url: &str) -> Option<(String, String)> {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None => url,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    // `https://binance.com@evil.io/` goes to evil.io.
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (&authority[..i], &authority[i + 1..]),
        None => ("", authority),
    };
    let host = match hostport.rfind(':') {
        Some(i) if hostport[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &hostport[..i],
        _ => hostport,
    };
    Some((
        host.trim_matches('.').to_lowercase(),
        userinfo.to_lowercase(),
    ))
}

fn to_ascii(host: &str) -> String {
    if host.is_ascii() {
        return host.to_string();
    }
    idna::domain_to_ascii(host).unwrap_or_else(|_| host.to_string())
}

fn is_same_or_sub(host: &str, official: &str) -> bool {
    host == official
        || (host.len() > official.len()
            && host.ends_with(official)
            && host.as_bytes()[host.len() - official.len() - 1] == b'.')
}

/// Split a host into (registrable label, public suffix), e.g.
/// `login.binance.co.uk` → (`binance`, `co.uk`). A small built-in rule
/// (no public-suffix list) is enough to compare against official names.
fn split_registrable(host: &str) -> (String, String) {
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    if n < 2 {
        return (host.to_string(), String::new());
    }
    let two = n >= 3
        && labels[n - 1].len() == 2
        && matches!(
            labels[n - 2],
            "co" | "com" | "net" | "org" | "gov" | "edu" | "ac"
        );
    let k = if two { 2 } else { 1 };
    (labels[n - k - 1].to_string(), labels[n - k..].join("."))
}

/// Maps a string to its visual skeleton: accents stripped, Cyrillic/Greek/
/// Armenian look-alikes mapped to Latin, and digit/letter swaps (`0`→`o`,
/// `1`/`i`→`l`, `rn`→`m`, `vv`→`w`) collapsed, so that everything a human
/// would read as `binance` has the same skeleton.
fn skeleton(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        let c = c.to_lowercase().next().unwrap_or(c);
        let m = match c {
            'а' | 'α' | '4' | '@' => 'a',
            'в' | 'β' | 'ь' | '8' => 'b',
            'с' | 'ϲ' => 'c',
            'ԁ' => 'd',
            'е' | 'ё' | 'ε' | 'є' | '3' => 'e',
            'ɡ' | 'ց' | '9' => 'g',
            'һ' | 'н' | 'հ' => 'h',
            'і' | 'ї' | 'ι' | 'ı' | 'ɩ' | 'i' | '1' | '|' | 'ℓ' | 'l' | 'ӏ' => 'l',
            'ј' => 'j',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'п' | 'η' | 'ո' => 'n',
            'о' | 'ο' | 'օ' | '0' | 'σ' => 'o',
            'р' | 'ρ' => 'p',
            'ԛ' | 'զ' => 'q',
            'ѕ' | '5' | '$' => 's',
            'т' | 'τ' | '7' => 't',
            'υ' | 'ս' | 'μ' => 'u',
            'ν' | 'ѵ' => 'v',
            'ԝ' | 'ω' | 'ш' => 'w',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            c => c,
        };
        out.push(m);
    }
    out.replace("rn", "m").replace("vv", "w")
}

/// Does `host` (not official) imitate `official`?
fn looks_like(host: &str, official: &str) -> bool {
    let uni = if host.contains("xn--") {
        idna::domain_to_unicode(host).0.to_lowercase()
    } else {
        host.to_string()
    };
    let (o_label, o_suffix) = split_registrable(official);
    let (h_label, h_suffix) = split_registrable(&uni);
    if o_label.is_empty() {
        return false;
    }
    // Wrong TLD: binance.co / binance.net.
    if h_label == o_label && h_suffix != o_suffix {
        return true;
    }
    let o_skel = skeleton(&o_label);
    // Homoglyphs, mixed scripts, punycode, digit swaps.
    if skeleton(&h_label) == o_skel {
        return true;
    }
    // Extra words: binance-support.com, login-binance.com, binance.com.evil.io.
    let tokens: Vec<&str> = uni
        .split(['.', '-', '_'])
        .filter(|t| !t.is_empty())
        .collect();
    let body = &tokens[..tokens.len().saturating_sub(1)];
    if body.iter().any(|t| skeleton(t) == o_skel) {
        return true;
    }
    if o_skel.chars().count() >= 5 && skeleton(&body.concat()).contains(&o_skel) {
        return true;
    }
    // Small edit distance (typos, doubled or dropped letters, transpositions).
    let n = o_skel.chars().count();
    if n >= 4 {
        let max = if n <= 5 { 1 } else { 2 };
        for t in body {
            let ts = skeleton(t);
            if ts.chars().count() >= 3 && strsim::osa_distance(&ts, &o_skel) <= max {
                return true;
            }
        }
    }
    false
}

/// A warning to show next to (or instead of) flagged links.
/// Empty when `w` is empty.
pub fn link_warning_text(w: &[LinkWarning], lang: Lang) -> String {
    if w.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    match lang {
        Lang::Zh => {
            s.push_str("⚠️ 请注意：以下链接不是我们的官方网站：");
            for x in w {
                match &x.reason {
                    LinkReason::LookAlike { official } => s.push_str(&format!(
                        "\n• {} —— 冒充 {} 的仿冒网址，很可能是钓鱼网站",
                        x.domain, official
                    )),
                    LinkReason::NotOfficial => {
                        s.push_str(&format!("\n• {} —— 非官方网址", x.domain))
                    }
                }
            }
            s.push_str("\n请不要在这些网站登录、输入密码、验证码或助记词，也不要连接钱包。请通过官方 App 或手动输入官方网址访问。");
        }
        Lang::En => {
            s.push_str("⚠️ Careful: these links are not our official website:");
            for x in w {
                match &x.reason {
                    LinkReason::LookAlike { official } => s.push_str(&format!(
                        "\n• {} — imitates {} (a look-alike address, very likely phishing)",
                        x.domain, official
                    )),
                    LinkReason::NotOfficial => {
                        s.push_str(&format!("\n• {} — not an official address", x.domain))
                    }
                }
            }
            s.push_str("\nDo not log in, enter passwords, codes or seed phrases, or connect your wallet there. Open our app or type the official address yourself.");
        }
    }
    s
}
