//! The agents' group, over the core's desk ([`App::agent`], [`App::tick`]):
//! commands (`/take 12`), card buttons (`take:12`), and replies to a card
//! or a relayed message, which go to that message's ticket (the store maps
//! Telegram message ids to tickets as cards are sent). Other talk among
//! agents is left alone. The SLA sweep runs every 30 seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use teloxide::types::{CallbackQuery, Message};
use tokio::sync::watch;

use super::handle::{pending, record, record_only, send_all, Decided, Job};
use super::{unix_now, Shared};
use crate::app::desk::AgentInput;
use crate::app::{App, Handled};
use crate::store::{Pending, Store};

/// The desk's commands: an agent's private message starting with one of
/// these goes to the desk, not the user-side brain.
const DESK_COMMANDS: [&str; 8] = [
    "queue", "take", "reply", "note", "resolve", "reassign", "mine", "agent",
];

pub fn is_desk_command(text: &str) -> bool {
    let Some(command) = text.trim_start().strip_prefix('/') else {
        return false;
    };
    let name = crate::brain::command_name(command.split_whitespace().next().unwrap_or_default());
    DESK_COMMANDS.contains(&name.as_str())
}

/// What the desk is asked to do, owned (it crosses into a blocking task).
enum Action {
    Command(String),
    Button(String),
    Reply { ticket: u64, text: String },
}

/// Runs the desk for one agent action and records the update with the
/// replies, atomically.
async fn run(
    shared: &Arc<Shared>,
    update_id: i64,
    chat: i64,
    agent: i64,
    action: Action,
) -> anyhow::Result<Option<Decided>> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let pack = shared.pack.load_full();
        let store: &dyn Store = &*shared.store;
        let app = App::new(&pack, store, &shared.config);
        let input = match &action {
            Action::Command(text) => AgentInput::Command(text),
            Action::Button(value) => AgentInput::Button(value),
            Action::Reply { ticket, text } => AgentInput::Reply {
                ticket: *ticket,
                text,
            },
        };
        let handled: Handled = app.agent(chat, agent, input, unix_now())?;
        if let Some(user) = handled.refused {
            tracing::warn!(
                user,
                chat,
                "a desk action from someone not on the agent list was refused"
            );
        }
        record(store, update_id, None, pending(handled.messages), false)
    })
    .await?
}

/// A message in the agents' group.
pub async fn on_group_message(
    shared: &Arc<Shared>,
    job: &Job,
    update_id: i64,
    message: &Message,
) -> anyhow::Result<()> {
    let chat = message.chat.id.0;
    let (Some(agent), Some(text)) = (message.from.as_ref().map(|u| u.id.0 as i64), message.text())
    else {
        record_only(shared, update_id, Vec::new()).await?;
        return Ok(());
    };
    let action = if text.trim_start().starts_with('/') {
        Some(Action::Command(text.to_string()))
    } else if let Some(replied) = message.reply_to_message() {
        let store = shared.store.clone();
        let replied = i64::from(replied.id.0);
        let ticket =
            tokio::task::spawn_blocking(move || store.message_ticket(chat, replied)).await??;
        ticket.map(|ticket| Action::Reply {
            ticket,
            text: text.to_string(),
        })
    } else {
        None
    };
    let Some(action) = action else {
        // Agents talking among themselves.
        record_only(shared, update_id, Vec::new()).await?;
        return Ok(());
    };
    tracing::info!(chat, agent, chars = text.chars().count(), "desk action");
    let decided = run(shared, update_id, chat, agent, action).await?;
    send_all(shared, decided, job.received).await;
    Ok(())
}

/// A desk command from an agent's private chat.
pub async fn agent_command(
    shared: &Arc<Shared>,
    job: &Job,
    update_id: i64,
    chat: i64,
    agent: i64,
    text: &str,
) -> anyhow::Result<()> {
    tracing::info!(chat, agent, "desk command in a private chat");
    let decided = run(
        shared,
        update_id,
        chat,
        agent,
        Action::Command(text.to_string()),
    )
    .await?;
    send_all(shared, decided, job.received).await;
    Ok(())
}

/// A button pressed in the agents' group (under a ticket card).
pub async fn on_group_button(
    shared: &Arc<Shared>,
    job: &Job,
    update_id: i64,
    chat: i64,
    query: &CallbackQuery,
    data: &str,
) -> anyhow::Result<()> {
    let agent = query.from.id.0 as i64;
    tracing::info!(chat, agent, "desk button");
    let decided = run(
        shared,
        update_id,
        chat,
        agent,
        Action::Button(data.to_string()),
    )
    .await?;
    send_all(shared, decided, job.received).await;
    Ok(())
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
            Ok(Err(e)) => tracing::error!(error = %e, "SLA sweep failed"),
            Err(e) => tracing::error!(error = %e, "SLA sweep failed"),
        }
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "SLA sweep");
    }
}
