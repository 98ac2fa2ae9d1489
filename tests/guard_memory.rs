//! The guard's conversation memory: a secret announced in one message and
//! sent in the next, or pasted in pieces, is hidden on arrival; the memory
//! never holds the secret; the window closes after two messages or three
//! minutes.

use kefu::guard::{redact, redact_following, Memory, ScanContext, SecretKind, WINDOW_SECS};
use kefu::lang::Lang;

const T0: i64 = 1_767_578_400;

/// Feeds `messages` one after the other; returns the redacted texts and
/// checks the memory, serialized, never holds any of `secrets`.
fn talk(messages: &[&str], secrets: &[&str]) -> Vec<String> {
    let mut memory = Memory::default();
    let ctx = ScanContext::default();
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let r = redact_following(m, &ctx, Lang::En, &mut memory, T0 + 10 * i as i64);
            let json = serde_json::to_string(&memory).unwrap();
            for s in secrets {
                assert!(!json.contains(s), "the memory holds {s}: {json}");
            }
            r.text
        })
        .collect()
}

fn hides(messages: &[&str], secrets: &[&str]) {
    let out = talk(messages, secrets);
    for s in secrets {
        assert!(out.iter().all(|t| !t.contains(s)), "{s} shown in {out:?}");
    }
}

#[test]
fn the_issues_formats_are_hidden() {
    hides(
        &[
            "my seed is legal winner thank year wave sausage",
            "worth useful legal winner thank yellow",
        ],
        &[
            "legal winner thank year wave sausage",
            "worth useful",
            "thank yellow",
        ],
    );
    hides(
        &["what's my password? here it is", "Zr7$kPq2n"],
        &["Zr7$kPq2n"],
    );
    hides(&["I got an SMS code", "583920"], &["583920"]);
    hides(
        &["私钥\n4c0883a69102937d\n6231471b5dbb6204\nfe5129617082792a\ne468d01a3f362318"],
        &[
            "4c0883a69102937d",
            "6231471b5dbb6204",
            "fe5129617082792a",
            "e468d01a3f362318",
        ],
    );
    hides(&["pass Qx8vR7#mZ"], &["Qx8vR7#mZ"]);
    hides(&["p@ssword = Lm9!aa72"], &["Lm9!aa72"]);
    hides(&["login: a@b.com / Hk29!vLw"], &["Hk29!vLw"]);
    hides(&["7. absorb 8. abstract"], &["absorb", "abstract"]);
    hides(
        &["LegalWinnerThankYearWaveSausageWorthUsefulLegalWinnerThankYellow"],
        &["LegalWinnerThankYear"],
    );
}

#[test]
fn traditional_chinese_seed_after_its_label() {
    let entropy = [7u8; 16];
    let words: Vec<String> =
        bip39::Mnemonic::from_entropy_in(bip39::Language::TraditionalChinese, &entropy)
            .unwrap()
            .words()
            .map(str::to_string)
            .collect();
    let spaced = words.join(" ");
    hides(&[&format!("助記詞：{spaced}")], &[&spaced]);
    hides(&["助記詞：", &words.concat()], &[&words.concat()]);
}

#[test]
fn ordinary_words_that_are_seed_words_pass() {
    let out = talk(
        &[
            "please help me, able to access?",
            "can you check that again please",
            "thank you very much",
        ],
        &[],
    );
    assert!(out.iter().all(|t| !t.contains("[hidden")), "{out:?}");
}

#[test]
fn talk_about_a_secret_arms_nothing() {
    for first in [
        "I forgot my password",
        "验证码收不到",
        "what is a seed phrase?",
    ] {
        let mut memory = Memory::default();
        let ctx = ScanContext::default();
        redact_following(first, &ctx, Lang::En, &mut memory, T0);
        assert_eq!(memory.expect, None, "{first}");
    }
}

#[test]
fn the_window_closes_after_two_messages_or_three_minutes() {
    let ctx = ScanContext::default();
    // By time.
    let mut memory = Memory::default();
    redact_following("my password is", &ctx, Lang::En, &mut memory, T0);
    assert_eq!(memory.expect, Some(SecretKind::Password));
    let late = redact_following(
        "sunflower88",
        &ctx,
        Lang::En,
        &mut memory,
        T0 + WINDOW_SECS + 1,
    );
    assert!(late.findings.is_empty(), "the window had closed");
    // By messages.
    let mut memory = Memory::default();
    redact_following("my password is", &ctx, Lang::En, &mut memory, T0);
    let a = redact_following("wait a second please", &ctx, Lang::En, &mut memory, T0 + 1);
    let b = redact_following("are you there now?", &ctx, Lang::En, &mut memory, T0 + 2);
    assert!(a.findings.is_empty() && b.findings.is_empty());
    let third = redact_following("sunflower88", &ctx, Lang::En, &mut memory, T0 + 3);
    assert!(
        third.findings.is_empty(),
        "two messages later the window is closed"
    );
    // Within it.
    let mut memory = Memory::default();
    redact_following("my password is", &ctx, Lang::En, &mut memory, T0);
    let next = redact_following("sunflower88", &ctx, Lang::En, &mut memory, T0 + 5);
    assert_eq!(next.findings.len(), 1);
    // The single-message API alone does not know.
    assert!(redact("sunflower88", &ctx, Lang::En).findings.is_empty());
}

#[test]
fn a_txid_announced_is_not_a_key() {
    let key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let mut memory = Memory::default();
    let ctx = ScanContext::default();
    redact_following("here is the txid", &ctx, Lang::En, &mut memory, T0);
    let r = redact_following(key, &ctx, Lang::En, &mut memory, T0 + 5);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // Bare, with nothing said about a transaction, it is hidden.
    let r = redact_following(key, &ctx, Lang::En, &mut Memory::default(), T0);
    assert_eq!(r.findings[0].kind, SecretKind::PrivateKey);
}
