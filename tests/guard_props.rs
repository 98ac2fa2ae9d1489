//! Robustness of `kefu::guard`: no panics on any input, findings are
//! well-formed, and redaction never leaves a detected secret readable.

use kefu::guard::*;
use kefu::lang::Lang;
use proptest::prelude::*;

fn official() -> Vec<String> {
    vec!["binance.com".to_string(), "binance.info".to_string()]
}

/// Pieces that exercise the detectors: labels, wordlist words, digits, hex,
/// Chinese, look-alike characters, separators, odd Unicode.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("abandon ".to_string()),
        Just("zoo ".to_string()),
        Just("seed: ".to_string()),
        Just("助记词".to_string()),
        Just("的 ".to_string()),
        Just("在".to_string()),
        Just("私钥 ".to_string()),
        Just("private key ".to_string()),
        Just("api key: ".to_string()),
        Just("secret ".to_string()),
        Just("TXID ".to_string()),
        Just("验证码".to_string()),
        Just("2fa code ".to_string()),
        Just("order ".to_string()),
        Just("password is ".to_string()),
        Just("密码：".to_string()),
        Just("pw=".to_string()),
        Just("https://".to_string()),
        Just("www.".to_string()),
        Just("bіnance.com".to_string()),
        Just("xn--bnance-bwa.com/".to_string()),
        Just("@".to_string()),
        Just("0x".to_string()),
        Just("[hidden: password]".to_string()),
        Just("\u{200b}".to_string()),
        Just("\u{FF11}\u{FF12}".to_string()),
        Just("\n1. ".to_string()),
        Just(", ".to_string()),
        "[0-9]{1,10}",
        "[0-9a-f]{60,66}",
        "[1-9A-HJ-NP-Za-km-z]{30,112}",
        "[A-Za-z0-9_+/=-]{10,70}",
        "[a-z]{1,9} ",
        "\\PC{0,8}",
        any::<String>(),
    ]
}

fn message() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|v| v.concat())
}

/// Every secret the scan reported is gone from the redacted text (the
/// placeholders themselves are fixed, known text and are split out first).
fn assert_redaction_safe(text: &str) {
    let ctx = ScanContext::default();
    let found = scan(text, &ctx);
    let n = text.chars().count();
    let mut last_end = 0;
    for f in &found {
        assert!(f.start < f.end && f.end <= n, "bad span {f:?} in {text:?}");
        assert!(f.start >= last_end, "overlap/unsorted at {f:?}");
        last_end = f.end;
    }
    for lang in [Lang::En, Lang::Zh] {
        let r = redact(text, &ctx, lang);
        assert_eq!(r.findings, found);
        let mut pieces = vec![r.text.clone()];
        for k in SecretKind::ALL {
            let ph = placeholder(k, lang);
            pieces = pieces
                .iter()
                .flat_map(|p| p.split(ph.as_str()).map(str::to_string).collect::<Vec<_>>())
                .collect();
        }
        for f in &found {
            let secret: String = text.chars().skip(f.start).take(f.end - f.start).collect();
            for p in &pieces {
                assert!(
                    !p.contains(&secret),
                    "secret {secret:?} still visible in {:?}",
                    r.text
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_strings(s in any::<String>()) {
        let ctx = ScanContext::default();
        let _ = scan(&s, &ctx);
        let _ = redact(&s, &ctx, Lang::Zh);
        let _ = check_links(&s, &official());
        let _ = check_agent_reply(&s, &official());
        assert_redaction_safe(&s);
    }

    #[test]
    fn never_panics_on_detector_soup(s in message(), e in 0usize..8) {
        let ctx = match e {
            0 => ScanContext::default(),
            1 => ScanContext::expecting(Expected::TxHash),
            2 => ScanContext::expecting(Expected::OrderId),
            3 => ScanContext::expecting(Expected::Uid),
            4 => ScanContext::expecting(Expected::Address),
            5 => ScanContext::expecting(Expected::Amount),
            6 => ScanContext::expecting(Expected::Email),
            _ => ScanContext::expecting(Expected::Other),
        };
        let _ = scan(&s, &ctx);
        let _ = redact(&s, &ctx, Lang::En);
        let w = check_links(&s, &official());
        let _ = link_warning_text(&w, Lang::Zh);
        let _ = check_agent_reply(&s, &official());
        assert_redaction_safe(&s);
    }

}

proptest! {
    // Long inputs are slow in debug builds; fewer cases keep `cargo test` quick.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn weird_unicode_and_long_inputs(s in "\\PC{0,3000}", rep in 1usize..20) {
        let big = s.repeat(rep);
        let _ = scan(&big, &ScanContext::default());
        let _ = check_links(&big, &official());
        let _ = check_agent_reply(&big, &official());
        assert_redaction_safe(&big);
    }
}

/// A 1 MB message full of near-secrets completes and still redacts secrets
/// at the very end (nothing is cut off). No timing is asserted here; see the
/// benchmark for speed.
#[test]
fn one_megabyte_input_completes() {
    let chunk = "客服你好 order 12345678 UID 35120987 转了 5000 USDT https://bіnance.com/x \
                 abandon ability able about above absent 验证码 TXID 3f9a8b7c6d5e4f30a1b2c3d4e5f6 \
                 的 一 是 在 please send me your 2fa code 密码：";
    let mut text = String::new();
    while text.len() < 1_000_000 {
        text.push_str(chunk);
        text.push('\n');
    }
    text.push_str("my password is Tail-Secret-2024 and 2fa code 482913");
    let ctx = ScanContext::default();
    let r = redact(&text, &ctx, Lang::En);
    assert!(!r.text.contains("Tail-Secret-2024"));
    assert!(!r.text.ends_with("482913"));
    let _ = check_links(&text, &official());
    let _ = check_agent_reply(&text, &official());
    // A single 1 MB token and a 1 MB run of wordlist words.
    let _ = scan(&"a".repeat(1_000_000), &ctx);
    let _ = scan(&"abandon ".repeat(125_000), &ctx);
    let _ = scan(&"的".repeat(300_000), &ctx);
    let _ = scan(&"1234 ".repeat(200_000), &ctx);
}
