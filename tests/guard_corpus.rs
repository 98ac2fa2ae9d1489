//! Corpus test for the guard: detection recall on messages that contain
//! secrets, and the false-positive rate on tricky clean messages.
//!
//! Corpus files (hand-written for this project):
//! - `tests/data/guard_secrets.txt`: `kind | ctx | message`, the secret(s)
//!   marked `[[…]]`;
//! - `tests/data/guard_clean.txt`: `ctx | message`.
//!
//! A row may be a conversation: messages separated by ` >> `, fed in order
//! through [`redact_following`] with one guard memory (20 seconds apart),
//! the way the brain and the agent relay use it. A secret counts as caught
//! only when every letter, digit and Han character of it (seed numbering
//! aside) is covered by findings and no redacted
//! message shows it; a clean row is a false positive when any of its
//! messages has a finding.
//!
//! `\n` in a message is a line break. `{PLACEHOLDER}`s are filled with
//! deterministic, never-funded values (valid-checksum BIP-39 phrases, random
//! hex/base58) so that no real key material lives in the repository.
//!
//! Run with `cargo test --test guard_corpus -- --nocapture` to see figures.

use bip39::{Language, Mnemonic};
use std::collections::HashMap;

use kefu::guard::{redact_following, Expected, Finding, Memory, ScanContext, SecretKind};
use kefu::lang::Lang;
use regex::Regex;

const SECRETS: &str = include_str!("data/guard_secrets.txt");
const CLEAN: &str = include_str!("data/guard_clean.txt");

/// xorshift64*: tiny, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        (0..n).map(|_| a[self.below(a.len())]).collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

const HEX: &str = "0123456789abcdef";
const B58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BECH32: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// A valid-checksum mnemonic of `n` words.
fn mnemonic(rng: &mut Rng, lang: Language, n: usize) -> Vec<String> {
    let entropy = rng.bytes(n * 4 / 3);
    Mnemonic::from_entropy_in(lang, &entropy)
        .expect("entropy length")
        .words()
        .map(str::to_string)
        .collect()
}

fn random_words(rng: &mut Rng, n: usize) -> Vec<String> {
    let list = Language::English.word_list();
    (0..n).map(|_| list[rng.below(2048)].to_string()).collect()
}

fn numbered(words: &[String], sep: &str, style: usize) -> String {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| match style {
            0 => format!("{}. {}", i + 1, w),
            1 => format!("{}) {}", i + 1, w),
            _ => format!("{}.{}", i + 1, w),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

fn title(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Values that come in parts (a seed pasted in two messages): the whole is
/// made once per row and each placeholder takes its part.
fn part(name: &str, rng: &mut Rng, shared: &mut HashMap<String, Vec<String>>) -> Option<String> {
    use Language::{English as En, SimplifiedChinese as Zh, TraditionalChinese as Tw};
    let (group, index) = name.rsplit_once('_')?;
    let index: usize = index.parse().ok()?;
    let whole = match group {
        "S12" | "S12N" | "S12Q" => shared
            .entry(group.into())
            .or_insert_with(|| mnemonic(rng, En, 12)),
        "S24" => shared
            .entry(group.into())
            .or_insert_with(|| mnemonic(rng, En, 24)),
        "Z12" | "Z12C" => shared
            .entry(group.into())
            .or_insert_with(|| mnemonic(rng, Zh, 12)),
        "T12" | "T12C" => shared
            .entry(group.into())
            .or_insert_with(|| mnemonic(rng, Tw, 12)),
        "HEX" => shared
            .entry(group.into())
            .or_insert_with(|| rng.pick(HEX, 64).chars().map(String::from).collect()),
        _ => return None,
    };
    let (parts, sep) = match group {
        "S12Q" => (3, " "),
        "HEX" => (2, ""),
        "Z12C" | "T12C" => (2, ""),
        _ => (2, " "),
    };
    let size = whole.len() / parts;
    let chunk = &whole[(index - 1) * size..index * size];
    Some(match group {
        "S12N" => chunk
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{}. {w}", (index - 1) * size + i + 1))
            .collect::<Vec<_>>()
            .join(" "),
        _ => chunk.join(sep),
    })
}

/// Value for one `{PLACEHOLDER}`.
fn value(name: &str, rng: &mut Rng, shared: &mut HashMap<String, Vec<String>>) -> String {
    use Language::{English as En, SimplifiedChinese as Zh, TraditionalChinese as Tw};
    if let Some(v) = part(name, rng, shared) {
        return v;
    }
    match name {
        "TSEED12" => mnemonic(rng, Tw, 12).join(" "),
        "TSEED12_C" => mnemonic(rng, Tw, 12).concat(),
        "SEED12_CAMEL" => mnemonic(rng, En, 12).iter().map(|w| title(w)).collect(),
        "SEED12_RUN" => mnemonic(rng, En, 12).concat(),
        "HEX64_LINES" => {
            let k = rng.pick(HEX, 64);
            format!("{}\n{}\n{}\n{}", &k[..16], &k[16..32], &k[32..48], &k[48..])
        }
        "HEX64_SPACED" => {
            let k = rng.pick(HEX, 64);
            (0..8)
                .map(|i| &k[i * 8..i * 8 + 8])
                .collect::<Vec<_>>()
                .join(" ")
        }
        "SEED12" => mnemonic(rng, En, 12).join(" "),
        "SEED15" => mnemonic(rng, En, 15).join(" "),
        "SEED18" => mnemonic(rng, En, 18).join(" "),
        "SEED21" => mnemonic(rng, En, 21).join(" "),
        "SEED24" => mnemonic(rng, En, 24).join(" "),
        "SEED12_NUM" => numbered(&mnemonic(rng, En, 12), "\n", 0),
        "SEED24_NUM" => numbered(&mnemonic(rng, En, 24), "\n", 0),
        "SEED12_PAREN" => numbered(&mnemonic(rng, En, 12), " ", 1),
        "SEED12_TIGHT" => numbered(&mnemonic(rng, En, 12), " ", 2),
        "SEED12_CAP" => mnemonic(rng, En, 12)
            .iter()
            .map(|w| title(w))
            .collect::<Vec<_>>()
            .join(" "),
        "SEED12_UPPER" => mnemonic(rng, En, 12).join(" ").to_uppercase(),
        "SEED12_COMMA" => mnemonic(rng, En, 12).join(", "),
        "SEED12_LINES" => mnemonic(rng, En, 12).join("\n"),
        "SEED12_TWOLINES" => {
            let w = mnemonic(rng, En, 12);
            format!("{}\n{}", w[..6].join(" "), w[6..].join(" "))
        }
        "SEED12_TYPO" => {
            let mut w = mnemonic(rng, En, 12);
            let i = 3 + rng.below(6);
            w[i].push('x');
            w.join(" ")
        }
        "RAND12" => random_words(rng, 12).join(" "),
        "RAND13" => random_words(rng, 13).join(" "),
        "RAND24" => random_words(rng, 24).join(" "),
        "ZHSEED12" => mnemonic(rng, Zh, 12).concat(),
        "ZHSEED24" => mnemonic(rng, Zh, 24).concat(),
        "ZHSEED12_SP" => mnemonic(rng, Zh, 12).join(" "),
        "ZHSEED24_SP" => mnemonic(rng, Zh, 24).join(" "),
        "ZHSEED12_COMMA" => mnemonic(rng, Zh, 12).join("，"),
        "ZHSEED12_NUM" => numbered(&mnemonic(rng, Zh, 12), "\n", 0),
        "HEX64" | "TXID" => rng.pick(HEX, 64),
        "HEX64_UP" => rng.pick(HEX, 64).to_uppercase(),
        "HEX64_0X" | "TXID_0X" => format!("0x{}", rng.pick(HEX, 64)),
        "WIF5" => format!("5{}{}", rng.pick("HJK", 1), rng.pick(B58, 49)),
        "WIFK" => format!("K{}", rng.pick(B58, 51)),
        "WIFL" => format!("L{}", rng.pick(B58, 51)),
        "XPRV" => format!("xprv9s21ZrQH143K{}", rng.pick(B58, 95)),
        "SOLKEY" => rng.pick(B58, 88),
        "API64" => rng.pick(ALNUM, 64),
        "API18" => format!("{}{}", rng.pick(ALNUM, 16), rng.pick("0123456789", 2)),
        "API32HEX" => rng.pick(HEX, 32).to_uppercase(),
        "API_UUID" => format!(
            "{}-{}-{}-{}-{}",
            rng.pick(HEX, 8),
            rng.pick(HEX, 4),
            rng.pick(HEX, 4),
            rng.pick(HEX, 4),
            rng.pick(HEX, 12)
        ),
        "API_B64" => format!("{}==", rng.pick(B64, 86)),
        "ETHADDR" => format!("0x{}", rng.pick(HEX, 40)),
        "TRONADDR" => format!("T{}", rng.pick(B58, 33)),
        "BTCADDR1" => format!("1{}", rng.pick(B58, 33)),
        "BTCADDR3" => format!("3{}", rng.pick(B58, 33)),
        "BECH32" => format!("bc1q{}", rng.pick(BECH32, 38)),
        "SOLADDR" => rng.pick(B58, 44),
        other => panic!("unknown placeholder {{{other}}}"),
    }
}

fn fill(template: &str, rng: &mut Rng) -> String {
    let ph = Regex::new(r"\{([A-Z0-9_]+)\}").unwrap();
    let t = template.replace("\\n", "\n");
    let mut shared = HashMap::new();
    ph.replace_all(&t, |c: &regex::Captures| value(&c[1], rng, &mut shared))
        .into_owned()
}

/// The messages of a row, in order.
fn messages(filled: &str) -> Vec<&str> {
    filled.split(" >> ").collect()
}

/// Feeds a conversation through the guard memory: findings and redacted
/// text per message.
fn converse(msgs: &[String], c: &ScanContext, lang: Lang) -> Vec<(Vec<Finding>, String)> {
    let mut memory = Memory::default();
    msgs.iter()
        .enumerate()
        .map(|(i, m)| {
            let r = redact_following(m, c, lang, &mut memory, T0 + 20 * i as i64);
            (r.findings, r.text)
        })
        .collect()
}

const T0: i64 = 1_767_578_400;

/// Removes `[[`/`]]` markers; returns the text and the marked char spans.
fn unmark(s: &str) -> (String, Vec<(usize, usize)>) {
    let mut out = String::new();
    let mut spans = Vec::new();
    let mut open = None;
    let mut n = 0usize;
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[[") {
            open = Some(n);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("]]") {
            spans.push((open.take().expect("]] without [["), n));
            rest = r;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            n += 1;
            rest = &rest[c.len_utf8()..];
        }
    }
    assert!(open.is_none(), "unclosed [[ in {s:?}");
    (out, spans)
}

fn ctx(s: &str) -> ScanContext {
    let e = match s {
        "-" => return ScanContext::default(),
        "txhash" => Expected::TxHash,
        "orderid" => Expected::OrderId,
        "uid" => Expected::Uid,
        "address" => Expected::Address,
        "amount" => Expected::Amount,
        "email" => Expected::Email,
        "other" => Expected::Other,
        o => panic!("unknown ctx {o}"),
    };
    ScanContext::expecting(e)
}

fn kind(s: &str) -> SecretKind {
    match s {
        "seed" => SecretKind::SeedPhrase,
        "pk" => SecretKind::PrivateKey,
        "api" => SecretKind::ApiKey,
        "password" => SecretKind::Password,
        "otp" => SecretKind::OneTimeCode,
        o => panic!("unknown kind {o}"),
    }
}

fn lines(src: &str) -> impl Iterator<Item = (usize, &str)> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

fn slice_chars(s: &str, a: usize, b: usize) -> String {
    s.chars().skip(a).take(b - a).collect()
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

#[test]
fn corpus_recall_and_false_positives() {
    // --- secrets ---
    let mut total = 0usize;
    let mut hit = 0usize;
    let mut per_kind: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let (mut zh, mut en) = (0usize, 0usize);
    let mut misses = Vec::new();
    let mut multi = 0usize;
    for (no, line) in lines(SECRETS) {
        let cols: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        assert_eq!(cols.len(), 3, "bad line {}: {line:?}", no + 1);
        let mut rng = Rng::new(no as u64 + 1);
        let filled = fill(cols[2], &mut rng);
        let parts: Vec<(String, Vec<(usize, usize)>)> =
            messages(&filled).into_iter().map(unmark).collect();
        assert!(
            parts.iter().any(|(_, spans)| !spans.is_empty()),
            "line {} marks no secret",
            no + 1
        );
        if parts.len() > 1 {
            multi += 1;
        }
        let (k, c) = (kind(cols[0]), ctx(cols[1]));
        let msgs: Vec<String> = parts.iter().map(|(m, _)| m.clone()).collect();
        if msgs.iter().any(|m| has_cjk(m)) {
            zh += 1
        } else {
            en += 1
        }
        let r_en = converse(&msgs, &c, Lang::En);
        let r_zh = converse(&msgs, &c, Lang::Zh);
        let ok = parts.iter().enumerate().all(|(i, (msg, spans))| {
            let found = &r_en[i].0;
            spans.iter().all(|&(a, b)| {
                let secret = slice_chars(msg, a, b);
                // Every letter, digit and Han character of it: numbering
                // ("1. ") and a stray "/" carry nothing of the secret.
                let covered = msg
                    .chars()
                    .enumerate()
                    .skip(a)
                    .take(b - a)
                    .filter(|(_, ch)| ch.is_alphanumeric())
                    .all(|(x, ch)| {
                        found.iter().any(|f| f.start <= x && x < f.end)
                            || (k == SecretKind::SeedPhrase && ch.is_ascii_digit())
                    });
                covered
                    && found
                        .iter()
                        .any(|f| f.kind == k && f.start < b && a < f.end)
                    && !r_en[i].1.contains(&secret)
                    && !r_zh[i].1.contains(&secret)
            })
        });
        total += 1;
        let e = per_kind.entry(cols[0].to_string()).or_default();
        e.0 += 1;
        if ok {
            hit += 1;
            e.1 += 1;
        } else {
            misses.push(format!(
                "  line {}: {:?}\n    found {:?}\n    redacted {:?}",
                no + 1,
                msgs,
                r_en.iter().map(|r| &r.0).collect::<Vec<_>>(),
                r_en.iter().map(|r| &r.1).collect::<Vec<_>>()
            ));
        }
    }
    // --- clean ---
    let mut clean_total = 0usize;
    let mut fps = Vec::new();
    let (mut czh, mut cen) = (0usize, 0usize);
    let mut clean_multi = 0usize;
    for (no, line) in lines(CLEAN) {
        let cols: Vec<&str> = line.splitn(2, '|').map(str::trim).collect();
        assert_eq!(cols.len(), 2, "bad clean line {}: {line:?}", no + 1);
        let mut rng = Rng::new(10_000 + no as u64);
        let filled = fill(cols[1], &mut rng);
        let msgs: Vec<String> = messages(&filled).into_iter().map(String::from).collect();
        if msgs.len() > 1 {
            clean_multi += 1;
        }
        if msgs.iter().any(|m| has_cjk(m)) {
            czh += 1
        } else {
            cen += 1
        }
        clean_total += 1;
        let results = converse(&msgs, &ctx(cols[0]), Lang::En);
        let shown: Vec<String> = results
            .iter()
            .zip(&msgs)
            .flat_map(|((f, _), msg)| {
                f.iter()
                    .map(|x| format!("{:?} {:?}", x.kind, slice_chars(msg, x.start, x.end)))
                    .collect::<Vec<_>>()
            })
            .collect();
        if !shown.is_empty() {
            fps.push(format!("  line {}: {:?}\n    {:?}", no + 1, msgs, shown));
        }
    }

    let recall = hit as f64 / total as f64;
    let fp_rate = fps.len() as f64 / clean_total as f64;
    println!(
        "guard corpus: secret rows {total} (zh {zh}, en {en}; {multi} conversations of several messages), detected {hit}, recall {:.2}%",
        recall * 100.0
    );
    for (k, (n, h)) in &per_kind {
        println!("  {k:<9} {h}/{n}");
    }
    println!("guard corpus: clean rows {clean_total} (zh {czh}, en {cen}; {clean_multi} conversations), false positives {}, FP rate {:.2}%", fps.len(), fp_rate * 100.0);
    if !misses.is_empty() {
        println!("missed:\n{}", misses.join("\n"));
    }
    if !fps.is_empty() {
        println!("false positives:\n{}", fps.join("\n"));
    }
    assert!(total >= 400, "need ≥ 400 secret rows, have {total}");
    assert!(
        multi >= 100,
        "need ≥ 100 multi-message secret rows, have {multi}"
    );
    assert!(
        clean_total >= 400,
        "need ≥ 400 clean rows, have {clean_total}"
    );
    for (k, (n, _)) in &per_kind {
        assert!(*n >= 30, "kind {k} has only {n} messages");
    }
    assert!(
        zh >= 100 && en >= 100 && czh >= 100 && cen >= 100,
        "both languages must be represented"
    );
    assert!(recall >= 0.995, "recall {recall:.4} < 0.995");
    assert!(fp_rate <= 0.01, "false-positive rate {fp_rate:.4} > 0.01");
}
