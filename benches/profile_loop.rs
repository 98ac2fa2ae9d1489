//! Classifies the default pack's evaluation messages in a loop and prints
//! per-call percentiles: a steady workload for `perf record` and for quick
//! before/after comparisons. `PASSES` sets the number of passes (default 30),
//! `BANKING=1` uses the BANKING77 pack from `../shared/data` instead;
//! `DUMP=1` prints every classification instead of timing.
//!
//! `cargo bench --bench profile_loop`

use std::path::Path;
use std::time::Instant;

use kefu::intent::{compile, CompileOptions, IntentSet};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (set, messages): (IntentSet, Vec<String>) = if std::env::var_os("BANKING").is_some() {
        let rows =
            kefu::cli::read_labelled(&root.join("../shared/data/banking77/train.csv")).unwrap();
        let (sources, _) = kefu::cli::import_pack(&rows, "banking77");
        let set = compile(&sources, &CompileOptions::default()).unwrap().set;
        let messages = rows.iter().step_by(5).map(|r| r.text.clone()).collect();
        (set, messages)
    } else {
        let set = kefu::pack::load(
            &root.join("intents"),
            &root.join("dialogs"),
            CompileOptions::default(),
        )
        .unwrap()
        .set;
        let rows =
            kefu::cli::read_labelled(&root.join("tests/data/default_pack_eval.csv")).unwrap();
        (set, rows.into_iter().map(|r| r.text).collect())
    };
    if std::env::var_os("DUMP").is_some() {
        // Every classification in full, to check that a change keeps them.
        for message in &messages {
            println!("{message}\t{:?}", set.classify(message));
        }
        return;
    }
    let passes: usize = std::env::var("PASSES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut micros = Vec::with_capacity(passes * messages.len());
    for _ in 0..passes {
        for message in &messages {
            let started = Instant::now();
            std::hint::black_box(set.classify(message));
            micros.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    let mean = micros.iter().sum::<f64>() / micros.len() as f64;
    micros.sort_by(f64::total_cmp);
    let at = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize];
    println!(
        "{} calls: median {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, mean {:.1} µs",
        micros.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        mean
    );
}
