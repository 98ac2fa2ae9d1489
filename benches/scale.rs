//! Scale and start-up figures, printed (not criterion: these are whole-command
//! timings and percentiles).
//!
//! - `kefu import` + `kefu check` of a synthetic 5,000-label file (target < 3 s)
//!   and classify p50/p99 on the imported pack (target p99 < 2 ms);
//! - `kefu chat` start-up to the first answer and peak RSS (targets 300 ms, 80 MB);
//! - with `../shared/data` present: BANKING77 pack compile time and classify p50/p99.
//!
//! `cargo bench --bench scale`

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use kefu::cli::{import_pack, read_labelled, LabelledRow};
use kefu::intent::{compile, CompileOptions, IntentSet};

/// Deterministic pseudo-words: label `i` gets words drawn from its own slice
/// of a synthetic vocabulary plus shared filler, so labels are separable but
/// share common words as real data does.
fn synthetic_rows(labels: usize, per_label: usize) -> Vec<LabelledRow> {
    let syllables = [
        "ka", "lo", "mi", "re", "su", "ta", "no", "vi", "de", "ra", "pe", "zu", "fo", "gi", "ha",
        "je",
    ];
    let word = |n: usize| -> String {
        let mut n = n;
        let mut out = String::new();
        for _ in 0..3 {
            out.push_str(syllables[n % syllables.len()]);
            n /= syllables.len();
        }
        out
    };
    let filler = [
        "my", "the", "please", "help", "with", "is", "not", "working", "how", "do", "i",
    ];
    let mut state = 0x1234_5678u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut rows = Vec::with_capacity(labels * per_label);
    for label in 0..labels {
        for _ in 0..per_label {
            let mut words = Vec::new();
            for _ in 0..3 {
                words.push(word(label * 3 + (next() % 3) as usize));
            }
            for _ in 0..3 {
                words.push(filler[(next() % filler.len() as u64) as usize].to_string());
            }
            words.push(word((next() % 4000) as usize + 20_000));
            rows.push(LabelledRow {
                text: words.join(" "),
                label: format!("label_{label:04}"),
            });
        }
    }
    rows
}

fn percentiles(set: &IntentSet, messages: &[String]) -> (f64, f64) {
    let mut micros: Vec<f64> = messages
        .iter()
        .map(|m| {
            let started = Instant::now();
            std::hint::black_box(set.classify(m));
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    micros.sort_by(f64::total_cmp);
    let at = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize];
    (at(0.5), at(0.99))
}

fn main() {
    let binary = env!("CARGO_BIN_EXE_kefu");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let temp = tempfile::tempdir().unwrap();

    // 5,000 labels, through the real binary.
    let rows = synthetic_rows(5000, 3);
    let csv = temp.path().join("labels5000.csv");
    let mut file = std::fs::File::create(&csv).unwrap();
    writeln!(file, "text,intent").unwrap();
    for row in &rows {
        writeln!(file, "{},{}", row.text, row.label).unwrap();
    }
    drop(file);
    let out = temp.path().join("pack5000");
    let started = Instant::now();
    let import = Command::new(binary)
        .args([
            "import",
            csv.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let import_time = started.elapsed();
    assert!(import.status.success());
    let started = Instant::now();
    let check = Command::new(binary)
        .args([
            "check",
            "--intents",
            out.to_str().unwrap(),
            "--dialogs",
            temp.path().join("none").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let check_time = started.elapsed();
    println!(
        "5000 labels ({} rows): import {:.2} s, check {:.2} s, total {:.2} s (target < 3 s); check exit {:?}",
        rows.len(),
        import_time.as_secs_f64(),
        check_time.as_secs_f64(),
        (import_time + check_time).as_secs_f64(),
        check.status.code()
    );
    // One intent file of 40,000 examples (20,000 per language) beside a
    // small one: `check` must stay linear in a file's size (a position per
    // example once counted lines from the file's start: 30 s here).
    let big = temp.path().join("big");
    std::fs::create_dir(&big).unwrap();
    for (id, count) in [("bulk", 20_000), ("other", 100)] {
        let mut file = std::fs::File::create(big.join(format!("{id}.toml"))).unwrap();
        writeln!(file, "id = \"{id}\"").unwrap();
        for (lang, prefix) in [("zh", "提币"), ("en", "withdrawal")] {
            writeln!(file, "[{lang}]\nanswer = \"{id}\"\nexamples = [").unwrap();
            for (n, row) in synthetic_rows(count / 5, 5).iter().enumerate() {
                writeln!(file, "  \"{prefix} {} {id} {n}\",", row.text).unwrap();
            }
            writeln!(file, "]").unwrap();
        }
    }
    let started = Instant::now();
    let check = Command::new(binary)
        .args(["check", "--intents", big.to_str().unwrap(), "--dialogs"])
        .arg(temp.path().join("none"))
        .output()
        .unwrap();
    println!(
        "check of a 40,000-example file: {:.2} s (target < 3 s); exit {:?}",
        started.elapsed().as_secs_f64(),
        check.status.code()
    );
    let (sources, _) = import_pack(&rows, "pack5000");
    let set = compile(&sources, &CompileOptions::default()).unwrap().set;
    let messages: Vec<String> = synthetic_rows(5000, 1)
        .into_iter()
        .map(|r| r.text)
        .step_by(5)
        .collect();
    let (p50, p99) = percentiles(&set, &messages);
    println!(
        "5000-label pack classify: median {p50:.1} µs, p99 {p99:.1} µs (target p99 < 2000 µs)"
    );

    // The default pack on the repo's own labelled messages.
    let default_set = kefu::pack::load(
        &root.join("intents"),
        &root.join("dialogs"),
        CompileOptions::default(),
    )
    .unwrap()
    .set;
    let labelled = read_labelled(&root.join("tests/data/default_pack_eval.csv")).unwrap();
    let mut messages: Vec<String> = Vec::new();
    for _ in 0..20 {
        messages.extend(labelled.iter().map(|r| r.text.clone()));
    }
    let (p50, p99) = percentiles(&default_set, &messages);
    println!("default pack classify ({} calls): median {p50:.1} µs, p99 {p99:.1} µs (targets 20 / 100 µs)", messages.len());

    // Chat start-up: spawn, answer one line, quit.
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let mut child = Command::new(binary)
            .arg("chat")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all("你好\n/quit\n".as_bytes())
            .unwrap();
        child.wait().unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "kefu chat start → first answer → exit: median {:.0} ms (target ≤ 300 ms)",
        times[times.len() / 2]
    );
    if let Ok(output) = Command::new("/usr/bin/time")
        .args(["-f", "%M", binary, "chat"])
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
    {
        let rss = String::from_utf8_lossy(&output.stderr)
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        println!("kefu chat peak RSS: {rss} KB (target ≤ 80 MB)");
    }

    // BANKING77, when the shared data is there.
    let banking = root.join("../shared/data/banking77/train.csv");
    if let Ok(rows) = read_labelled(&banking) {
        let (sources, _) = import_pack(&rows, "banking77");
        let started = Instant::now();
        let set = compile(&sources, &CompileOptions::default()).unwrap().set;
        let compile_time = started.elapsed();
        let messages: Vec<String> = rows.iter().step_by(5).map(|r| r.text.clone()).collect();
        let (p50, p99) = percentiles(&set, &messages);
        println!(
            "BANKING77 pack: compile {:.2} s; classify median {p50:.1} µs, p99 {p99:.1} µs (target median ≤ 200 µs)",
            compile_time.as_secs_f64()
        );
    } else {
        println!("BANKING77 not found at {}: skipped", banking.display());
    }
}
