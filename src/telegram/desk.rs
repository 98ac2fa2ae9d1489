//! The agents' group. The agent desk (`App::agent`, `App::tick`) is being
//! written in the core; until it lands, agents' messages and buttons are
//! only logged, and the SLA tick does nothing.

use std::sync::Arc;
use std::time::Duration;

use teloxide::types::{CallbackQuery, Message};
use tokio::sync::watch;

use super::Shared;

/// A message in the agents' group.
pub async fn on_group_message(shared: &Arc<Shared>, message: &Message) {
    let agent = message.from.as_ref().map(|u| u.id.0 as i64);
    let known = agent.and_then(|id| shared.config.agent(id)).is_some();
    let reply_to = message.reply_to_message().map(|m| m.id.0);
    tracing::info!(
        chat = message.chat.id.0,
        agent,
        known,
        reply_to,
        chars = message.text().map_or(0, |t| t.chars().count()),
        "agents' group message (the agent desk is not wired yet)"
    );
}

/// A button pressed in the agents' group.
pub async fn on_group_button(shared: &Arc<Shared>, query: &CallbackQuery, data: &str) {
    let agent = query.from.id.0 as i64;
    tracing::info!(
        agent,
        known = shared.config.agent(agent).is_some(),
        bytes = data.len(),
        "agents' group button (the agent desk is not wired yet)"
    );
}

/// Calls the desk's SLA tick every 30 seconds until `stop`.
pub async fn tick_every(_shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
