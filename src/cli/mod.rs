//! The `kefu` command line: argument parsing and exit codes, decided here and
//! nowhere else. 0 = success, 1 = a check found problems, 2 = usage or IO
//! error.

mod check;
mod eval;
mod import;
mod matching;
mod report;
mod testing;
mod tickets;

pub use eval::{cross_validate, evaluate, predict, Metrics, Prediction};
pub use import::{import_pack, read_labelled, ImportSummary, LabelledRow};
pub use tickets::tickets_json;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::intent::{CompileOptions, Compiled};
use crate::pack::{self, LoadError};

#[derive(Parser, Debug)]
#[command(
    name = "kefu",
    version,
    about = "kefu 客服: a bilingual customer-service bot for a crypto exchange"
)]
pub struct Cli {
    /// Directory of intent files.
    #[arg(long, global = true, default_value = "intents", env = "KEFU_INTENTS")]
    pub intents: PathBuf,
    /// Directory of dialog files.
    #[arg(long, global = true, default_value = "dialogs", env = "KEFU_DIALOGS")]
    pub dialogs: PathBuf,
    /// The configuration file (default: ./kefu.toml if it exists).
    #[arg(long, global = true, env = "KEFU_CONFIG")]
    pub config: Option<PathBuf>,
    /// Override the pack's minimum score for a match.
    #[arg(long, global = true, value_name = "SCORE")]
    pub min_score: Option<f32>,
    /// Override the pack's minimum margin between the best two intents.
    #[arg(long, global = true, value_name = "MARGIN")]
    pub min_margin: Option<f32>,
    /// Training passes (tuning).
    #[arg(long, global = true, hide = true)]
    pub epochs: Option<usize>,
    /// Training step cap (tuning).
    #[arg(long, global = true, hide = true)]
    pub aggressiveness: Option<f32>,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The configuration: the named file (which must exist), else
    /// `./kefu.toml` if present, else the defaults; then the environment.
    pub fn config(&self) -> anyhow::Result<crate::config::Config> {
        match &self.config {
            Some(path) => crate::config::Config::load(path, true),
            None => crate::config::Config::load(std::path::Path::new("kefu.toml"), false),
        }
    }

    /// Compile options with the command line's overrides.
    pub fn compile_options(&self) -> CompileOptions {
        let mut options = CompileOptions::default();
        if let Some(min_score) = self.min_score {
            options.settings.min_score = min_score;
        }
        if let Some(min_margin) = self.min_margin {
            options.settings.min_margin = min_margin;
        }
        if let Some(epochs) = self.epochs {
            options.train.epochs = epochs;
        }
        if let Some(aggressiveness) = self.aggressiveness {
            options.train.aggressiveness = aggressiveness;
        }
        options
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Chat with the bot in the terminal (no Telegram token needed).
    Chat {
        /// Where conversations and tickets are kept.
        #[arg(long, env = "KEFU_DATA", default_value = "data")]
        data: PathBuf,
        /// Also play the agents' side: show what agents see, and run agent
        /// commands typed after `!` (`!queue`, `!take 1`, `!reply 1 …`, `!resolve 1`).
        #[arg(long)]
        desk: bool,
    },
    /// Validate every intent and dialog file; report all problems.
    Check {
        /// Print diagnostics as JSON.
        #[arg(long)]
        json: bool,
        /// Fail (exit 1) on warnings too, e.g. in CI.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Classify one message and explain the verdict.
    #[command(name = "match")]
    Match {
        /// The message.
        text: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Measure accuracy on a labelled CSV (columns `text` and `intent` or `category`).
    Eval {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// List the misclassified rows.
        #[arg(long)]
        errors: bool,
        /// K-fold cross-validation on this file alone (import K-1 folds, test the rest).
        #[arg(long, value_name = "K")]
        cv: Option<usize>,
        /// Write a confusion matrix and a confidence histogram (SVG) and a
        /// threshold sweep (CSV) into this directory.
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
    },
    /// Write an intent pack from a labelled CSV.
    Import {
        file: PathBuf,
        /// Output directory (created; existing intent files there are replaced).
        #[arg(long)]
        out: PathBuf,
    },
    /// Replay transcript tests (default: every file in tests/transcripts).
    Test {
        /// Transcript files or directories.
        files: Vec<PathBuf>,
    },
    /// Answer users on Telegram (token from TELOXIDE_TOKEN).
    Serve(ServeArgs),
    /// List tickets.
    Tickets {
        #[arg(long, env = "KEFU_DATA", default_value = "data")]
        data: PathBuf,
        /// Read from a running `kefu serve` (its --admin address) instead.
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// Only tickets with this status (queued, assigned, waiting_on_user, resolved, closed, open).
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Recover a data directory kefu refused to open: move the damaged
    /// parts into a dated folder inside it and keep what can be kept.
    Recover {
        #[arg(long, env = "KEFU_DATA", default_value = "data")]
        data: PathBuf,
    },
    /// Show one ticket in full.
    Ticket {
        /// The ticket number (T-000123 or 123).
        number: String,
        #[arg(long, env = "KEFU_DATA", default_value = "data")]
        data: PathBuf,
        /// Read from a running `kefu serve` (its --admin address) instead.
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// `kefu serve`'s options.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where conversations and tickets are kept.
    #[arg(long, env = "KEFU_DATA", default_value = "data")]
    pub data: PathBuf,
    /// Receive updates by webhook at this public URL (listening on the
    /// config's `webhook_listen`) instead of long polling.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// Admin endpoint (/healthz, /metrics, /tickets); default from the
    /// config's `[serve] admin`.
    #[arg(long, value_name = "ADDR")]
    pub admin: Option<String>,
    /// Send as fast as the API answers, ignoring Telegram's rate limits
    /// (for load tests against a local fake server only).
    #[arg(long)]
    pub no_throttle: bool,
    /// Long-polling timeout in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub poll_timeout: u32,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match run(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("kefu: {error:#}");
            2
        }
    };
    ExitCode::from(code)
}

fn run(cli: &Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Chat { data, desk } => {
            let config = cli.config()?;
            // Opening the database and compiling the pack are independent:
            // do both at once, so start-up costs the longer, not the sum.
            let (loaded, store) = std::thread::scope(|scope| {
                let store = scope.spawn(|| crate::store::SledStore::open(data));
                let loaded = load_bot_or_report(cli, &config);
                (loaded, store.join())
            });
            let store = store.map_err(|_| anyhow::anyhow!("opening the store panicked"))??;
            let Some(loaded) = loaded? else {
                return Ok(1);
            };
            let mut app = crate::app::App::new(&loaded.bot, &store, &config);
            if *desk {
                app.desk.group = Some(crate::console::CONSOLE_DESK);
                app.desk.agents.push(crate::config::Agent {
                    id: crate::console::CONSOLE_AGENT,
                    name: "operator".into(),
                    role: crate::config::Role::Supervisor,
                });
            }
            let stdin = std::io::stdin();
            let interactive = std::io::IsTerminal::is_terminal(&stdin);
            let clock = || {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64)
            };
            crate::console::run(
                &app,
                &clock,
                stdin.lock(),
                std::io::stdout().lock(),
                interactive,
            )?;
            Ok(0)
        }
        Command::Check {
            json,
            deny_warnings,
        } => check::run(
            &cli.intents,
            &cli.dialogs,
            cli.compile_options(),
            check::Output {
                json: *json,
                deny_warnings: *deny_warnings,
            },
        ),
        Command::Match { text, json } => {
            let Some(compiled) = load_or_report(cli)? else {
                return Ok(1);
            };
            matching::run(&compiled.set, text, *json)
        }
        Command::Eval {
            file,
            json,
            errors,
            cv,
            report,
        } => {
            let rows = import::read_labelled(file)?;
            let output = eval::Output {
                json: *json,
                errors: *errors,
                report: report.clone(),
            };
            match cv {
                Some(k) => eval::run_cross_validation(&rows, *k, &cli.compile_options(), &output),
                None => {
                    let Some(compiled) = load_or_report(cli)? else {
                        return Ok(1);
                    };
                    eval::run(&compiled.set, &rows, &output)
                }
            }
        }
        Command::Import { file, out } => import::run(file, out),
        Command::Test { files } => {
            let config = cli.config()?;
            let Some(loaded) = load_bot_or_report(cli, &config)? else {
                return Ok(1);
            };
            testing::run(&loaded.bot, files)
        }
        Command::Serve(args) => {
            let config = cli.config()?;
            if config.telegram_token.is_none() {
                anyhow::bail!(crate::telegram::MISSING_TOKEN);
            }
            let Some(loaded) = load_bot_or_report(cli, &config)? else {
                return Ok(1);
            };
            crate::telegram::run(crate::telegram::ServeOptions {
                bot: loaded.bot,
                config,
                data: args.data.clone(),
                intents: cli.intents.clone(),
                dialogs: cli.dialogs.clone(),
                compile: cli.compile_options(),
                webhook_url: args.webhook_url.clone(),
                admin: args.admin.clone(),
                throttle: !args.no_throttle,
                poll_timeout: args.poll_timeout,
            })
        }
        Command::Tickets {
            data,
            server,
            status,
            json,
        } => {
            let config = cli.config()?;
            tickets::list(source(data, server, &config), status.as_deref(), *json)
        }
        Command::Ticket {
            number,
            data,
            server,
            json,
        } => {
            let config = cli.config()?;
            tickets::show(source(data, server, &config), number, *json)
        }
        Command::Recover { data } => recover(data),
    }
}

/// `kefu recover`: says what was wrong, what moved where, and what was
/// kept.
fn recover(data: &std::path::Path) -> anyhow::Result<u8> {
    let recovery = crate::store::SledStore::recover(data, std::time::SystemTime::now().into())?;
    let Some(what) = &recovery.what else {
        println!(
            "{}: nothing to recover (the store opens as it is)",
            data.display()
        );
        return Ok(0);
    };
    println!("found: {what}");
    for path in &recovery.moved {
        println!("set aside: {}", path.display());
    }
    let report = &recovery.report;
    if report.damaged {
        println!(
            "journal salvaged: {} entries replayed, {} damaged entries lost",
            report.replayed, report.lost
        );
    }
    let tickets = crate::store::Store::tickets(&recovery.store)?.len();
    println!(
        "the store in {} opens now ({tickets} tickets); start kefu as usual",
        data.display()
    );
    Ok(0)
}

fn source<'a>(
    data: &'a std::path::Path,
    server: &'a Option<String>,
    config: &'a crate::config::Config,
) -> tickets::Source<'a> {
    match server {
        Some(url) => tickets::Source::Server(url, config.admin_token.as_ref()),
        None => tickets::Source::Data(data),
    }
}

/// Loads intents and dialogs; on problems prints them and returns `None`
/// (exit 1). IO errors propagate (exit 2).
fn load_bot_or_report(
    cli: &Cli,
    config: &crate::config::Config,
) -> anyhow::Result<Option<pack::Loaded>> {
    match pack::load_bot(
        &cli.intents,
        &cli.dialogs,
        cli.compile_options(),
        config.brain_settings(),
    ) {
        Ok(loaded) => Ok(Some(loaded)),
        Err(LoadError::Invalid(problems)) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!(
                "kefu: the pack in {} and {} has problems; run `kefu check`",
                cli.intents.display(),
                cli.dialogs.display()
            );
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// Loads the pack; on problems prints them and returns `None` (exit 1). IO
/// errors propagate (exit 2).
fn load_or_report(cli: &Cli) -> anyhow::Result<Option<Compiled>> {
    let intents = &cli.intents;
    match pack::load(intents, &cli.dialogs, cli.compile_options()) {
        Ok(compiled) => Ok(Some(compiled)),
        Err(LoadError::Invalid(problems)) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!(
                "kefu: the pack in {} has problems; run `kefu check`",
                intents.display()
            );
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}
