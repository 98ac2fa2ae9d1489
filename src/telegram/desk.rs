//! The agents' group, over the core's desk ([`App::agent`], [`App::tick`]):
//! commands (`/take 12`), card buttons (`take:12`), and replies to a card
//! or a relayed message, which go to that message's ticket (the store maps
//! Telegram message ids to tickets as cards are sent). Other talk among
//! agents is left alone. The SLA sweep runs every 30 seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use teloxide::types::{CallbackQuery, Message};
use tokio::sync::watch;

use super::batch::BatchStore;
use super::handle::{pending, Step};
use super::{unix_now, Shared};
use crate::app::desk::AgentInput;
use crate::app::{App, Handled};
use crate::store::{Pending, Store};

/// The desk's commands: an agent's private message starting with one of
/// these goes to the desk, not the user-side brain.
const DESK_COMMANDS: [&str; 9] = [
    "queue", "take", "reply", "note", "resolve", "reassign", "mine", "agent", "reload",
];

/// The command a message starts with (`/take@kefu_bot 12` → `take`).
fn command_of(text: &str) -> Option<String> {
    let command = text.trim_start().strip_prefix('/')?;
    Some(crate::brain::command_name(
        command.split_whitespace().next().unwrap_or_default(),
    ))
}

pub fn is_desk_command(text: &str) -> bool {
    command_of(text).is_some_and(|name| DESK_COMMANDS.contains(&name.as_str()))
}

/// What the desk is asked to do.
enum Action<'a> {
    Command(&'a str),
    Button(&'a str),
    Reply { ticket: u64, text: &'a str },
}

/// Runs the desk for one agent action and records the update with the
/// replies, atomically.
fn run(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update_id: i64,
    chat: i64,
    agent: i64,
    action: Action<'_>,
) -> anyhow::Result<Vec<Step>> {
    let pack = shared.pack.load_full();
    let app = App::new(&pack, batch, &shared.config);
    let input = match action {
        Action::Command(text) => AgentInput::Command(text),
        Action::Button(value) => AgentInput::Button(value),
        Action::Reply { ticket, text } => AgentInput::Reply { ticket, text },
    };
    let handled: Handled = app.agent(chat, agent, input, unix_now())?;
    if let Some(user) = handled.refused {
        tracing::warn!(
            user,
            chat,
            "a desk action from someone not on the agent list was refused"
        );
    }
    batch.record(update_id, pending(handled.messages))
}

/// `/reload` from a supervisor: asks the reloader, which reports back to
/// `chat`; anyone else is told it is for supervisors.
fn reload(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update_id: i64,
    chat: i64,
    agent: i64,
) -> anyhow::Result<Vec<Step>> {
    use crate::config::Role;
    let text = match shared.config.agent(agent).map(|a| a.role) {
        Some(Role::Supervisor) => {
            tracing::info!(chat, agent, "/reload from a supervisor");
            match shared.reload.try_send(Some(chat)) {
                Ok(()) => "Reloading intents and dialogs…",
                Err(_) => "A reload is already under way.",
            }
        }
        Some(Role::Agent) => "Only supervisors can reload the pack.",
        None => {
            tracing::warn!(
                user = agent,
                chat,
                "/reload from someone not on the agent list was refused"
            );
            "Only supervisors can reload the pack."
        }
    };
    batch.record(update_id, vec![Pending::text(chat, text)])
}

fn is_reload(text: &str) -> bool {
    command_of(text).is_some_and(|name| name == "reload")
}

/// A message in the agents' group.
pub fn on_group_message(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update_id: i64,
    message: &Message,
) -> anyhow::Result<Vec<Step>> {
    let chat = message.chat.id.0;
    let (Some(agent), Some(text)) = (message.from.as_ref().map(|u| u.id.0 as i64), message.text())
    else {
        return batch.record(update_id, Vec::new());
    };
    if is_reload(text) {
        return reload(shared, batch, update_id, chat, agent);
    }
    let action = if text.trim_start().starts_with('/') {
        Some(Action::Command(text))
    } else if let Some(replied) = message.reply_to_message() {
        batch
            .message_ticket(chat, i64::from(replied.id.0))?
            .map(|ticket| Action::Reply { ticket, text })
    } else {
        None
    };
    let Some(action) = action else {
        // Agents talking among themselves.
        return batch.record(update_id, Vec::new());
    };
    tracing::info!(chat, agent, chars = text.chars().count(), "desk action");
    run(shared, batch, update_id, chat, agent, action)
}

/// A desk command from an agent's private chat.
pub fn agent_command(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update_id: i64,
    chat: i64,
    agent: i64,
    text: &str,
) -> anyhow::Result<Vec<Step>> {
    if is_reload(text) {
        return reload(shared, batch, update_id, chat, agent);
    }
    tracing::info!(chat, agent, "desk command in a private chat");
    run(shared, batch, update_id, chat, agent, Action::Command(text))
}

/// A button pressed in the agents' group (under a ticket card).
pub fn on_group_button(
    shared: &Shared,
    batch: &BatchStore<'_>,
    update_id: i64,
    chat: i64,
    query: &CallbackQuery,
    data: &str,
) -> anyhow::Result<Vec<Step>> {
    let agent = query.from.id.0 as i64;
    tracing::info!(chat, agent, "desk button");
    run(shared, batch, update_id, chat, agent, Action::Button(data))
}

/// Queues messages outside of any update and sends them.
pub async fn push_and_send(shared: &Arc<Shared>, messages: Vec<Pending>) {
    if messages.is_empty() {
        return;
    }
    let store = shared.store.clone();
    let queued = messages.clone();
    match tokio::task::spawn_blocking(move || store.outbox_push(&queued)).await {
        Ok(Ok(ids)) => {
            for (id, message) in ids.into_iter().zip(&messages) {
                shared.sender.deliver(id, message, None).await;
            }
        }
        Ok(Err(e)) => tracing::error!(error = %e, "outbox not written"),
        Err(e) => tracing::error!(error = %e, "outbox not written"),
    }
}

/// The desk's SLA sweep every 30 seconds until `stop`: overdue tickets are
/// announced to the agents' group again.
pub async fn tick_every(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let started = Instant::now();
        let for_tick = shared.clone();
        let handled = tokio::task::spawn_blocking(move || {
            let pack = for_tick.pack.load_full();
            App::new(&pack, &*for_tick.store, &for_tick.config).tick(unix_now())
        })
        .await;
        match handled {
            Ok(Ok(handled)) => {
                let messages = pending(handled.messages);
                if !messages.is_empty() {
                    tracing::info!(cards = messages.len(), "overdue tickets announced again");
                }
                push_and_send(&shared, messages).await;
            }
            // A store that cannot write stops the server; a ticket that
            // cannot be read is only logged.
            Ok(Err(e @ crate::store::StoreError::Backend(_))) => {
                shared.metrics.fail_store(&e.to_string())
            }
            Ok(Err(e)) => tracing::error!(error = %e, "SLA sweep failed"),
            Err(e) => tracing::error!(error = %e, "SLA sweep failed"),
        }
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "SLA sweep");
    }
}
