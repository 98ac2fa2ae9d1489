//! Matching cost: classify per message on the default pack (and on a pack
//! imported from BANKING77 when `../shared/data` is present), pack compile
//! time, and jieba segmentation alone as the floor.
//!
//! `cargo bench --bench classify`

use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use kefu::intent::{compile, CompileOptions, IntentSet};
use kefu::text::{normalize, Segmenter};

const MESSAGES: &[&str] = &[
    "我的USDT提币三个小时了还没到账",
    "my withdrawl is still pending after 2 hours",
    "帳號被凍結了怎麼辦",
    "i forgot my pasword and lost my 2fa phone",
    "充值没到账，忘记填memo了",
    "is this telegram account really your support staff?",
    "你好",
    "what's the weather like in paris tomorrow",
    "转人工",
    "order failed with insufficient balance error",
];

fn default_pack() -> IntentSet {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    kefu::pack::load(
        &root.join("intents"),
        &root.join("dialogs"),
        CompileOptions::default(),
    )
    .expect("the default pack compiles")
    .set
}

fn banking_pack() -> Option<(IntentSet, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/banking77/train.csv");
    let rows = kefu::cli::read_labelled(&path).ok()?;
    let (sources, _) = kefu::cli::import_pack(&rows, "banking77");
    let set = compile(&sources, &CompileOptions::default()).ok()?.set;
    let messages = rows.iter().step_by(97).map(|r| r.text.clone()).collect();
    Some((set, messages))
}

fn bench(c: &mut Criterion) {
    let set = default_pack();
    let segmenter = Segmenter::default();
    let normalized: Vec<String> = MESSAGES.iter().map(|m| normalize(m)).collect();

    let mut group = c.benchmark_group("floor");
    group.bench_function("jieba_segment_per_message", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % normalized.len();
            segmenter.tokens(&normalized[i])
        })
    });
    group.bench_function("normalize_per_message", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % MESSAGES.len();
            normalize(MESSAGES[i])
        })
    });
    group.finish();

    let mut group = c.benchmark_group("classify");
    group.bench_function("default_pack_per_message", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % MESSAGES.len();
            set.classify(MESSAGES[i])
        })
    });
    let huge = "提币没到账".repeat(200_000);
    group.bench_function("default_pack_1mb_message", |b| {
        b.iter(|| set.classify(&huge))
    });
    if let Some((banking, messages)) = banking_pack() {
        group.bench_function("banking77_pack_per_message", |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % messages.len();
                banking.classify(&messages[i])
            })
        });
    }
    group.finish();

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (sources, _) = kefu::pack::read_intents(&root.join("intents")).unwrap();
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("compile_default_pack", |b| {
        b.iter_batched(
            || sources.clone(),
            |s| compile(&s, &CompileOptions::default()).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
