//! The brain's cost per turn on the default pack with its dialogs: guard,
//! classify (when needed), dialog step and the session write to a real
//! store in a temporary directory (its journal file; without fsync, which
//! the app does once per turn or batch and which depends on the disk, not
//! on kefu). Target: median ≤ 50 µs.
//!
//! `cargo bench --bench turn`

use std::path::Path;
use std::time::Instant;

use kefu::brain::{step, Input, Session, Settings};
use kefu::intent::CompileOptions;
use kefu::store::{SledStore, Store};

/// A mix of conversations: dialogs entered, answered, cancelled, and plain
/// answers. Each turn is processed whatever the dialogs say.
const TURNS: &[&str] = &[
    "my usdt withdrawal hasn't arrived after 3 hours",
    "USDT",
    "TRC20",
    "2",
    "/cancel",
    "充值没到账",
    "USDT",
    "波场",
    "/cancel",
    "hello",
    "我的账号被冻结了",
    "1",
    "/cancel",
    "is this telegram account really your staff?",
    "/cancel",
    "how long does kyc review take",
    "thanks",
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bot = kefu::pack::load_bot(
        &root.join("intents"),
        &root.join("dialogs"),
        CompileOptions::default(),
        Settings::default(),
    )
    .expect("the default pack loads")
    .bot;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SledStore::open(dir.path()).expect("a store");
    let rounds = 300;
    let mut step_only = Vec::new();
    let mut with_store = Vec::new();
    let mut now = 1_767_578_400;
    for round in 0..rounds {
        let chat = round as i64 + 1;
        let mut session = Session::default();
        for turn in TURNS {
            now += 5;
            let started = Instant::now();
            let (next, effects) = step(&bot, &session, Input::Text(turn), now);
            let stepped = started.elapsed();
            store.save_session(chat, &next).expect("session saved");
            let total = started.elapsed();
            std::hint::black_box(effects);
            session = next;
            step_only.push(stepped.as_secs_f64() * 1e6);
            with_store.push(total.as_secs_f64() * 1e6);
        }
    }
    let report = |name: &str, mut micros: Vec<f64>| {
        micros.sort_by(f64::total_cmp);
        let at = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize];
        println!(
            "{name:<32} median {:>7.1} µs   p90 {:>7.1} µs   p99 {:>7.1} µs   ({} turns)",
            at(0.5),
            at(0.9),
            at(0.99),
            micros.len()
        );
    };
    report("brain step", step_only);
    report("brain step + session write", with_store);
}
