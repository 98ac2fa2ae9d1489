//! Deciding one update: skip it if it was handled before; flood control;
//! the brain through [`App::handle`] (or the desk); then one atomic store
//! write (the update id, the new session, the replies in the outbox). What
//! to do in Telegram comes back as [`Step`]s, taken only once the batch is
//! durable. Logs carry ids, lengths and counts, never the text.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use teloxide::types::{
    CallbackQuery, CallbackQueryId, InlineKeyboardMarkup, Message, MessageId, Update, UpdateKind,
};

use super::batch::BatchStore;
use super::{desk, unix_now, Shared};
use crate::admin::bump;
use crate::app::App;
use crate::brain::Input;
use crate::lang::Lang;
use crate::store::{Pending, Store, StoreError};

/// Per-user flood control: at most `limit` messages per `window`; the
/// first message over is answered with a warning, the rest are dropped.
///
/// Messages are counted by the time the user sent them (Telegram's
/// `date`, in seconds), not by when kefu handles them: after downtime the
/// backlog arrives all at once, and judged by processing time a user who
/// wrote at a calm pace would be taken for a flood. Commands (`/human`,
/// `/start`, …) are counted but never warned about or dropped.
pub struct Flood {
    limit: usize,
    /// Seconds.
    window: i64,
    users: Mutex<HashMap<i64, (VecDeque<i64>, bool)>>,
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
            window: window.as_secs().clamp(1, i64::MAX as u64) as i64,
            users: Mutex::new(HashMap::new()),
        }
    }

    /// A message from `user` sent at `sent` (Unix seconds); `command`:
    /// it is one (never refused).
    pub fn check(&self, user: i64, sent: i64, command: bool) -> FloodVerdict {
        let window = self.window;
        let recent = |times: &VecDeque<i64>| {
            times
                .back()
                .is_some_and(|t| sent.saturating_sub(*t) < window)
        };
        // A std mutex: held for a few instructions, never across an await.
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if users.len() > 100_000 {
            users.retain(|_, (times, _)| recent(times));
        }
        let (times, warned) = users.entry(user).or_default();
        // Dates come in order, give or take: drop whatever is out of the
        // window wherever it sits.
        times.retain(|t| sent.saturating_sub(*t) < window);
        if command {
            times.push_back(sent);
            FloodVerdict::Allow
        } else if times.len() < self.limit {
            times.push_back(sent);
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

/// One thing to do in Telegram, in its chat's order, once the batch that
/// decided it is durable.
#[derive(Debug)]
pub(crate) enum Step {
    /// Stops a pressed button's spinner.
    AnswerCallback(CallbackQueryId),
    /// Deletes the user's message: it held a secret.
    Delete { chat: i64, message: MessageId },
    /// Replaces a pressed keyboard by the choice made, so old buttons
    /// cannot be pressed again and the chat shows what was picked.
    ShowPressed {
        chat: i64,
        message: MessageId,
        original: Option<String>,
        label: Option<String>,
    },
    /// An outbox entry to deliver.
    Deliver { id: u64, message: Pending },
    /// Leaves a group that is not the agents' group.
    Leave(i64),
}

/// What one update decided.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The chat whose order the steps keep.
    pub chat: i64,
    /// When the update arrived (for the latency histogram).
    pub received: Instant,
    pub steps: Vec<Step>,
}

/// The outgoing messages of a turn as outbox entries.
pub(crate) fn pending(messages: Vec<crate::app::Outgoing>) -> Vec<Pending> {
    messages
        .into_iter()
        .map(|m| Pending {
            chat: m.chat,
            text: m.text.into(),
            choices: m.choices,
            ticket: m.ticket,
        })
        .collect()
}

/// What a turn decided, recorded: its deliveries, and whether the user's
/// message held a secret (to be deleted from the chat).
struct Turn {
    deliveries: Vec<Step>,
    delete_input: bool,
}

/// Runs the brain for one user input and records the update with the
/// batch.
fn turn(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update_id: i64,
    chat: i64,
    input: Input<'_>,
    initial_lang: Lang,
) -> anyhow::Result<Turn> {
    let pack = shared.pack.load_full();
    batch.start_in(Some(initial_lang));
    let app = App::new(&pack, batch, &shared.config);
    let value;
    let input = match input {
        Input::Button(data) => {
            value = resolve_button(batch, chat, data)?;
            Input::Button(&value)
        }
        text => text,
    };
    let handled = app.handle(chat, input, unix_now());
    batch.start_in(None);
    let handled = handled?;
    if let Some(verdict) = &handled.verdict {
        shared.metrics.count_verdict(verdict);
    }
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
    Ok(Turn {
        deliveries: batch.record(update_id, pending(handled.messages))?,
        delete_input: handled.delete_input,
    })
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

fn session_lang(batch: &BatchStore<'_>, chat: i64, code: Option<&str>) -> Lang {
    match batch.session(chat) {
        Ok(Some(session)) => session.lang,
        _ => lang_from_code(code),
    }
}

/// Decides one update: skipped if it was handled before, otherwise run
/// through the brain or the desk and recorded. Synchronous: nothing here
/// waits on the network, so a batch of updates is decided in a few
/// milliseconds and made durable with one flush.
pub(crate) fn decide(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update: &Update,
) -> anyhow::Result<Vec<Step>> {
    let update_id = i64::from(update.id.0);
    if batch.update_seen(update_id)? {
        bump(&shared.metrics.duplicates);
        tracing::info!(update = update_id, "already handled; skipped");
        return Ok(Vec::new());
    }
    match &update.kind {
        UpdateKind::Message(message) => on_message(shared, batch, update_id, message),
        UpdateKind::CallbackQuery(query) => on_callback(shared, batch, update_id, query),
        _ => batch.record(update_id, Vec::new()),
    }
}

fn on_message(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update_id: i64,
    message: &Message,
) -> anyhow::Result<Vec<Step>> {
    let chat = message.chat.id.0;
    if !message.chat.is_private() {
        if Some(chat) == shared.config.agents_group {
            return desk::on_group_message(shared, batch, update_id, message);
        }
        if message.chat.is_group() || message.chat.is_supergroup() {
            tracing::info!(
                chat,
                "a message in a group that is not the agents' group: leaving"
            );
            let mut steps = batch.record(update_id, vec![Pending::text(chat, private_only())])?;
            steps.push(Step::Leave(chat));
            return Ok(steps);
        }
        return batch.record(update_id, Vec::new());
    }
    let user = message.from.as_ref();
    let user_id = user.map_or(chat, |u| u.id.0 as i64);
    if let Some(text) = message.text() {
        if shared.config.agent(user_id).is_some() && desk::is_desk_command(text) {
            return desk::agent_command(shared, batch, update_id, chat, user_id, text);
        }
    }
    let code = user.and_then(|u| u.language_code.as_deref());
    bump(&shared.metrics.updates);
    let command = message.text().is_some_and(|t| t.starts_with('/'));
    match shared
        .flood
        .check(user_id, message.date.timestamp(), command)
    {
        FloodVerdict::Allow => {}
        FloodVerdict::Warn => {
            bump(&shared.metrics.flood_dropped);
            tracing::info!(chat, "flooding: told to slow down");
            let text = flood_text(session_lang(batch, chat, code));
            return batch.record(update_id, vec![Pending::text(chat, text)]);
        }
        FloodVerdict::Drop => {
            bump(&shared.metrics.flood_dropped);
            return batch.record(update_id, Vec::new());
        }
    }
    // A message forwarded from someone, or a shared contact: the user is
    // asking "is this really your staff?" — answer as `/verify` does.
    let verify = verify_request(message);
    let Some(text) = verify.as_deref().or(message.text()).or(message.caption()) else {
        let text = non_text(session_lang(batch, chat, code));
        return batch.record(update_id, vec![Pending::text(chat, text)]);
    };
    bump(&shared.metrics.messages_in);
    tracing::debug!(
        update = update_id,
        chat,
        chars = text.chars().count(),
        "message"
    );
    let turn = turn(
        shared,
        batch,
        update_id,
        chat,
        Input::Text(text),
        lang_from_code(code),
    )?;
    let mut steps = Vec::with_capacity(turn.deliveries.len() + 1);
    if turn.delete_input {
        // The message held a secret: take it out of the chat history.
        steps.push(Step::Delete {
            chat,
            message: message.id,
        });
    }
    steps.extend(turn.deliveries);
    Ok(steps)
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

fn on_callback(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update_id: i64,
    query: &CallbackQuery,
) -> anyhow::Result<Vec<Step>> {
    bump(&shared.metrics.updates);
    // Stop the spinner first, whatever happens next.
    let mut steps = vec![Step::AnswerCallback(query.id.clone())];
    let (Some(data), Some(message)) = (query.data.as_deref(), query.message.as_ref()) else {
        steps.extend(batch.record(update_id, Vec::new())?);
        return Ok(steps);
    };
    let chat = message.chat().id.0;
    if !message.chat().is_private() {
        if Some(chat) == shared.config.agents_group {
            steps.extend(desk::on_group_button(
                shared, batch, update_id, chat, query, data,
            )?);
        } else {
            steps.extend(batch.record(update_id, Vec::new())?);
        }
        return Ok(steps);
    }
    let user_id = query.from.id.0 as i64;
    // A press carries no date of its own: now.
    if shared.flood.check(user_id, unix_now(), false) != FloodVerdict::Allow {
        bump(&shared.metrics.flood_dropped);
        steps.extend(batch.record(update_id, Vec::new())?);
        return Ok(steps);
    }
    bump(&shared.metrics.messages_in);
    let regular = message.regular_message();
    let label = pressed_label(regular.and_then(|m| m.reply_markup()), data);
    let original = regular.and_then(|m| m.text()).map(str::to_string);
    let lang = lang_from_code(query.from.language_code.as_deref());
    let turn = turn(shared, batch, update_id, chat, Input::Button(data), lang)?;
    steps.push(Step::ShowPressed {
        chat,
        message: message.id(),
        original,
        label,
    });
    steps.extend(turn.deliveries);
    Ok(steps)
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
        let t0 = 1_700_000_000;
        for _ in 0..3 {
            assert_eq!(flood.check(7, t0, false), FloodVerdict::Allow);
        }
        assert_eq!(flood.check(7, t0, false), FloodVerdict::Warn);
        assert_eq!(flood.check(7, t0, false), FloodVerdict::Drop);
        assert_eq!(flood.check(7, t0, true), FloodVerdict::Allow, "a command");
        assert_eq!(flood.check(8, t0, false), FloodVerdict::Allow);
        assert_eq!(flood.check(7, t0 + 11, false), FloodVerdict::Allow);
    }

    #[test]
    fn flood_counts_by_the_time_messages_were_sent() {
        let flood = Flood::new(3, Duration::from_secs(10));
        // A backlog: twenty messages written four seconds apart an hour
        // ago, all handled now.
        let start = 1_700_000_000 - 3_600;
        for i in 0..20 {
            assert_eq!(flood.check(7, start + 4 * i, false), FloodVerdict::Allow);
        }
        // Commands count: two of them and two messages fill the window.
        let flood = Flood::new(3, Duration::from_secs(10));
        assert_eq!(flood.check(9, start, true), FloodVerdict::Allow);
        assert_eq!(flood.check(9, start, true), FloodVerdict::Allow);
        assert_eq!(flood.check(9, start, false), FloodVerdict::Allow);
        assert_eq!(flood.check(9, start, false), FloodVerdict::Warn);
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
