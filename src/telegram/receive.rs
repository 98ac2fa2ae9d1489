//! Getting updates: long polling or a webhook, in batches. A batch is
//! decided on one blocking thread (the brain takes microseconds and never
//! waits on the network), recorded, and made durable with one flush; only
//! then is it confirmed to Telegram (the next `getUpdates` offset, or the
//! webhook's HTTP 200) and are its replies sent. A crash before the flush
//! loses nothing: Telegram delivers the batch again. Sending runs per chat:
//! one task per active chat takes that chat's steps in order; chats run in
//! parallel, and a slow chat never holds up the next batch.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use teloxide::payloads::SetWebhookSetters;
use teloxide::requests::{Request, Requester};
use teloxide::types::AllowedUpdate;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::batch::{decide_batch, Decided, Source};
use super::handle::{Plan, Step};
use super::Shared;
use crate::admin::bump;
use crate::store::Store;

/// A chat's sending task ends after this long without work.
const IDLE_WORKER: Duration = Duration::from_secs(60);
/// Updates decided together at most (Telegram's `getUpdates` limit).
const BATCH: usize = 100;

const ALLOWED: [AllowedUpdate; 3] = [
    AllowedUpdate::Message,
    AllowedUpdate::CallbackQuery,
    AllowedUpdate::MyChatMember,
];
/// The same, as `getUpdates` (posted by kefu) names them.
const ALLOWED_NAMES: [&str; 3] = ["message", "callback_query", "my_chat_member"];
/// The longest wait between two `getUpdates` after failures, or while
/// Telegram keeps handing back updates already confirmed.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(30);

type Chats = Arc<std::sync::Mutex<HashMap<i64, mpsc::UnboundedSender<Plan>>>>;

/// Per-chat sending queues and their tasks.
pub struct Dispatch {
    shared: Arc<Shared>,
    chats: Chats,
    workers: JoinSet<()>,
}

impl Dispatch {
    pub fn new(shared: Arc<Shared>) -> Dispatch {
        Dispatch {
            shared,
            chats: Arc::new(std::sync::Mutex::new(HashMap::new())),
            workers: JoinSet::new(),
        }
    }

    pub fn push(&mut self, plan: Plan) {
        let key = plan.chat;
        // A std mutex: never held across an await; the worker removes its
        // own entry under it, so a send here never reaches a worker that
        // already decided to stop.
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        let plan = match chats.get(&key) {
            Some(queue) => match queue.send(plan) {
                Ok(()) => return,
                Err(mpsc::error::SendError(plan)) => plan,
            },
            None => plan,
        };
        let (queue, plans) = mpsc::unbounded_channel();
        let _ = queue.send(plan);
        chats.insert(key, queue);
        drop(chats);
        self.workers
            .spawn(worker(key, plans, self.shared.clone(), self.chats.clone()));
        while self.workers.try_join_next().is_some() {}
    }

    /// Closes every queue and waits until the workers have taken the steps
    /// they were given.
    pub async fn finish(mut self) {
        self.chats.lock().unwrap_or_else(|e| e.into_inner()).clear();
        while self.workers.join_next().await.is_some() {}
    }
}

async fn worker(
    key: i64,
    mut plans: mpsc::UnboundedReceiver<Plan>,
    shared: Arc<Shared>,
    chats: Chats,
) {
    loop {
        match tokio::time::timeout(IDLE_WORKER, plans.recv()).await {
            Ok(Some(plan)) => {
                let mut received = Some(plan.received);
                for step in plan.steps {
                    shared.sender.take(step, &mut received).await;
                }
            }
            Ok(None) => return,
            Err(_) => {
                let mut chats = chats.lock().unwrap_or_else(|e| e.into_inner());
                if plans.is_empty() {
                    chats.remove(&key);
                    return;
                }
            }
        }
    }
}

/// Reads and decides a batch on the blocking pool.
async fn decide_async(
    shared: &Arc<Shared>,
    updates: Vec<bytes::Bytes>,
    source: Source,
) -> anyhow::Result<Decided> {
    let received = Instant::now();
    let deciding = shared.clone();
    let decided =
        tokio::task::spawn_blocking(move || decide_batch(&deciding, &updates, source, received))
            .await?;
    decided.map_err(|e| {
        shared.metrics.fail_store(&e.to_string());
        anyhow::anyhow!(
            "the store could not be written; stopping so that Telegram redelivers the updates: {e}"
        )
    })
}

/// After a restart: queues what was decided but not sent.
pub async fn resume(shared: &Arc<Shared>, dispatch: &mut Dispatch) -> anyhow::Result<()> {
    let store = shared.store.clone();
    let outbox = tokio::task::spawn_blocking(move || store.outbox()).await??;
    if outbox.is_empty() {
        return Ok(());
    }
    tracing::info!(
        messages = outbox.len(),
        "sending replies left unsent by the last run"
    );
    let now = Instant::now();
    for (id, message) in outbox {
        dispatch.push(Plan {
            chat: message.chat,
            received: now,
            steps: vec![Step::Deliver { id, message }],
        });
    }
    Ok(())
}

/// Drops delivered messages from the outbox [`ACK_SWEEP`] after a
/// delivery, until `stop` (each batch does it too; this covers quiet
/// times). Sleeps while nothing is delivered.
///
/// [`ACK_SWEEP`]: super::send::ACK_SWEEP
pub async fn sweep_delivered(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shared.sender.delivered_news.notified() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let takes = shared.sender.takes.load(Ordering::Acquire);
        tokio::time::sleep(super::send::ACK_SWEEP).await;
        if shared.sender.takes.load(Ordering::Acquire) != takes {
            // A batch came meanwhile and took them with its flush.
            continue;
        }
        let shared = shared.clone();
        let _ = tokio::task::spawn_blocking(move || shared.sender.sweep_delivered()).await;
    }
}

/// Long polling until `stop`. A rejected token ends it with an error.
///
/// `getUpdates` is posted and its answer read by kefu ([`super::api`],
/// [`super::parse`]): each update on its own, so an unreadable one is
/// skipped and the offset still moves past it. The offset is the batch's
/// highest id plus one, even when that is lower than before (Telegram
/// restarted its ids). If Telegram hands back a batch with no id that the
/// previous batch did not have (it ignored the offset, or no id could be
/// read), the next request waits, longer each time up to
/// [`MAX_POLL_BACKOFF`]: the same updates can never make a busy loop.
pub async fn poll(
    bot: &teloxide::Bot,
    shared: &Arc<Shared>,
    timeout: u32,
    dispatch: &mut Dispatch,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    if let Err(e) = bot.delete_webhook().send().await {
        tracing::warn!(error = %super::loggable(&e), "deleteWebhook failed");
    }
    let api = super::api::Api::new(bot);
    let mut offset: Option<i64> = None;
    let mut failures = 0u32;
    // The ids of the last batch, and how many batches in a row brought
    // nothing new.
    let mut previous: Vec<Option<i64>> = Vec::new();
    let mut repeats = 0u32;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let result = tokio::select! {
            result = api.get_updates(offset, timeout, BATCH, &ALLOWED_NAMES) => result,
            _ = stop.wait_for(|s| *s) => return Ok(()),
        };
        let result = result.and_then(|body| match super::parse::result_elements(&body) {
            Some(ranges) => Ok(ranges.into_iter().map(|r| body.slice(r)).collect()),
            None => Err(teloxide::RequestError::Io(Arc::new(std::io::Error::other(
                "an answer to getUpdates without a readable result",
            )))),
        });
        let wait = match result {
            Ok(updates) => {
                failures = 0;
                let updates: Vec<bytes::Bytes> = updates;
                if updates.is_empty() {
                    continue;
                }
                // Confirmed to Telegram by the next request, which is sent
                // only once the batch is durable.
                let decided = decide_async(shared, updates, Source::Polled).await?;
                for plan in decided.plans {
                    dispatch.push(plan);
                }
                let ids = decided.ids;
                if let Some(newest) = ids.iter().flatten().max() {
                    offset = Some(newest.saturating_add(1));
                }
                let nothing_new = ids.iter().all(|id| id.is_none() || previous.contains(id));
                previous = ids;
                if !nothing_new {
                    repeats = 0;
                    continue;
                }
                repeats += 1;
                bump(&shared.metrics.repeated_batches);
                let wait = backoff(repeats);
                tracing::error!(
                    updates = previous.len(),
                    offset = offset.unwrap_or_default(),
                    retry_in_ms = wait.as_millis() as u64,
                    "getUpdates handed back only updates already confirmed, or none with a readable id; waiting before asking again"
                );
                wait
            }
            Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                anyhow::bail!("Telegram rejected the token in TELOXIDE_TOKEN (Unauthorized)")
            }
            Err(teloxide::RequestError::RetryAfter(after)) => {
                // getUpdates concerns no chat: this holds polling only.
                super::limits::capped(after.duration())
            }
            Err(e) => {
                failures += 1;
                let wait = backoff(failures);
                tracing::error!(error = %super::loggable(&e), retry_in_ms = wait.as_millis() as u64, "getUpdates failed");
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
    }
}

/// 0.5 s after a first failure, doubling up to [`MAX_POLL_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    let wait =
        Duration::from_millis(500).saturating_mul(1 << failures.clamp(1, 8).saturating_sub(1));
    wait.min(MAX_POLL_BACKOFF)
}

/// The header Telegram sends with the secret given to `setWebhook`.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// An update posted to the webhook (its body, read with its batch), and
/// where to say whether it is durable (HTTP 200) or not (an error:
/// Telegram retries).
type Posted = (bytes::Bytes, oneshot::Sender<bool>);

#[derive(Clone)]
struct Hook {
    updates: mpsc::Sender<Posted>,
    secret: Arc<str>,
}

async fn hook(
    axum::extract::State(hook): axum::extract::State<Hook>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    // Constant time: a comparison that stops at the first wrong byte would
    // let anyone who can reach the port find the secret byte by byte.
    let given = headers.get(SECRET_HEADER).map_or(&[][..], |v| v.as_bytes());
    if !bool::from(subtle::ConstantTimeEq::ct_eq(given, hook.secret.as_bytes())) {
        tracing::warn!("a webhook request without the secret token was refused");
        return StatusCode::UNAUTHORIZED;
    }
    // Not JSON at all: not an update from Telegram. JSON that is not an
    // update Kefu can read is taken, logged by id and kind with its batch,
    // and answered 200: sending it again would not make it readable.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        tracing::error!(error = %super::json_error(&e), bytes = body.len(), "a webhook post that is not JSON was refused");
        return StatusCode::BAD_REQUEST;
    }
    let (done, durable) = oneshot::channel();
    if hook.updates.send((body, done)).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match durable.await {
        Ok(true) => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A secret for `setWebhook`, so only Telegram can post updates.
fn webhook_secret() -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Webhook mode: an HTTP listener on the config's `webhook_listen`,
/// registered at `url` with a secret token. Each posted update is answered
/// only once its batch is durable, so Telegram redelivers what a crash
/// interrupted.
pub async fn webhook(
    bot: &teloxide::Bot,
    shared: &Arc<Shared>,
    url: &str,
    dispatch: &mut Dispatch,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let listen = shared
        .config
        .webhook_listen
        .clone()
        .unwrap_or_else(|| "127.0.0.1:8443".to_string());
    let address: std::net::SocketAddr = listen
        .parse()
        .map_err(|e| anyhow::anyhow!("webhook_listen `{listen}`: {e}"))?;
    let url =
        reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("--webhook-url `{url}`: {e}"))?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (webhook_listen): {e}"))?;
    let secret = webhook_secret()?;
    bot.set_webhook(url.clone())
        .secret_token(secret.clone())
        .allowed_updates(ALLOWED)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("setting the webhook failed: {}", super::loggable(&e)))?;
    tracing::info!(%listen, "webhook listening");
    let (updates, mut posted) = mpsc::channel::<Posted>(BATCH * 4);
    let app = axum::Router::new()
        .route(url.path(), axum::routing::post(hook))
        .with_state(Hook {
            updates,
            secret: secret.into(),
        });
    let mut stop_server = stop;
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_server.wait_for(|s| *s).await;
            })
            .await
    });
    // Runs until the server has stopped and dropped its sender, so every
    // request it accepted gets its answer.
    while let Some(first) = posted.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match posted.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (updates, waiting): (Vec<bytes::Bytes>, Vec<oneshot::Sender<bool>>) =
            batch.into_iter().unzip();
        match decide_async(shared, updates, Source::Posted).await {
            Ok(decided) => {
                for done in waiting {
                    let _ = done.send(true);
                }
                for plan in decided.plans {
                    dispatch.push(plan);
                }
            }
            Err(e) => {
                for done in waiting {
                    let _ = done.send(false);
                }
                return Err(e);
            }
        }
    }
    server.await??;
    Ok(())
}
