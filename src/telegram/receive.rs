//! Getting updates: long polling or a webhook. Every new update is written
//! to the store's inbox (flushed) before the next `getUpdates` confirms it
//! to Telegram, then queued to its chat's worker: one task per active chat
//! handles that chat's updates in order; chats run in parallel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::requests::{Request, Requester};
use teloxide::types::{AllowedUpdate, Update, UpdateKind};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::handle::{handle, Job};
use super::Shared;
use crate::store::Store;

/// A chat's worker ends after this long without updates.
const IDLE_WORKER: Duration = Duration::from_secs(60);

type Chats = Arc<Mutex<HashMap<i64, mpsc::UnboundedSender<Job>>>>;

/// Per-chat queues and their workers.
pub struct Dispatch {
    shared: Arc<Shared>,
    chats: Chats,
    workers: JoinSet<()>,
}

/// The chat an update belongs to; updates without one share key 0.
fn chat_of(update: &Update) -> i64 {
    match &update.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m.chat.id.0,
        UpdateKind::CallbackQuery(q) => q
            .message
            .as_ref()
            .map_or(q.from.id.0 as i64, |m| m.chat().id.0),
        UpdateKind::MyChatMember(m) | UpdateKind::ChatMember(m) => m.chat.id.0,
        _ => 0,
    }
}

impl Dispatch {
    pub fn new(shared: Arc<Shared>) -> Dispatch {
        Dispatch {
            shared,
            chats: Arc::new(Mutex::new(HashMap::new())),
            workers: JoinSet::new(),
        }
    }

    pub fn push(&mut self, update: Update, received: Instant) {
        let key = chat_of(&update);
        let job = Job { update, received };
        // A std mutex: never held across an await; the worker removes its
        // own entry under it, so a send here never reaches a worker that
        // already decided to stop.
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        let job = match chats.get(&key) {
            Some(queue) => match queue.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (queue, jobs) = mpsc::unbounded_channel();
        let _ = queue.send(job);
        chats.insert(key, queue);
        drop(chats);
        self.workers
            .spawn(worker(key, jobs, self.shared.clone(), self.chats.clone()));
        while self.workers.try_join_next().is_some() {}
    }

    /// Closes every queue and waits until the workers have handled what
    /// they were given.
    pub async fn finish(mut self) {
        self.chats.lock().unwrap_or_else(|e| e.into_inner()).clear();
        while self.workers.join_next().await.is_some() {}
    }
}

async fn worker(
    key: i64,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    shared: Arc<Shared>,
    chats: Chats,
) {
    loop {
        match tokio::time::timeout(IDLE_WORKER, jobs.recv()).await {
            Ok(Some(job)) => handle(&shared, job).await,
            Ok(None) => return,
            Err(_) => {
                let mut chats = chats.lock().unwrap_or_else(|e| e.into_inner());
                if jobs.is_empty() {
                    chats.remove(&key);
                    return;
                }
            }
        }
    }
}

/// After a restart: sends what was decided but not sent, then handles the
/// updates that were received but not handled.
pub async fn resume(shared: &Arc<Shared>, dispatch: &mut Dispatch) -> anyhow::Result<()> {
    let store = shared.store.clone();
    let (outbox, inbox) = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::store::StoreError>((store.outbox()?, store.inbox()?))
    })
    .await??;
    if !outbox.is_empty() {
        tracing::info!(
            messages = outbox.len(),
            "sending replies left unsent by the last run"
        );
    }
    for (id, message) in &outbox {
        shared.sender.deliver(*id, message, None).await;
    }
    if !inbox.is_empty() {
        tracing::info!(
            updates = inbox.len(),
            "handling updates received by the last run"
        );
    }
    let now = Instant::now();
    for (id, raw) in inbox {
        match serde_json::from_slice::<Update>(&raw) {
            Ok(update) => dispatch.push(update, now),
            Err(e) => {
                tracing::warn!(update = id, error = %e, "an unreadable update in the inbox was dropped");
                let store = shared.store.clone();
                tokio::task::spawn_blocking(move || store.inbox_remove(id)).await??;
            }
        }
    }
    Ok(())
}

/// Keeps new updates in the inbox, then queues them.
async fn accept(
    shared: &Arc<Shared>,
    dispatch: &mut Dispatch,
    updates: Vec<Update>,
) -> anyhow::Result<()> {
    let received = Instant::now();
    let store = shared.store.clone();
    let fresh = tokio::task::spawn_blocking(move || {
        let mut fresh = Vec::new();
        let mut raw = Vec::new();
        for update in updates {
            let id = i64::from(update.id.0);
            if store.update_seen(id)? {
                continue;
            }
            raw.push((id, serde_json::to_vec(&update).unwrap_or_default()));
            fresh.push(update);
        }
        if !raw.is_empty() {
            store.inbox_put(&raw)?;
        }
        Ok::<_, crate::store::StoreError>(fresh)
    })
    .await??;
    for update in fresh {
        dispatch.push(update, received);
    }
    Ok(())
}

/// Long polling until `stop`. A rejected token ends it with an error.
pub async fn poll(
    bot: &teloxide::Bot,
    shared: &Arc<Shared>,
    timeout: u32,
    dispatch: &mut Dispatch,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    if let Err(e) = bot.delete_webhook().send().await {
        tracing::warn!(error = %e, "deleteWebhook failed");
    }
    let mut offset: Option<i32> = None;
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let mut request = bot.get_updates().timeout(timeout).allowed_updates([
            AllowedUpdate::Message,
            AllowedUpdate::CallbackQuery,
            AllowedUpdate::MyChatMember,
        ]);
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        let result = tokio::select! {
            result = request.send() => result,
            _ = stop.wait_for(|s| *s) => return Ok(()),
        };
        match result {
            Ok(updates) => {
                failures = 0;
                if let Some(last) = updates.iter().map(|u| u.id.0).max() {
                    offset = Some(last as i32 + 1);
                }
                if !updates.is_empty() {
                    accept(shared, dispatch, updates).await?;
                }
            }
            Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                anyhow::bail!("Telegram rejected the token in TELOXIDE_TOKEN (Unauthorized)")
            }
            Err(teloxide::RequestError::RetryAfter(after)) => {
                tokio::time::sleep(after.duration()).await;
            }
            Err(e) => {
                failures += 1;
                let wait = Duration::from_millis(500 * u64::from(failures.min(20)));
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "getUpdates failed");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.wait_for(|s| *s) => return Ok(()),
                }
            }
        }
    }
}

/// Webhook mode: teloxide's axum listener on the config's
/// `webhook_listen`, registered at `url`.
pub async fn webhook(
    bot: &teloxide::Bot,
    shared: &Arc<Shared>,
    url: &str,
    dispatch: &mut Dispatch,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use teloxide::update_listeners::webhooks::{axum, Options};
    let listen = shared
        .config
        .webhook_listen
        .clone()
        .unwrap_or_else(|| "127.0.0.1:8443".to_string());
    let address = listen
        .parse()
        .map_err(|e| anyhow::anyhow!("webhook_listen `{listen}`: {e}"))?;
    let url =
        reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("--webhook-url `{url}`: {e}"))?;
    let mut listener = axum(bot.clone(), Options::new(address, url))
        .await
        .map_err(|e| anyhow::anyhow!("setting the webhook failed: {e}"))?;
    tracing::info!(%listen, "webhook listening");
    let stop_token = listener.stop_token();
    let updates = listener.as_stream();
    futures::pin_mut!(updates);
    loop {
        tokio::select! {
            next = updates.next() => match next {
                Some(Ok(update)) => accept(shared, dispatch, vec![update]).await?,
                Some(Err(never)) => match never {},
                None => return Ok(()),
            },
            _ = stop.wait_for(|s| *s) => {
                stop_token.stop();
                return Ok(());
            }
        }
    }
}
