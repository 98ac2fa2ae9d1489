//! Taking decided steps in Telegram: the outbox, answers to button
//! presses, edits, deletions. Messages keep Telegram's rate limits
//! ([`super::limits`]: 1 a second per chat, 20 a minute per group, 30 a
//! second overall); a 429 is waited out (`retry_after`, capped; the chat
//! it concerns waits, the others go on) and retried, never dropped. A
//! network failure, a server error (5xx) or an answer kefu cannot read
//! (even with HTTP 200: Telegram may or may not have the message) is
//! retried with a capped backoff for as long as it takes, one ERROR line
//! and one `kefu_send_retries_total` each; only a refusal Telegram
//! explains (a blocked bot, a chat not found: a 400 or 403 with its
//! description) drops a message. A message leaves the outbox only once
//! Telegram has it or has refused it for good. Delivered ids are
//! collected and dropped from the outbox with the next flush (the next
//! batch's, or the ack sweep's within [`ACK_SWEEP`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::payloads::EditMessageTextSetters;
use teloxide::requests::{Request, Requester};
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId};
use teloxide::RequestError;

use super::api::Api;
use super::handle::Step;
use super::limits::{Limits, Quotas};
use crate::admin::{bump, Metrics};
use crate::brain::Choice;
use crate::store::{Pending, SledStore, Store};

/// Delivered messages leave the outbox durably about this long after
/// they were sent (sooner under load: every batch's flush takes them too).
/// A crash inside this window sends them again after the restart.
pub const ACK_SWEEP: Duration = Duration::from_millis(5);

/// Telegram refuses callback data longer than this (bytes).
pub const MAX_CALLBACK_DATA: usize = 64;
/// Telegram's limit is 4,096 UTF-16 units; characters outside the BMP
/// count twice, so cut well below it.
const MAX_MESSAGE_CHARS: usize = 3_500;
/// The longest wait between two tries of a message that failed (network,
/// server error, unreadable answer). Every chat's retries also pass the
/// rate limits, so a long outage costs at most Telegram's 30 messages a
/// second, not a storm.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// 0.5 s after the first failure, doubling up to [`MAX_RETRY_WAIT`].
fn retry_wait(failures: u32) -> Duration {
    let doubled =
        Duration::from_millis(500).saturating_mul(1 << failures.clamp(1, 8).saturating_sub(1));
    doubled.min(MAX_RETRY_WAIT)
}

/// Whether Telegram refused a message for good: it said why (a 400 or a
/// 403 with a description: the bot blocked, the chat not found or gone,
/// a group moved). Everything else may go through next time: a network
/// failure, a server error, an unreadable or unexplained answer, and an
/// "Unauthorized" or "Not Found" (a token or server being swapped; if
/// the token is really revoked, `getUpdates` stops the bot).
fn refused_for_good(error: &RequestError) -> bool {
    match error {
        RequestError::Api(teloxide::ApiError::InvalidToken) => false,
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => true,
        _ => false,
    }
}

pub struct Sender {
    bot: teloxide::Bot,
    api: Api,
    /// None with `--no-throttle`.
    limits: Option<Limits>,
    metrics: Arc<Metrics>,
    store: Arc<SledStore>,
    /// Outbox ids delivered and not yet dropped from the store.
    delivered: Mutex<Vec<u64>>,
    /// Told when `delivered` gets an id (wakes the ack sweep).
    pub delivered_news: tokio::sync::Notify,
    /// How many times `drop_delivered` ran (the sweep leaves the work to
    /// batches while they come).
    pub takes: std::sync::atomic::AtomicU64,
    /// Set when kefu stops: a failing message stops being retried (it
    /// stays in the outbox for the next start).
    stopping: tokio::sync::watch::Sender<bool>,
}

/// What a button sends back: the choice's value, or its position (`#2`)
/// when the value is too long for Telegram.
pub fn callback_data(index: usize, choice: &Choice) -> String {
    if choice.value.len() <= MAX_CALLBACK_DATA {
        choice.value.clone()
    } else {
        format!("#{index}")
    }
}

pub fn keyboard(choices: &[Choice]) -> Option<InlineKeyboardMarkup> {
    if choices.is_empty() {
        return None;
    }
    Some(InlineKeyboardMarkup::new(choices.iter().enumerate().map(
        |(index, choice)| {
            vec![InlineKeyboardButton::callback(
                choice.label.clone(),
                callback_data(index, choice),
            )]
        },
    )))
}

/// Splits a long text at line ends (or anywhere, for one huge line).
pub fn split(text: &str) -> Vec<String> {
    if text.len() <= MAX_MESSAGE_CHARS {
        // No more characters than bytes.
        return vec![text.to_string()];
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut count = 0;
    for line in text.split_inclusive('\n') {
        let length = line.chars().count();
        if count + length > MAX_MESSAGE_CHARS && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            count = 0;
        }
        if length > MAX_MESSAGE_CHARS {
            let chars: Vec<char> = line.chars().collect();
            for chunk in chars.chunks(MAX_MESSAGE_CHARS) {
                parts.push(chunk.iter().collect());
            }
            continue;
        }
        current.push_str(line);
        count += length;
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

/// `sendMessage` with what kefu sends (text, an inline keyboard); posted
/// by [`Api::send_message`], which reads back only the new message's id.
#[derive(serde::Serialize)]
struct SendText {
    chat_id: i64,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<InlineKeyboardMarkup>,
}

impl Sender {
    pub fn new(
        bot: teloxide::Bot,
        throttle: bool,
        metrics: Arc<Metrics>,
        store: Arc<SledStore>,
    ) -> Sender {
        Sender {
            api: Api::new(&bot),
            bot,
            limits: throttle.then(|| Limits::new(Quotas::TELEGRAM)),
            metrics,
            store,
            delivered: Mutex::new(Vec::new()),
            delivered_news: tokio::sync::Notify::new(),
            takes: std::sync::atomic::AtomicU64::new(0),
            stopping: tokio::sync::watch::Sender::new(false),
        }
    }

    /// kefu is stopping: messages that fail are no longer retried (they
    /// are sent at the next start).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Drops the messages delivered since the last call from the outbox
    /// (in memory; durable with the store's next flush); returns how many.
    pub fn drop_delivered(&self) -> Result<usize, crate::store::StoreError> {
        self.takes.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let ids = std::mem::take(&mut *self.delivered.lock().unwrap_or_else(|e| e.into_inner()));
        self.store.outbox_sent(&ids)?;
        Ok(ids.len())
    }

    /// Drops delivered messages from the outbox durably (the ack sweep,
    /// for when no batch flush comes soon). Blocking.
    pub fn sweep_delivered(&self) {
        match self.drop_delivered() {
            Ok(0) => {}
            Ok(_) => {
                if let Err(e) = self.store.flush() {
                    tracing::error!(error = %e, "outbox not updated");
                }
            }
            Err(e) => tracing::error!(error = %e, "outbox not updated"),
        }
    }

    /// Takes one decided step. `received` is when its update arrived; the
    /// first message delivered for it records the reply latency.
    pub async fn take(&self, step: Step, received: &mut Option<Instant>) {
        let bot = &self.bot;
        // The chat a request other than a message concerns (for a 429).
        let held = match &step {
            Step::Delete { chat, .. } | Step::ShowPressed { chat, .. } | Step::Leave(chat) => {
                Some(*chat)
            }
            Step::AnswerCallback(_) | Step::Deliver { .. } => None,
        };
        let result = match step {
            Step::Deliver { id, message } => {
                if self.deliver(id, &message, *received).await {
                    *received = None;
                }
                return;
            }
            Step::AnswerCallback(id) => bot.answer_callback_query(id).send().await.map(drop),
            Step::Delete { chat, message } => bot
                .delete_message(ChatId(chat), message)
                .send()
                .await
                .map(drop),
            Step::ShowPressed {
                chat,
                message,
                original,
                label,
            } => match (original, label) {
                (Some(text), Some(label)) => bot
                    .edit_message_text(ChatId(chat), message, format!("{text}\n\n» {label}"))
                    .reply_markup(InlineKeyboardMarkup::default())
                    .send()
                    .await
                    .map(drop),
                _ => bot
                    .edit_message_reply_markup(ChatId(chat), message)
                    .send()
                    .await
                    .map(drop),
            },
            Step::Leave(chat) => bot.leave_chat(ChatId(chat)).send().await.map(drop),
        };
        match result {
            Ok(()) => {}
            Err(RequestError::RetryAfter(after)) => {
                bump(&self.metrics.retries_429);
                let until = Instant::now() + super::limits::capped(after.duration());
                tracing::warn!(
                    chat = held,
                    retry_after = after.seconds(),
                    "429 from Telegram for a request other than a message"
                );
                if let Some(limits) = &self.limits {
                    match held {
                        Some(chat) => limits.hold(chat, until),
                        // A button's answer concerns no chat.
                        None => limits.freeze(until),
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %super::loggable(&e), "a Telegram request other than a message failed");
            }
        }
    }

    /// Sends one text, waiting out 429s and retrying whatever is not a
    /// refusal for good, for as long as it takes (until kefu stops).
    /// `Ok(None)`: Telegram refused it for good; `Err`: kefu is stopping.
    async fn send_text(
        &self,
        chat: i64,
        text: String,
        markup: Option<InlineKeyboardMarkup>,
    ) -> Result<Option<MessageId>, RequestError> {
        // Built once: each attempt sends the same bytes.
        let body = serde_json::to_vec(&SendText {
            chat_id: chat,
            text,
            reply_markup: markup,
        })
        .map_err(|e| RequestError::Io(Arc::new(std::io::Error::other(e))))?;
        let body = bytes::Bytes::from(body);
        let mut failures = 0;
        let mut stopping = self.stopping.subscribe();
        loop {
            if let Some(limits) = &self.limits {
                if limits.take(chat).await {
                    bump(&self.metrics.rate_limited);
                }
            }
            match self.api.send_message(body.clone()).await {
                Ok(id) => {
                    if failures > 0 {
                        tracing::info!(chat, failures, "delivered after retries");
                    }
                    return Ok(Some(MessageId(id)));
                }
                Err(RequestError::RetryAfter(after)) => {
                    bump(&self.metrics.retries_429);
                    let wait = super::limits::capped(after.duration());
                    tracing::warn!(
                        chat,
                        retry_after = after.seconds(),
                        wait_s = wait.as_secs(),
                        "429 from Telegram: this chat waits"
                    );
                    match &self.limits {
                        Some(limits) => limits.hold(chat, Instant::now() + wait),
                        None => tokio::time::sleep(wait).await,
                    }
                }
                Err(e) if refused_for_good(&e) => {
                    tracing::error!(chat, error = %super::loggable(&e), "Telegram refused the message for good; dropped");
                    bump(&self.metrics.send_failures);
                    return Ok(None);
                }
                Err(e) => {
                    failures += 1;
                    bump(&self.metrics.send_retries);
                    let wait = retry_wait(failures);
                    tracing::error!(
                        chat,
                        attempt = failures,
                        retry_in_ms = wait.as_millis() as u64,
                        error = %super::loggable(&e),
                        "sending failed; retrying"
                    );
                    if *stopping.borrow() {
                        return Err(e);
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stopping.wait_for(|s| *s) => return Err(e),
                    }
                }
            }
        }
    }

    /// Delivers one outbox entry and drops it from the outbox. Returns
    /// whether it was delivered (false also when it stays in the outbox
    /// after network failures).
    pub async fn deliver(&self, id: u64, message: &Pending, received: Option<Instant>) -> bool {
        let parts = split(&message.text);
        let last = parts.len() - 1;
        let mut delivered = true;
        for (index, part) in parts.into_iter().enumerate() {
            let markup = if index == last {
                keyboard(&message.choices)
            } else {
                None
            };
            match self.send_text(message.chat, part, markup).await {
                Ok(Some(sent)) => {
                    bump(&self.metrics.messages_out);
                    if let Some(received) = received.filter(|_| index == 0) {
                        self.metrics.observe_latency(received.elapsed());
                    }
                    if let Some(ticket) = message.ticket {
                        // In memory at once (an agent may answer the card
                        // any moment), durable with the next flush.
                        let id = i64::from(sent.0);
                        if let Err(e) = self.store.link_message(message.chat, id, ticket) {
                            tracing::error!(error = %e, "message not linked to its ticket");
                        }
                    }
                }
                Ok(None) => delivered = false,
                Err(e) => {
                    tracing::error!(chat = message.chat, error = %super::loggable(&e), "stopping: the message stays in the outbox for the next start");
                    return false;
                }
            }
        }
        self.delivered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id);
        self.delivered_news.notify_one();
        delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_split_and_short_ones_kept() {
        assert_eq!(split("hi"), vec!["hi"]);
        let long = "字".repeat(8_000);
        let parts = split(&long);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_MESSAGE_CHARS));
        assert_eq!(parts.concat(), long);
    }

    #[test]
    fn only_an_explained_refusal_drops_a_message() {
        use teloxide::ApiError;
        let io = || RequestError::Io(Arc::new(std::io::Error::other("HTTP 502")));
        let unreadable = RequestError::InvalidJson {
            source: Arc::new(serde_json::from_str::<i32>("x").unwrap_err()),
            raw: Box::from(""),
        };
        assert!(refused_for_good(&RequestError::Api(ApiError::BotBlocked)));
        assert!(refused_for_good(&RequestError::Api(ApiError::ChatNotFound)));
        assert!(refused_for_good(&RequestError::MigrateToChatId(ChatId(-1))));
        assert!(!refused_for_good(&unreadable), "an unreadable 200");
        assert!(!refused_for_good(&io()));
        assert!(!refused_for_good(&RequestError::Api(
            ApiError::InvalidToken
        )));
        assert!(!refused_for_good(&RequestError::RetryAfter(
            teloxide::types::Seconds::from_seconds(3)
        )));
        let waits: Vec<u64> = (1..10).map(|n| retry_wait(n).as_millis() as u64).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000]);
    }

    #[test]
    fn long_values_become_positions() {
        let short = Choice::new("Yes", "yes");
        let long = Choice::new("Long", "x".repeat(65));
        assert_eq!(callback_data(0, &short), "yes");
        assert_eq!(callback_data(3, &long), "#3");
    }
}
