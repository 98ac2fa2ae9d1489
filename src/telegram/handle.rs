//! One update, start to finish: skip it if it was handled before; flood
//! control; the brain through [`App::handle`]; then one atomic store write
//! (the update id, the new session, the replies in the outbox) before
//! anything is sent. Logs carry ids, lengths and counts, never the text.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::payloads::EditMessageTextSetters;
use teloxide::requests::{Request, Requester};
use teloxide::types::{
    CallbackQuery, ChatId, InlineKeyboardMarkup, Message, MessageId, Update, UpdateKind,
};

use super::{desk, unix_now, Shared};
use crate::admin::bump;
use crate::app::App;
use crate::brain::{Input, Session};
use crate::lang::Lang;
use crate::store::{ChatId as StoreChat, Pending, Store, StoreError, UpdateRecord};
use crate::ticket::Ticket;

/// An update and when it arrived (for the latency histogram).
pub struct Job {
    pub update: Update,
    pub received: Instant,
}

/// Per-user flood control: at most `limit` messages per `window`; the
/// first message over is answered with a warning, the rest are dropped.
pub struct Flood {
    limit: usize,
    window: Duration,
    users: Mutex<HashMap<i64, (VecDeque<Instant>, bool)>>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FloodVerdict {
    Allow,
    Warn,
    Drop,
}

impl Flood {
    pub fn new(limit: u32, window: Duration) -> Flood {
        Flood {
            limit: limit.max(1) as usize,
            window,
            users: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, user: i64, now: Instant) -> FloodVerdict {
        // A std mutex: held for a few instructions, never across an await.
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if users.len() > 100_000 {
            let window = self.window;
            users.retain(|_, (times, _)| times.back().is_some_and(|t| now - *t < window));
        }
        let (times, warned) = users.entry(user).or_default();
        while times.front().is_some_and(|t| now - *t >= self.window) {
            times.pop_front();
        }
        if times.len() < self.limit {
            times.push_back(now);
            *warned = false;
            FloodVerdict::Allow
        } else if !*warned {
            *warned = true;
            FloodVerdict::Warn
        } else {
            FloodVerdict::Drop
        }
    }
}

fn flood_text(lang: Lang) -> &'static str {
    lang.pick(
        "您发送消息太快了，请稍等片刻再发。期间的消息不会被处理。",
        "You're sending messages too fast — please wait a moment. Messages sent meanwhile are not processed.",
    )
}

fn non_text(lang: Lang) -> &'static str {
    lang.pick(
        "目前我只能阅读文字消息，请用文字描述您的问题。",
        "I can only read text messages for now — please describe your problem in words.",
    )
}

fn private_only() -> &'static str {
    "我只在私聊中提供服务，请直接私聊我。\nI only help in private chats — please message me directly."
}

/// The language a new session starts in: the user's Telegram language.
pub fn lang_from_code(code: Option<&str>) -> Lang {
    match code {
        Some(code) if code.to_lowercase().starts_with("zh") => Lang::Zh,
        _ => Lang::En,
    }
}

/// The store as [`App::handle`] sees it during one update: the session it
/// saves is held back, to be written with the update id and the replies
/// in one transaction; a chat without a session starts in the user's
/// Telegram language; the app's own flush is left to that transaction.
struct TurnStore<'a> {
    inner: &'a dyn Store,
    initial_lang: Lang,
    saved: Mutex<Option<Session>>,
}

impl Store for TurnStore<'_> {
    fn session(&self, chat: StoreChat) -> Result<Option<Session>, StoreError> {
        if let Some(session) = self.saved.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(Some(session));
        }
        Ok(Some(self.inner.session(chat)?.unwrap_or_else(|| Session {
            lang: self.initial_lang,
            ..Session::default()
        })))
    }
    fn save_session(&self, _chat: StoreChat, session: &Session) -> Result<(), StoreError> {
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(session.clone());
        Ok(())
    }
    fn create_ticket(&self, build: &mut dyn FnMut(u64) -> Ticket) -> Result<Ticket, StoreError> {
        self.inner.create_ticket(build)
    }
    fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        self.inner.save_ticket(ticket)
    }
    fn ticket(&self, number: u64) -> Result<Option<Ticket>, StoreError> {
        self.inner.ticket(number)
    }
    fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        self.inner.tickets()
    }
    fn queue(&self) -> Result<Vec<Ticket>, StoreError> {
        self.inner.queue()
    }
    fn chat_tickets(&self, chat: StoreChat) -> Result<Vec<Ticket>, StoreError> {
        self.inner.chat_tickets(chat)
    }
    fn record_wait(&self, seconds: i64) -> Result<(), StoreError> {
        self.inner.record_wait(seconds)
    }
    fn recent_waits(&self) -> Result<Vec<i64>, StoreError> {
        self.inner.recent_waits()
    }
    fn mark_update(&self, update_id: i64) -> Result<bool, StoreError> {
        self.inner.mark_update(update_id)
    }
    fn update_seen(&self, update_id: i64) -> Result<bool, StoreError> {
        self.inner.update_seen(update_id)
    }
    fn record_update(&self, record: &UpdateRecord<'_>) -> Result<Option<Vec<u64>>, StoreError> {
        self.inner.record_update(record)
    }
    fn inbox_put(&self, updates: &[(i64, Vec<u8>)]) -> Result<(), StoreError> {
        self.inner.inbox_put(updates)
    }
    fn inbox(&self) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        self.inner.inbox()
    }
    fn inbox_remove(&self, update_id: i64) -> Result<(), StoreError> {
        self.inner.inbox_remove(update_id)
    }
    fn outbox_push(&self, messages: &[Pending]) -> Result<Vec<u64>, StoreError> {
        self.inner.outbox_push(messages)
    }
    fn outbox(&self) -> Result<Vec<(u64, Pending)>, StoreError> {
        self.inner.outbox()
    }
    fn outbox_sent(&self, id: u64) -> Result<(), StoreError> {
        self.inner.outbox_sent(id)
    }
    fn link_message(
        &self,
        chat: StoreChat,
        message_id: i64,
        ticket: u64,
    ) -> Result<(), StoreError> {
        self.inner.link_message(chat, message_id, ticket)
    }
    fn message_ticket(&self, chat: StoreChat, message_id: i64) -> Result<Option<u64>, StoreError> {
        self.inner.message_ticket(chat, message_id)
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// What a turn decided, written and ready to send.
pub(crate) struct Decided {
    pub outbox: Vec<(u64, Pending)>,
    /// The user's message held a secret: delete it from the chat.
    pub delete_input: bool,
}

/// The outgoing messages of a turn as outbox entries.
pub(crate) fn pending(messages: Vec<crate::app::Outgoing>) -> Vec<Pending> {
    messages
        .into_iter()
        .map(|m| Pending {
            chat: m.chat,
            text: m.text,
            choices: m.choices,
            ticket: m.ticket,
        })
        .collect()
}

/// Runs the brain for one user input and records the update atomically.
/// `None`: the update was handled before.
async fn turn(
    shared: &Arc<Shared>,
    update_id: i64,
    chat: i64,
    input: OwnedInput,
    initial_lang: Lang,
) -> anyhow::Result<Option<Decided>> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let pack = shared.pack.load_full();
        let store: &dyn Store = &*shared.store;
        let turn_store = TurnStore {
            inner: store,
            initial_lang,
            saved: Mutex::new(None),
        };
        let app = App::new(&pack, &turn_store, &shared.config);
        let value;
        let input = match &input {
            OwnedInput::Text(text) => Input::Text(text),
            OwnedInput::Button(data) => {
                value = resolve_button(&turn_store, chat, data)?;
                Input::Button(&value)
            }
        };
        let handled = app.handle(chat, input, unix_now())?;
        if let Some(error) = &handled.session_reset {
            tracing::warn!(chat, error = %error, "unreadable session started afresh");
        }
        for ticket in &handled.opened {
            bump(&shared.metrics.handoffs);
            tracing::info!(
                chat,
                ticket = %ticket.label(),
                intent = ticket.intent.as_deref().unwrap_or("-"),
                priority = ticket.priority.name(),
                "ticket opened"
            );
            if shared.config.agents_group.is_none() {
                tracing::info!(ticket = %ticket.label(), "no agents' group configured: the ticket waits in the queue");
            }
        }
        let delete_input = handled.delete_input;
        let pending = pending(handled.messages);
        let session = turn_store
            .saved
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        record(
            store,
            update_id,
            session.as_ref().map(|s| (chat, s)),
            pending,
            delete_input,
        )
    })
    .await?
}

/// Writes the update as processed, with the chat's new session (if any)
/// and the replies to send, in one transaction. `None` if the update was
/// processed before.
pub(crate) fn record(
    store: &dyn Store,
    update_id: i64,
    session: Option<(i64, &Session)>,
    outbox: Vec<Pending>,
    delete_input: bool,
) -> anyhow::Result<Option<Decided>> {
    let ids = store.record_update(&UpdateRecord {
        update_id,
        session,
        outbox: &outbox,
    })?;
    Ok(ids.map(|ids| Decided {
        outbox: ids.into_iter().zip(outbox).collect(),
        delete_input,
    }))
}

/// A button's data back to the choice's value (`#2` → the third offered).
fn resolve_button(store: &dyn Store, chat: i64, data: &str) -> Result<String, StoreError> {
    if let Some(index) = data.strip_prefix('#').and_then(|i| i.parse::<usize>().ok()) {
        if let Some(choice) = store
            .session(chat)?
            .and_then(|s| s.offered.get(index).cloned())
        {
            return Ok(choice.value);
        }
    }
    Ok(data.to_string())
}

enum OwnedInput {
    Text(String),
    Button(String),
}

/// Records an update that changes no session, with optional replies.
pub(crate) async fn record_only(
    shared: &Arc<Shared>,
    update_id: i64,
    replies: Vec<Pending>,
) -> anyhow::Result<Option<Decided>> {
    let store = shared.store.clone();
    tokio::task::spawn_blocking(move || record(&*store, update_id, None, replies, false)).await?
}

pub(crate) async fn send_all(shared: &Shared, decided: Option<Decided>, received: Instant) {
    let Some(decided) = decided else { return };
    let mut first = Some(received);
    for (id, message) in &decided.outbox {
        if shared.sender.deliver(*id, message, first).await {
            first = None;
        }
    }
}

async fn session_lang(shared: &Arc<Shared>, chat: i64, code: Option<&str>) -> Lang {
    let store = shared.store.clone();
    let stored = tokio::task::spawn_blocking(move || store.session(chat))
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    stored.map_or_else(|| lang_from_code(code), |s| s.lang)
}

/// Handles one update; errors are logged, never fatal.
pub async fn handle(shared: &Arc<Shared>, job: Job) {
    let update_id = i64::from(job.update.id.0);
    if let Err(e) = handle_inner(shared, &job, update_id).await {
        tracing::error!(update = update_id, error = %e, "update not handled");
    }
}

async fn handle_inner(shared: &Arc<Shared>, job: &Job, update_id: i64) -> anyhow::Result<()> {
    let store = shared.store.clone();
    if tokio::task::spawn_blocking(move || store.update_seen(update_id)).await?? {
        bump(&shared.metrics.duplicates);
        tracing::info!(update = update_id, "already handled; skipped");
        return Ok(());
    }
    match &job.update.kind {
        UpdateKind::Message(message) => on_message(shared, job, update_id, message).await,
        UpdateKind::CallbackQuery(query) => on_callback(shared, job, update_id, query).await,
        _ => {
            record_only(shared, update_id, Vec::new()).await?;
            Ok(())
        }
    }
}

async fn on_message(
    shared: &Arc<Shared>,
    job: &Job,
    update_id: i64,
    message: &Message,
) -> anyhow::Result<()> {
    let chat = message.chat.id.0;
    if !message.chat.is_private() {
        if Some(chat) == shared.config.agents_group {
            return desk::on_group_message(shared, job, update_id, message).await;
        }
        if message.chat.is_group() || message.chat.is_supergroup() {
            tracing::info!(
                chat,
                "a message in a group that is not the agents' group: leaving"
            );
            let decided = record_only(
                shared,
                update_id,
                vec![Pending {
                    chat,
                    text: private_only().to_string(),
                    choices: Vec::new(),
                    ticket: None,
                }],
            )
            .await?;
            let leave = decided.is_some();
            send_all(shared, decided, job.received).await;
            if leave {
                if let Err(e) = shared.sender.bot().leave_chat(ChatId(chat)).send().await {
                    tracing::warn!(chat, error = %e, "leaving the group failed");
                }
            }
        } else {
            record_only(shared, update_id, Vec::new()).await?;
        }
        return Ok(());
    }
    let user = message.from.as_ref();
    let user_id = user.map_or(chat, |u| u.id.0 as i64);
    if let Some(text) = message.text() {
        if shared.config.agent(user_id).is_some() && desk::is_desk_command(text) {
            return desk::agent_command(shared, job, update_id, chat, user_id, text).await;
        }
    }
    let code = user.and_then(|u| u.language_code.as_deref());
    bump(&shared.metrics.updates);
    match shared.flood.check(user_id, Instant::now()) {
        FloodVerdict::Allow => {}
        FloodVerdict::Warn => {
            bump(&shared.metrics.flood_dropped);
            tracing::info!(chat, "flooding: told to slow down");
            let lang = session_lang(shared, chat, code).await;
            let reply = Pending {
                chat,
                text: flood_text(lang).to_string(),
                choices: Vec::new(),
                ticket: None,
            };
            let decided = record_only(shared, update_id, vec![reply]).await?;
            send_all(shared, decided, job.received).await;
            return Ok(());
        }
        FloodVerdict::Drop => {
            bump(&shared.metrics.flood_dropped);
            record_only(shared, update_id, Vec::new()).await?;
            return Ok(());
        }
    }
    // A message forwarded from someone, or a shared contact: the user is
    // asking "is this really your staff?" — answer as `/verify` does.
    let verify = verify_request(message);
    let Some(text) = verify.as_deref().or(message.text()).or(message.caption()) else {
        let lang = session_lang(shared, chat, code).await;
        let reply = Pending {
            chat,
            text: non_text(lang).to_string(),
            choices: Vec::new(),
            ticket: None,
        };
        let decided = record_only(shared, update_id, vec![reply]).await?;
        send_all(shared, decided, job.received).await;
        return Ok(());
    };
    bump(&shared.metrics.messages_in);
    tracing::debug!(
        update = update_id,
        chat,
        chars = text.chars().count(),
        "message"
    );
    let decided = turn(
        shared,
        update_id,
        chat,
        OwnedInput::Text(text.to_string()),
        lang_from_code(code),
    )
    .await?;
    if decided.as_ref().is_some_and(|d| d.delete_input) {
        // The message held a secret: take it out of the chat history.
        if let Err(e) = shared
            .sender
            .bot()
            .delete_message(message.chat.id, message.id)
            .send()
            .await
        {
            tracing::warn!(chat, error = %e, "a message with a secret could not be deleted");
        }
    }
    send_all(shared, decided, job.received).await;
    Ok(())
}

/// The label of the pressed button, from the message's keyboard.
fn pressed_label(markup: Option<&InlineKeyboardMarkup>, data: &str) -> Option<String> {
    use teloxide::types::InlineKeyboardButtonKind;
    markup?
        .inline_keyboard
        .iter()
        .flatten()
        .find(|b| matches!(&b.kind, InlineKeyboardButtonKind::CallbackData(d) if d == data))
        .map(|b| b.text.clone())
}

async fn on_callback(
    shared: &Arc<Shared>,
    job: &Job,
    update_id: i64,
    query: &CallbackQuery,
) -> anyhow::Result<()> {
    bump(&shared.metrics.updates);
    // Stop the spinner first, whatever happens next.
    if let Err(e) = shared
        .sender
        .bot()
        .answer_callback_query(query.id.clone())
        .send()
        .await
    {
        tracing::warn!(update = update_id, error = %e, "answerCallbackQuery failed");
    }
    let (Some(data), Some(message)) = (query.data.as_deref(), query.message.as_ref()) else {
        record_only(shared, update_id, Vec::new()).await?;
        return Ok(());
    };
    let chat = message.chat().id.0;
    if !message.chat().is_private() {
        if Some(chat) == shared.config.agents_group {
            return desk::on_group_button(shared, job, update_id, chat, query, data).await;
        }
        record_only(shared, update_id, Vec::new()).await?;
        return Ok(());
    }
    let user_id = query.from.id.0 as i64;
    if shared.flood.check(user_id, Instant::now()) != FloodVerdict::Allow {
        bump(&shared.metrics.flood_dropped);
        record_only(shared, update_id, Vec::new()).await?;
        return Ok(());
    }
    bump(&shared.metrics.messages_in);
    let regular = message.regular_message();
    let label = pressed_label(regular.and_then(|m| m.reply_markup()), data);
    let original = regular.and_then(|m| m.text()).map(str::to_string);
    let decided = turn(
        shared,
        update_id,
        chat,
        OwnedInput::Button(data.to_string()),
        lang_from_code(query.from.language_code.as_deref()),
    )
    .await?;
    if decided.is_some() {
        show_pressed(shared, chat, message.id(), original, label).await;
    }
    send_all(shared, decided, job.received).await;
    Ok(())
}

/// Replaces the pressed keyboard by the choice made, so old buttons cannot
/// be pressed again and the chat shows what was picked.
async fn show_pressed(
    shared: &Shared,
    chat: i64,
    message_id: MessageId,
    original: Option<String>,
    label: Option<String>,
) {
    let bot = shared.sender.bot();
    let result = match (original, label) {
        (Some(text), Some(label)) => bot
            .edit_message_text(ChatId(chat), message_id, format!("{text}\n\n» {label}"))
            .reply_markup(InlineKeyboardMarkup::default())
            .send()
            .await
            .map(drop),
        _ => bot
            .edit_message_reply_markup(ChatId(chat), message_id)
            .send()
            .await
            .map(drop),
    };
    if let Err(e) = result {
        tracing::debug!(chat, error = %e, "the pressed keyboard was not edited");
    }
}

/// `/verify …` for a forwarded message (its sender's handle) or a shared
/// contact (its name: contacts carry no handle, so it cannot be on the
/// staff list, and the answer says so with the usual warning).
fn verify_request(message: &teloxide::types::Message) -> Option<String> {
    use teloxide::types::MessageOrigin;
    if let Some(origin) = message.forward_origin() {
        return Some(match origin {
            MessageOrigin::User { sender_user, .. } => match &sender_user.username {
                Some(handle) => format!("/verify @{handle}"),
                None => format!("/verify {}", sender_user.first_name.replace(' ', "_")),
            },
            MessageOrigin::HiddenUser {
                sender_user_name, ..
            } => format!("/verify {}", sender_user_name.replace(' ', "_")),
            MessageOrigin::Chat { .. } | MessageOrigin::Channel { .. } => return None,
        });
    }
    message
        .contact()
        .map(|contact| format!("/verify {}", contact.first_name.replace(' ', "_")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_warns_once_then_drops_then_forgives() {
        let flood = Flood::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(flood.check(7, t0), FloodVerdict::Allow);
        }
        assert_eq!(flood.check(7, t0), FloodVerdict::Warn);
        assert_eq!(flood.check(7, t0), FloodVerdict::Drop);
        assert_eq!(flood.check(8, t0), FloodVerdict::Allow);
        let later = t0 + Duration::from_secs(11);
        assert_eq!(flood.check(7, later), FloodVerdict::Allow);
    }

    #[test]
    fn telegram_language_codes() {
        assert_eq!(lang_from_code(Some("zh-hans")), Lang::Zh);
        assert_eq!(lang_from_code(Some("zh")), Lang::Zh);
        assert_eq!(lang_from_code(Some("en-US")), Lang::En);
        assert_eq!(lang_from_code(Some("ru")), Lang::En);
        assert_eq!(lang_from_code(None), Lang::En);
    }
}
