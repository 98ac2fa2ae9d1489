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

/// The tickets with `status` (a status name, `open`, or all).
fn filtered(store: &dyn Store, status: Option<&str>) -> anyhow::Result<Vec<Ticket>> {
    let wanted = match status {
        None => None,
        Some("open") => Some(None),
        Some(name) => Some(Some(Status::parse(name).ok_or_else(|| {
            anyhow::anyhow!("unknown status `{name}` (queued, assigned, waiting_on_user, resolved, closed, open)")
        })?)),
    };
    let mut tickets = store.tickets()?;
    tickets.retain(|t| match wanted {
        None => true,
        Some(None) => t.status.is_open(),
        Some(Some(s)) => t.status == s,
    });
    Ok(tickets)
}

/// What `kefu tickets --json` prints and the admin endpoint's `/tickets`
/// serves.
pub fn tickets_json(store: &dyn Store, status: Option<&str>) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::Value::Array(
        filtered(store, status)?.iter().map(summary).collect(),
    ))
}

/// Where tickets are read from: the data directory, or a running
/// `kefu serve`'s admin endpoint (sled lets only one process open it).
pub enum Source<'a> {
    Data(&'a Path),
    /// The server's address and the admin token its ticket API needs.
    Server(&'a str, Option<&'a crate::config::Secret>),
}

/// GETs `path` from an admin endpoint and parses the JSON.
fn fetch(
    (server, token): (&str, Option<&crate::config::Secret>),
    path: &str,
) -> anyhow::Result<serde_json::Value> {
    let base = if server.contains("://") {
        server.trim_end_matches('/').to_string()
    } else {
        format!("http://{}", server.trim_end_matches('/'))
    };
    let url = format!("{base}{path}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(&token.0);
        }
        let response = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            anyhow::bail!(
                "{url}: the server wants its admin token: set KEFU_ADMIN_TOKEN (or [serve] admin_token in --config) to the server's"
            );
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| anyhow::anyhow!("{url}: not the ticket API ({e})"))?;
        if !status.is_success() {
            let message = body["error"].as_str().unwrap_or("request failed");
            anyhow::bail!("{message}");
        }
        Ok(body)
    })
}

pub fn list(source: Source<'_>, status: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let tickets: Vec<Ticket> = match source {
        Source::Data(data) => filtered(&open(data)?, status)?,
        Source::Server(server, token) => {
            let server = (server, token);
            let path = match status {
                Some(s) => format!("/tickets?status={s}"),
                None => "/tickets".to_string(),
            };
            let summaries = fetch(server, &path)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&summaries)?);
                return Ok(0);
            }
            let mut tickets = Vec::new();
            for summary in summaries.as_array().into_iter().flatten() {
                let number = summary["number"].as_str().unwrap_or_default();
                let full = fetch(server, &format!("/tickets/{number}"))?;
                tickets.push(serde_json::from_value(full)?);
            }
            tickets
        }
    };
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

pub fn show(source: Source<'_>, number: &str, json: bool) -> anyhow::Result<u8> {
    let n = ticket::parse_label(number)
        .ok_or_else(|| anyhow::anyhow!("`{number}` is not a ticket number (T-000123 or 123)"))?;
    let t: Ticket = match source {
        Source::Data(data) => {
            let store = open(data)?;
            let Some(t) = store.ticket(n)? else {
                anyhow::bail!("no ticket {}", ticket::label(n));
            };
            t
        }
        Source::Server(server, token) => {
            serde_json::from_value(fetch((server, token), &format!("/tickets/{n}"))?)?
        }
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
