//! `kefu tickets` and `kefu ticket N`: what is in the queue, from the data
//! directory.

use std::path::Path;

use serde_json::json;

use crate::store::{SledStore, Store, StoreError};
use crate::ticket::{self, Status, Ticket};

fn open(data: &Path) -> anyhow::Result<SledStore> {
    SledStore::open(data).map_err(|e| match e {
        StoreError::Locked(dir) => anyhow::anyhow!(
            "the data directory {dir} is held by a running kefu (sled allows one process); ask the server instead: `--server URL` (its --admin address)"
        ),
        other => other.into(),
    })
}

fn summary(t: &Ticket) -> serde_json::Value {
    json!({
        "number": t.label(),
        "status": t.status.name(),
        "priority": t.priority.name(),
        "intent": t.intent,
        "lang": t.lang.code(),
        "chat": t.chat,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "due_at": t.due_at,
        "agent": t.agent.as_ref().map(|(_, name)| name),
    })
}

pub fn list(data: &Path, status: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let wanted = match status {
        None => None,
        Some("open") => Some(None),
        Some(name) => Some(Some(Status::parse(name).ok_or_else(|| {
            anyhow::anyhow!("unknown status `{name}` (queued, assigned, waiting_on_user, resolved, closed, open)")
        })?)),
    };
    let store = open(data)?;
    let mut tickets = store.tickets()?;
    tickets.retain(|t| match wanted {
        None => true,
        Some(None) => t.status.is_open(),
        Some(Some(s)) => t.status == s,
    });
    if json {
        let out: Vec<_> = tickets.iter().map(summary).collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if tickets.is_empty() {
        println!("no tickets");
    } else {
        for t in &tickets {
            println!(
                "{}  {:<15} {:<7} {:<22} {}",
                t.label(),
                t.status.name(),
                t.priority.name(),
                t.intent.as_deref().unwrap_or("-"),
                t.values
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    }
    Ok(0)
}

pub fn show(data: &Path, number: &str, json: bool) -> anyhow::Result<u8> {
    let n = ticket::parse_label(number)
        .ok_or_else(|| anyhow::anyhow!("`{number}` is not a ticket number (T-000123 or 123)"))?;
    let store = open(data)?;
    let Some(t) = store.ticket(n)? else {
        anyhow::bail!("no ticket {}", ticket::label(n));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&t)?);
        return Ok(0);
    }
    println!(
        "{}  {}  priority {}",
        t.label(),
        t.status.name(),
        t.priority.name()
    );
    println!("intent: {}", t.intent.as_deref().unwrap_or("-"));
    println!("language: {}  chat: {}", t.lang.code(), t.chat);
    for (k, v) in &t.values {
        println!("  {k}: {v}");
    }
    if let Some((_, agent)) = &t.agent {
        println!("agent: {agent}");
    }
    println!("transcript:");
    for line in &t.transcript {
        println!(
            "  {} {}",
            if line.user { ">" } else { "<" },
            line.text.replace('\n', "\n    ")
        );
    }
    for note in &t.notes {
        println!("note by {}: {}", note.author, note.text);
    }
    Ok(0)
}
