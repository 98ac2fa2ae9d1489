//! Load bench for `kefu serve`: 50 concurrent users through the fake Bot
//! API server (tests/support/fake_api.rs) on loopback, next to a minimal
//! teloxide echo bot under the same load. Prints messages/s, p50/p99
//! reply latency (an update queued → its first reply received by the
//! server) and the bot process's peak RSS.
//!
//! Both bots run with Telegram's rate limits off (`kefu serve
//! --no-throttle`; the echo bot has no throttle): with them on, 1 message
//! a second per chat would be all either could do.
//!
//! The machines this runs on are shared and their speed drifts, so the
//! two bots take turns: KEFU_BENCH_TRIALS (default 5) trials, each
//! measuring both, the order swapped every trial; the summary gives the
//! medians and the ratios of the medians.
//!
//! Each user's first exchange is a warm-up for both bots (the bot meets a
//! new chat), not measured; then 200 messages each, so a run lasts about a
//! second and includes the store's checkpoints.
//!
//! `cargo bench --bench serve` (KEFU_BENCH_USERS, KEFU_BENCH_ROUNDS to
//! change the load; KEFU_BENCH_THREADS, default 1, for the threads of the
//! load generator and fake server; KEFU_BENCH_KEFU, a kefu binary other
//! than this build's, to compare two builds). The bench re-runs itself with
//! KEFU_BENCH_ECHO=1 to be the echo bot, so both bots are separate
//! processes measured alike.

#[path = "../tests/support/fake_api.rs"]
mod fake_api;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_api::{FakeApi, TOKEN};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::var_os("KEFU_BENCH_ECHO").is_some() {
        return echo_bot();
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let users = env_number("KEFU_BENCH_USERS", 50);
    let rounds = env_number("KEFU_BENCH_ROUNDS", 200);
    let trials = env_number("KEFU_BENCH_TRIALS", 5).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(env_number("KEFU_BENCH_THREADS", 1))
        .enable_all()
        .build()
        .unwrap();
    println!("{users} concurrent users, {rounds} messages each, rate limits off, fake Bot API on loopback; {trials} trials, the bots taking turns");
    let header = || {
        println!(
            "{:<9} {:>10} {:>9} {:>9} {:>9} {:>12} {:>13}",
            "bot", "msgs/s", "p50 ms", "p99 ms", "RSS MB", "CPU µs/msg", "load µs/msg"
        )
    };
    let row = |name: &str, r: &Results| {
        println!(
            "{name:<9} {:>10.0} {:>9.1} {:>9.1} {:>9.1} {:>12.0} {:>13.0}",
            r.throughput, r.p50_ms, r.p99_ms, r.rss_mb, r.cpu_us_per_message, r.load_us_per_message
        )
    };
    header();
    let (mut echo, mut kefu) = (Vec::new(), Vec::new());
    for trial in 0..trials {
        let order = if trial % 2 == 0 {
            ["echo", "kefu"]
        } else {
            ["kefu", "echo"]
        };
        for bot in order {
            let r = runtime.block_on(measure(bot, users, rounds));
            row(bot, &r);
            if bot == "echo" { &mut echo } else { &mut kefu }.push(r);
        }
    }
    // For context: what replies as long as kefu's longest cost the echo bot.
    let long = runtime.block_on(measure("echo-long", users, rounds));
    row("echo-long", &long);
    let (echo, kefu) = (Results::median(&echo), Results::median(&kefu));
    println!("medians of {trials} trials:");
    header();
    row("echo", &echo);
    row("kefu", &kefu);
    println!(
        "kefu/echo: throughput {:.2}x (target >= 0.8), p99 {:.2}x (target <= 2), RSS {:.0} MB (target <= 100), CPU per message {:.2}x",
        kefu.throughput / echo.throughput,
        kefu.p99_ms / echo.p99_ms,
        kefu.rss_mb,
        kefu.cpu_us_per_message / echo.cpu_us_per_message
    );
}

/// A minimal teloxide echo bot (the yardstick). With KEFU_BENCH_ECHO=long
/// (`echo-long`, for context only) it pads each reply to the length of
/// kefu's longest answer in the script, to show what reply size alone costs.
const LONG_REPLY_CHARS: usize = 1_500;

fn echo_bot() {
    use teloxide::prelude::*;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let bot = Bot::from_env();
        let long = std::env::var("KEFU_BENCH_ECHO").is_ok_and(|v| v == "long");
        let handler = Update::filter_message().endpoint(move |bot: Bot, msg: Message| async move {
            let text = msg.text().unwrap_or("?");
            let reply = if long {
                text.repeat(LONG_REPLY_CHARS / text.len().max(1) + 1)
            } else {
                text.to_string()
            };
            bot.send_message(msg.chat.id, reply).await?;
            respond(())
        });
        Dispatcher::builder(bot, handler).build().dispatch().await;
    });
}

struct Results {
    throughput: f64,
    p50_ms: f64,
    p99_ms: f64,
    rss_mb: f64,
    /// The bot process's CPU time (user + system) per message under load:
    /// steadier than messages/s on a shared machine.
    cpu_us_per_message: f64,
    /// This process's (the load generator's and the fake server's) CPU
    /// time per message: what each bot's requests cost the other side.
    load_us_per_message: f64,
}

impl Results {
    /// Each figure's median over trials (the peak RSS: the largest).
    fn median(all: &[Results]) -> Results {
        let median = |f: fn(&Results) -> f64| {
            let mut v: Vec<f64> = all.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        Results {
            throughput: median(|r| r.throughput),
            p50_ms: median(|r| r.p50_ms),
            p99_ms: median(|r| r.p99_ms),
            rss_mb: all.iter().map(|r| r.rss_mb).fold(0.0, f64::max),
            cpu_us_per_message: median(|r| r.cpu_us_per_message),
            load_us_per_message: median(|r| r.load_us_per_message),
        }
    }
}

/// A process's CPU time so far (user + system), in microseconds.
fn cpu_us(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the
    // 12th, stime the 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz * 1e6
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn spawn(bot: &str, api: &FakeApi, data: &std::path::Path, rounds: usize) -> Child {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut command = if bot.starts_with("echo") {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.env("KEFU_BENCH_ECHO", if bot == "echo" { "1" } else { "long" });
        c
    } else {
        let binary = std::env::var("KEFU_BENCH_KEFU")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_kefu").to_string());
        let mut c = Command::new(binary);
        c.arg("--intents")
            .arg(format!("{root}/intents"))
            .arg("--dialogs")
            .arg(format!("{root}/dialogs"))
            .arg("--config")
            .arg(data.join("none.toml"))
            .arg("serve")
            .arg("--no-throttle")
            .arg("--data")
            .arg(data.join("data"));
        c
    };
    // Flood control would stop a bench user (who writes as fast as the
    // bot answers) after a few messages: raised above what one sends.
    std::fs::write(
        data.join("none.toml"),
        format!("[limits]\nflood_messages = {}\n", rounds + 10),
    )
    .unwrap();
    command
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", &api.url)
        .env(
            "RUST_LOG",
            std::env::var("KEFU_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env_remove("KEFU_ADMIN")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// What each user says, in a loop: `/start` resets the conversation, so
/// every round gets the same answers.
const SCRIPT: [&str; 2] = ["/start", "how long does a withdrawal take"];

async fn measure(bot: &str, users: usize, rounds: usize) -> Results {
    let api = Arc::new(FakeApi::start_async().await);
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(bot, &api, dir.path(), rounds);
    // Ready once it polls.
    let start = Instant::now();
    while api.calls_to("getUpdates").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{bot} did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // How many replies each line gets (the echo bot: one). Asked of both
    // bots alike, so this first exchange warms both up alike.
    let mut replies = vec![1usize; SCRIPT.len()];
    {
        let chat = 1;
        let mut seen = api.watch_chat(chat);
        for (i, line) in SCRIPT.iter().enumerate() {
            api.send_text(chat, "en", line);
            let mut count = 0;
            while let Ok(Some(_)) =
                tokio::time::timeout(Duration::from_millis(700), seen.recv()).await
            {
                count += 1;
            }
            replies[i] = count.max(1);
        }
    }
    // Every user's first exchange (the bot meets the chat: a new session,
    // a new per-chat task) is a warm-up, not measured; the clock starts
    // once all users are past it.
    let warmed = Arc::new(tokio::sync::Barrier::new(users + 1));
    let mut tasks = Vec::new();
    for user in 0..users as i64 {
        let api = api.clone();
        let replies = replies.clone();
        let warmed = warmed.clone();
        tasks.push(tokio::spawn(async move {
            let chat = 10_000 + user;
            let mut seen = api.watch_chat(chat);
            let mut latencies = Vec::with_capacity(rounds);
            for round in 0..=rounds {
                if round == 1 {
                    warmed.wait().await;
                }
                let line = round % SCRIPT.len();
                let sent = Instant::now();
                api.send_text(chat, "en", SCRIPT[line]);
                for reply in 0..replies[line] {
                    let at = tokio::time::timeout(Duration::from_secs(30), seen.recv())
                        .await
                        .expect("a reply within 30 s")
                        .expect("watcher open");
                    if reply == 0 && round > 0 {
                        latencies.push(at - sent);
                    }
                }
            }
            latencies
        }));
    }
    warmed.wait().await;
    let cpu_before = cpu_us(child.id());
    let load_before = cpu_us(std::process::id());
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let cpu = cpu_us(child.id()) - cpu_before;
    let load = cpu_us(std::process::id()) - load_before;
    let rss_mb = peak_rss_mb(child.id());
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    Results {
        throughput: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        rss_mb,
        cpu_us_per_message: cpu / latencies.len() as f64,
        load_us_per_message: load / latencies.len() as f64,
    }
}
