//! Classifies the default pack's evaluation messages in a loop and prints
//! per-call percentiles: a steady workload for `perf record` and for quick
//! before/after comparisons. `PASSES` sets the number of passes (default 30),
//! `BANKING=1` uses the BANKING77 pack from `../shared/data` instead;
//! `DUMP=1` prints every classification instead of timing; `SLOWEST=1` also
//! lists the messages whose fastest call was slowest; `LONG=1` joins the
//! messages into 1000-character texts.
//!
//! `cargo bench --bench profile_loop`

use std::path::Path;
use std::time::Instant;

use kefu::intent::{compile, CompileOptions, IntentSet};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = Instant::now();
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
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    // LONG=1: the messages joined into texts of the longest length a
    // message can have.
    let messages: Vec<String> = if std::env::var_os("LONG").is_some() {
        let joined: Vec<char> = messages.join(" ").chars().collect();
        joined
            .chunks(kefu::text::MAX_MESSAGE_CHARS)
            .map(|chunk| chunk.iter().collect())
            .collect()
    } else {
        messages
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
    // Per message, its fastest call: what it costs without the noise.
    let mut fastest = vec![f64::INFINITY; messages.len()];
    for _ in 0..passes {
        for (index, message) in messages.iter().enumerate() {
            let started = Instant::now();
            std::hint::black_box(set.classify(message));
            let elapsed = started.elapsed().as_secs_f64() * 1e6;
            micros.push(elapsed);
            fastest[index] = fastest[index].min(elapsed);
        }
    }
    if std::env::var_os("SLOWEST").is_some() {
        let mut order: Vec<usize> = (0..messages.len()).collect();
        order.sort_by(|&a, &b| fastest[b].total_cmp(&fastest[a]));
        for &index in order.iter().take(15) {
            println!("{:8.1} µs  {}", fastest[index], messages[index]);
        }
    }
    let mean = micros.iter().sum::<f64>() / micros.len() as f64;
    micros.sort_by(f64::total_cmp);
    let at = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize];
    println!(
        "load {load_ms:.0} ms; {} calls: median {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, mean {:.1} µs",
        micros.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        mean
    );
}
