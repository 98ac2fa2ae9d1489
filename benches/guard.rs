//! Cost of the guard on ordinary chat messages. `redact` runs on every
//! incoming message, so its median must stay well under the ~20 µs budget.
//!
//! Run: `cargo bench --bench guard`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kefu::guard::{check_agent_reply, check_links, redact, ScanContext};
use kefu::lang::Lang;

const SHORT_ZH: &str = "你好，我昨天充值的USDT还没到账，订单号 88231045，请帮我查一下";
const SHORT_EN: &str = "hi, my withdrawal of 2300 usdt is stuck since yesterday, order 12345678";
const MIXED: &str = "客服你好 UID 35120987, I sent 500 USDT via TRC20, 验证码收不到, txid 3f9a8b7c6d5e4f30a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
const WITH_SECRET: &str = "here's my 2fa code 482913 pls fix, my password is Hunter2024!";

fn long_message() -> String {
    let base = "Hello, I have a problem with my account. Yesterday I deposited 1500 USDT from my wallet \
                and the transaction shows success on the blockchain, but my balance did not change. \
                我已经等了很久了，客服一直没有回复，订单号 88231045，UID 35120987。 \
                Can you please check what happened and tell me when the money will arrive? Thank you very much. ";
    let mut s = String::new();
    while s.chars().count() < 500 {
        s.push_str(base);
    }
    s.chars().take(500).collect()
}

fn bench(c: &mut Criterion) {
    let ctx = ScanContext::default();
    let long = long_message();
    let official = vec!["binance.com".to_string()];
    let mut g = c.benchmark_group("redact");
    for (name, msg) in [
        ("short_zh", SHORT_ZH),
        ("short_en", SHORT_EN),
        ("mixed", MIXED),
        ("500_chars", long.as_str()),
        ("with_secret", WITH_SECRET),
    ] {
        g.bench_function(name, |b| b.iter(|| redact(black_box(msg), &ctx, Lang::Zh)));
    }
    g.finish();
    let mut g = c.benchmark_group("checks");
    g.bench_function("check_links_500_chars", |b| {
        b.iter(|| check_links(black_box(&long), &official))
    });
    g.bench_function("check_agent_reply_en", |b| {
        b.iter(|| {
            check_agent_reply(
                black_box("Never share your 2FA code. Please send the TXID and your UID."),
                &official,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
