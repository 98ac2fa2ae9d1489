//! `kefu serve`: the Telegram adapter, the only module that imports
//! teloxide.
//!
//! Updates become the same [`App::handle`](crate::app::App::handle) calls
//! as the terminal chat; replies become Telegram messages with inline
//! keyboards. The pieces:
//!
//! - [`run`] — the token, the store, the runtime, startup and shutdown.
//! - `receive` — long polling or a webhook, in batches: a batch is decided,
//!   recorded and flushed once before Telegram is told it arrived and
//!   before any reply goes out; then each chat's steps are taken in order
//!   by that chat's task (chats in parallel).
//! - `batch` — the store as a batch sees it (sessions, update ids and
//!   replies staged, then written at once) and the batch loop.
//! - `handle` — one update, synchronously: flood control, then the brain
//!   or the desk; what to do in Telegram comes back as steps.
//! - `parse` — a `getUpdates` answer or a webhook post read update by
//!   update: an unreadable one is skipped, not the batch.
//! - `send` — the steps in Telegram: the outbox (rate limits, 429s waited
//!   out, failures retried until they go through, long texts split,
//!   keyboards), button answers, edits, deletions.
//! - `reload` — the pack swapped whole when its files change, on SIGHUP or
//!   a supervisor's `/reload`, only if it loads cleanly.
//! - `desk` — the agents' group: commands, card buttons, replies to cards.
//!
//! Why not teloxide's `Dispatcher`: it confirms updates to Telegram as it
//! fetches them, before they are handled, so a crash would lose them. Our
//! own loop confirms a batch only once its records are durable; the
//! per-chat ordering of replies is the same as the Dispatcher's.

mod api;
mod batch;
mod desk;
mod handle;
mod limits;
mod parse;
mod receive;
mod reload;
mod send;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use teloxide::requests::Requester;
use teloxide::types::BotCommand;

use crate::admin::Metrics;
use crate::config::Config;
use crate::intent::CompileOptions;
use crate::lang::Lang;
use crate::store::{SledStore, Store};

/// Everything `kefu serve` needs, decided by the command line.
pub struct ServeOptions {
    pub bot: crate::brain::Bot,
    pub config: Config,
    pub data: PathBuf,
    pub intents: PathBuf,
    pub dialogs: PathBuf,
    pub compile: CompileOptions,
    pub webhook_url: Option<String>,
    pub admin: Option<String>,
    /// Respect Telegram's rate limits (off only for load tests).
    pub throttle: bool,
    pub poll_timeout: u32,
}

/// What every task shares.
pub(crate) struct Shared {
    /// The pack in use; a reload swaps it whole.
    pub pack: ArcSwap<crate::brain::Bot>,
    pub store: Arc<SledStore>,
    pub config: Config,
    pub sender: send::Sender,
    pub metrics: Arc<Metrics>,
    pub flood: handle::Flood,
    pub intents: PathBuf,
    pub dialogs: PathBuf,
    pub compile: CompileOptions,
    /// Asks the reloader for a reload; `Some(chat)`: say how it went there
    /// (a supervisor's `/reload`).
    pub reload: tokio::sync::mpsc::Sender<Option<i64>>,
}

/// The one-line error when there is no token.
pub const MISSING_TOKEN: &str = "TELOXIDE_TOKEN is not set: export the bot token from @BotFather (and TELOXIDE_API_URL for another Bot API server)";

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Runs `kefu serve` until SIGTERM or Ctrl-C; returns the exit code.
pub fn run(options: ServeOptions) -> anyhow::Result<u8> {
    init_logging(&options.config);
    let Some(token) = options.config.telegram_token.clone() else {
        anyhow::bail!(MISSING_TOKEN);
    };
    let api_url = match &options.config.telegram_api_url {
        Some(url) => Some(
            reqwest::Url::parse(url)
                .map_err(|e| anyhow::anyhow!("TELOXIDE_API_URL `{url}` is not a URL: {e}"))?,
        ),
        None => None,
    };
    let store = Arc::new(SledStore::open(&options.data)?);
    // The async threads only talk to the network (Telegram allows a bot
    // about 30 messages a second, which one thread sends with room to
    // spare); deciding batches, the store and reloads run on the blocking
    // pool. One network thread by default: a second one measured more CPU
    // per message under load (threads waking each other), not more
    // messages. The pool is bounded: each extra thread costs a stack and a
    // malloc arena, and group commit lets the store's waiting callers
    // share one fsync anyway.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.config.threads)
        .max_blocking_threads(32)
        .enable_all()
        .build()?;
    // A task on the runtime's threads: `block_on` would poll it (the
    // polling loop, and so every batch's answer) on this thread, a second
    // network thread besides `threads`, and each batch would wake a thread
    // across. Measured alternately in one bench run, as a task it was
    // ahead in every pair (0-39% more messages a second).
    let served = store.clone();
    let code = runtime.block_on(async move {
        tokio::spawn(serve(options, token.0, api_url, served))
            .await
            .map_err(anyhow::Error::from)?
    });
    // Handlers still blocked in the store finish before the database closes.
    runtime.shutdown_timeout(Duration::from_secs(10));
    store.flush()?;
    code
}

fn init_logging(config: &Config) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(config.log_filter.as_deref().unwrap_or("info"))
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn serve(
    options: ServeOptions,
    token: String,
    api_url: Option<reqwest::Url>,
    store: Arc<SledStore>,
) -> anyhow::Result<u8> {
    let client = teloxide::net::default_reqwest_settings()
        .timeout(Duration::from_secs(u64::from(options.poll_timeout) + 10))
        .build()?;
    let mut bot = teloxide::Bot::with_client(token, client);
    if let Some(url) = api_url {
        bot = bot.set_api_url(url);
    }
    let me = match bot.get_me().await {
        Ok(me) => me,
        Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
            anyhow::bail!("Telegram rejected the token in TELOXIDE_TOKEN (Unauthorized): check it with @BotFather")
        }
        Err(e) => anyhow::bail!("cannot reach the Bot API: {}", loggable(&e)),
    };
    tracing::info!(bot = %me.username(), id = me.id.0, "connected");
    let metrics = Arc::new(Metrics::default());
    let config = options.config;
    match config.agents_group {
        Some(group) => tracing::info!(
            group,
            agents = config.agents.len(),
            "agents' group configured"
        ),
        None => tracing::info!(
            "no agents' group configured: handoffs wait in the queue (see `kefu tickets`)"
        ),
    }
    let sender = send::Sender::new(
        bot.clone(),
        options.throttle,
        metrics.clone(),
        store.clone(),
    );
    if !options.throttle {
        tracing::warn!(
            "rate limits off (--no-throttle): for load tests against a local server only"
        );
    }
    set_commands(&bot).await;
    let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(4);
    let shared = Arc::new(Shared {
        pack: ArcSwap::from_pointee(options.bot),
        store: store.clone(),
        flood: handle::Flood::new(config.flood_messages, config.flood_window),
        config,
        sender,
        metrics: metrics.clone(),
        intents: options.intents,
        dialogs: options.dialogs,
        compile: options.compile,
        reload: reload_tx.clone(),
    });

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    spawn_signals(stop_tx, reload_tx)?;

    let admin_address = options.admin.or_else(|| shared.config.admin.clone());
    let admin = match admin_address {
        Some(address) => {
            let mut stop = stop_rx.clone();
            Some(
                crate::admin::serve(
                    &address,
                    shared.config.admin_token.clone(),
                    store.clone() as Arc<dyn Store>,
                    metrics.clone(),
                    async move {
                        let _ = stop.wait_for(|s| *s).await;
                    },
                )
                .await?,
            )
        }
        None => None,
    };
    let reloader = tokio::spawn(reload::watch(shared.clone(), reload_rx, stop_rx.clone()));
    let ticker = tokio::spawn(desk::tick_every(shared.clone(), stop_rx.clone()));
    let sweeper = tokio::spawn(receive::sweep_delivered(shared.clone(), stop_rx.clone()));

    let mut dispatch = receive::Dispatch::new(shared.clone());
    receive::resume(&shared, &mut dispatch).await?;
    let receiving = async {
        match &options.webhook_url {
            Some(url) => receive::webhook(&bot, &shared, url, &mut dispatch, stop_rx.clone()).await,
            None => {
                receive::poll(
                    &bot,
                    &shared,
                    options.poll_timeout,
                    &mut dispatch,
                    stop_rx.clone(),
                )
                .await
            }
        }
    };
    // A store that cannot write (a full disk) ends receiving too, from
    // wherever it was noticed (a batch, the SLA sweep).
    let received = tokio::select! {
        received = receiving => received,
        why = metrics.store_failed() => Err(anyhow::anyhow!("the store cannot write: {why}")),
    };
    tracing::info!("stopping: finishing the updates in flight");
    // Messages that cannot be sent now wait for the next start.
    shared.sender.stop();
    dispatch.finish().await;
    reloader.abort();
    ticker.abort();
    sweeper.abort();
    if let Some(admin) = admin {
        if received.is_err() {
            // Not waiting for a signal that will not come: the process
            // must end so that a supervisor sees it and restarts it.
            admin.abort();
        }
        let _ = admin.await;
    }
    let last = shared.clone();
    tokio::task::spawn_blocking(move || last.sender.sweep_delivered()).await?;
    received?;
    store.flush()?;
    tracing::info!("stopped");
    Ok(0)
}

/// SIGTERM and Ctrl-C stop; SIGHUP reloads the pack.
fn spawn_signals(
    stop: tokio::sync::watch::Sender<bool>,
    reload: tokio::sync::mpsc::Sender<Option<i64>>,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = interrupt.recv() => break,
                _ = hangup.recv() => {
                    tracing::info!("SIGHUP: reloading the pack");
                    let _ = reload.try_send(None);
                }
            }
        }
        tracing::info!("signal received: stopping");
        let _ = stop.send(true);
    });
    Ok(())
}

/// The command menu in English (the default) and Chinese.
fn commands(lang: Lang) -> Vec<BotCommand> {
    [
        ("start", "重新开始", "Start over"),
        ("help", "帮助", "Help"),
        ("status", "我的工单", "My tickets"),
        ("human", "转人工客服", "Talk to a human"),
        ("cancel", "取消当前流程", "Cancel what we are doing"),
        ("lang", "切换语言：/lang en", "Language: /lang zh"),
        (
            "verify",
            "验证客服账号：/verify @账号",
            "Verify a staff account: /verify @handle",
        ),
        ("close", "关闭我的工单", "Close my tickets"),
    ]
    .into_iter()
    .map(|(name, zh, en)| BotCommand::new(name, lang.pick(zh, en)))
    .collect()
}

async fn set_commands(bot: &teloxide::Bot) {
    use teloxide::payloads::SetMyCommandsSetters;
    let en = bot.set_my_commands(commands(Lang::En)).await;
    let zh = bot
        .set_my_commands(commands(Lang::Zh))
        .language_code("zh")
        .await;
    if let Err(e) = en.and(zh) {
        tracing::warn!(error = %loggable(&e), "setMyCommands failed; the command menu may be out of date");
    }
}

/// A Bot API error fit for the log. teloxide's text for an answer it could
/// not read quotes the answer whole, and answers hold the texts of the
/// messages sent and of the users' updates; serde's own message can quote
/// a value too. So: what kind of error, and where.
pub(crate) fn loggable(error: &teloxide::RequestError) -> String {
    match error {
        teloxide::RequestError::InvalidJson { source, .. } => {
            format!(
                "unreadable answer from the Bot API ({})",
                json_error(source)
            )
        }
        other => other.to_string(),
    }
}

/// A JSON error without serde's message, which can quote the value it
/// choked on (a user's text): its kind and where.
pub(crate) fn json_error(error: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        error.classify(),
        error.line(),
        error.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_answers_are_logged_without_their_text() {
        let raw = r#"{"ok":true,"result":{"text":"my password is hunter2"}}"#;
        let source = serde_json::from_str::<i32>(raw).unwrap_err();
        let error = teloxide::RequestError::InvalidJson {
            source: Arc::new(source),
            raw: raw.into(),
        };
        assert!(error.to_string().contains("hunter2"), "teloxide quotes it");
        let logged = loggable(&error);
        assert!(!logged.contains("hunter2"), "{logged}");
        assert!(logged.contains("line 1"), "{logged}");
    }

    #[test]
    fn unreadable_updates_are_logged_without_the_value_serde_quotes() {
        let error = serde_json::from_str::<u32>(r#""my password is hunter2""#).unwrap_err();
        assert!(error.to_string().contains("hunter2"), "serde quotes it");
        let logged = json_error(&error);
        assert!(!logged.contains("hunter2"), "{logged}");
        assert!(logged.contains("Data error"), "{logged}");
    }
}
