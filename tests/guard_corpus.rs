//! Corpus test for the guard: detection recall on messages that contain
//! secrets, and the false-positive rate on tricky clean messages.
//!
//! Corpus files (hand-written for this project):
//! - `tests/data/guard_secrets.txt`: `kind | ctx | message`, the secret(s)
//!   marked `[[…]]`;
//! - `tests/data/guard_clean.txt`: `ctx | message`.
//!
//! `\n` in a message is a line break. `{PLACEHOLDER}`s are filled with
//! deterministic, never-funded values (valid-checksum BIP-39 phrases, random
//! hex/base58) so that no real key material lives in the repository.
//!
//! Run with `cargo test --test guard_corpus -- --nocapture` to see figures.

use bip39::{Language, Mnemonic};
use kefu::guard::{redact, scan, Expected, ScanContext, SecretKind};
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

/// Value for one `{PLACEHOLDER}`.
fn value(name: &str, rng: &mut Rng) -> String {
    use Language::{English as En, SimplifiedChinese as Zh};
    match name {
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
    ph.replace_all(&t, |c: &regex::Captures| value(&c[1], rng))
        .into_owned()
}

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
    for (no, line) in lines(SECRETS) {
        let cols: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        assert_eq!(cols.len(), 3, "bad line {}: {line:?}", no + 1);
        let mut rng = Rng::new(no as u64 + 1);
        let (msg, spans) = unmark(&fill(cols[2], &mut rng));
        assert!(!spans.is_empty(), "line {} marks no secret", no + 1);
        let (k, c) = (kind(cols[0]), ctx(cols[1]));
        if has_cjk(&msg) {
            zh += 1
        } else {
            en += 1
        }
        let found = scan(&msg, &c);
        let r_en = redact(&msg, &c, Lang::En);
        let r_zh = redact(&msg, &c, Lang::Zh);
        let ok = spans.iter().all(|&(a, b)| {
            let secret = slice_chars(&msg, a, b);
            found
                .iter()
                .any(|f| f.kind == k && f.start < b && a < f.end)
                && !r_en.text.contains(&secret)
                && !r_zh.text.contains(&secret)
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
                msg,
                found,
                r_en.text
            ));
        }
    }
    // --- clean ---
    let mut clean_total = 0usize;
    let mut fps = Vec::new();
    let (mut czh, mut cen) = (0usize, 0usize);
    for (no, line) in lines(CLEAN) {
        let cols: Vec<&str> = line.splitn(2, '|').map(str::trim).collect();
        assert_eq!(cols.len(), 2, "bad clean line {}: {line:?}", no + 1);
        let mut rng = Rng::new(10_000 + no as u64);
        let msg = fill(cols[1], &mut rng);
        if has_cjk(&msg) {
            czh += 1
        } else {
            cen += 1
        }
        clean_total += 1;
        let f = scan(&msg, &ctx(cols[0]));
        if !f.is_empty() {
            let shown: Vec<String> = f
                .iter()
                .map(|x| format!("{:?} {:?}", x.kind, slice_chars(&msg, x.start, x.end)))
                .collect();
            fps.push(format!("  line {}: {:?}\n    {:?}", no + 1, msg, shown));
        }
    }

    let recall = hit as f64 / total as f64;
    let fp_rate = fps.len() as f64 / clean_total as f64;
    println!(
        "guard corpus: secret messages {total} (zh {zh}, en {en}), detected {hit}, recall {:.2}%",
        recall * 100.0
    );
    for (k, (n, h)) in &per_kind {
        println!("  {k:<9} {h}/{n}");
    }
    println!("guard corpus: clean messages {clean_total} (zh {czh}, en {cen}), false positives {}, FP rate {:.2}%", fps.len(), fp_rate * 100.0);
    if !misses.is_empty() {
        println!("missed:\n{}", misses.join("\n"));
    }
    if !fps.is_empty() {
        println!("false positives:\n{}", fps.join("\n"));
    }
    assert!(total >= 220, "need ≥ 220 secret messages, have {total}");
    assert!(
        clean_total >= 220,
        "need ≥ 220 clean messages, have {clean_total}"
    );
    for (k, (n, _)) in &per_kind {
        assert!(*n >= 30, "kind {k} has only {n} messages");
    }
    assert!(
        zh >= 60 && en >= 60 && czh >= 60 && cen >= 60,
        "both languages must be represented"
    );
    assert!(recall >= 0.99, "recall {recall:.4} < 0.99");
    assert!(fp_rate <= 0.01, "false-positive rate {fp_rate:.4} > 0.01");
}
