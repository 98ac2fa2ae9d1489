//! Where state lives: sessions, tickets with their queue and per-chat
//! index, processed update ids. A [`Store`] trait, and [`SledStore`], the
//! only module that imports sled.
//!
//! Values are JSON wrapped in a version envelope (`{"v":1,"data":…}`), so a
//! later kefu can still read what this one wrote, and a value written by a
//! newer kefu is refused clearly instead of misread.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::brain::{Choice, Session};
use crate::ticket::{Status, Ticket};

/// A Telegram chat id (the terminal chat uses [`CONSOLE_CHAT`]).
pub type ChatId = i64;

/// The terminal chat's id: Telegram never uses 0.
pub const CONSOLE_CHAT: ChatId = 0;

/// The version of the values this kefu writes.
const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process has the database open (sled allows one).
    #[error("the data directory {0} is in use by another kefu process (a running `kefu serve`?)")]
    Locked(String),
    #[error("storage error: {0}")]
    Backend(String),
    /// A value that cannot be read: corrupt, or from a newer kefu.
    #[error("unreadable {what}: {why}")]
    Unreadable { what: String, why: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: u32,
    data: T,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        v: VERSION,
        data: value,
    })
    .expect("plain data serialises")
}

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let unreadable = |why: String| StoreError::Unreadable {
        what: what.to_string(),
        why,
    };
    let version: Version = serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string()))?;
    if version.v > VERSION {
        return Err(unreadable(format!(
            "written by a newer kefu (format {}, this one reads up to {VERSION})",
            version.v
        )));
    }
    let envelope: Envelope<T> =
        serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string()))?;
    Ok(envelope.data)
}

/// A message decided but not yet sent: kept in the outbox until Telegram
/// has it, so a crash between deciding and sending loses nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub chat: ChatId,
    pub text: String,
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// The ticket this message is about (a card, a relayed message).
    #[serde(default)]
    pub ticket: Option<u64>,
}

/// What one processed update changed. [`Store::record_update`] writes it
/// all or nothing, so an update is either unseen or fully handled.
#[derive(Clone, Copy, Debug)]
pub struct UpdateRecord<'a> {
    pub update_id: i64,
    /// The chat's new session, if the update changed it.
    pub session: Option<(ChatId, &'a Session)>,
    /// The replies to send, in order.
    pub outbox: &'a [Pending],
}

/// Everything kefu keeps. Implementations must be safe to share between
/// threads; every write is atomic.
pub trait Store: Send + Sync {
    fn session(&self, chat: ChatId) -> Result<Option<Session>>;
    fn save_session(&self, chat: ChatId, session: &Session) -> Result<()>;

    /// Allocates the next ticket number, builds the ticket with it and
    /// writes it durably (flushed) before returning.
    fn create_ticket(&self, build: &mut dyn FnMut(u64) -> Ticket) -> Result<Ticket>;
    /// Writes a changed ticket, keeping the queue and indexes in step.
    fn save_ticket(&self, ticket: &Ticket) -> Result<()>;
    fn ticket(&self, number: u64) -> Result<Option<Ticket>>;
    /// All tickets, by number.
    fn tickets(&self) -> Result<Vec<Ticket>>;
    /// The queued tickets in queue order (priority, then age).
    fn queue(&self) -> Result<Vec<Ticket>>;
    /// The tickets of one chat, by number.
    fn chat_tickets(&self, chat: ChatId) -> Result<Vec<Ticket>>;

    /// Remembers how long a ticket waited before an agent took it (the
    /// last 50 are kept, for users' expected waits).
    fn record_wait(&self, seconds: i64) -> Result<()>;
    /// The waits recorded, oldest first.
    fn recent_waits(&self) -> Result<Vec<i64>>;

    /// Records a processed Telegram update id; false if it was seen before.
    fn mark_update(&self, update_id: i64) -> Result<bool>;
    /// Whether an update id was processed.
    fn update_seen(&self, update_id: i64) -> Result<bool>;
    /// Atomically: marks the update processed, saves the session, queues
    /// the replies in the outbox and drops the update from the inbox; then
    /// flushes. Returns the outbox ids of the replies, or `None` (and
    /// writes nothing) if the update was processed before.
    fn record_update(&self, record: &UpdateRecord<'_>) -> Result<Option<Vec<u64>>>;

    /// Keeps received, not yet processed updates (raw bytes, by update
    /// id), flushed, so they can be confirmed to Telegram before they are
    /// handled and still be handled after a crash.
    fn inbox_put(&self, updates: &[(i64, Vec<u8>)]) -> Result<()>;
    /// The inbox, by update id.
    fn inbox(&self) -> Result<Vec<(i64, Vec<u8>)>>;
    /// Drops an update from the inbox without handling it.
    fn inbox_remove(&self, update_id: i64) -> Result<()>;

    /// Queues messages to send (outside of an update); returns their ids.
    fn outbox_push(&self, messages: &[Pending]) -> Result<Vec<u64>>;
    /// The outbox in the order the messages were decided.
    fn outbox(&self) -> Result<Vec<(u64, Pending)>>;
    /// A message was delivered: drops it from the outbox (flushed, so a
    /// restart does not send it again).
    fn outbox_sent(&self, id: u64) -> Result<()>;

    /// Remembers that a Telegram message (in `chat`, e.g. the agents'
    /// group) is about a ticket, so a reply to it reaches that ticket.
    fn link_message(&self, chat: ChatId, message_id: i64, ticket: u64) -> Result<()>;
    fn message_ticket(&self, chat: ChatId, message_id: i64) -> Result<Option<u64>>;

    /// Makes everything written so far durable.
    fn flush(&self) -> Result<()>;
}

/// The embedded default: a sled database in the data directory.
pub struct SledStore {
    db: sled::Db,
    sessions: sled::Tree,
    tickets: sled::Tree,
    /// (priority, created_at, number) → number, for queued tickets.
    queue: sled::Tree,
    /// (chat, number) → (), every ticket of a chat.
    by_chat: sled::Tree,
    updates: sled::Tree,
    meta: sled::Tree,
    /// update id → raw update, received but not yet processed.
    inbox: sled::Tree,
    /// sequence → [`Pending`], decided but not yet sent.
    outbox: sled::Tree,
    /// (chat, message id) → ticket number.
    messages: sled::Tree,
    flusher: GroupFlush,
}

/// Group commit: concurrent `flush` calls share one fsync. A caller's
/// writes are durable once a flush that *started after* its call has
/// finished; callers that arrive while a flush runs wait for the next one,
/// which one of them runs for all.
#[derive(Default)]
struct GroupFlush {
    state: std::sync::Mutex<FlushState>,
    done: std::sync::Condvar,
}

#[derive(Default)]
struct FlushState {
    /// Tickets handed out to callers.
    requested: u64,
    /// Every ticket up to this one is durable.
    completed: u64,
    running: bool,
}

impl GroupFlush {
    fn lock(&self) -> std::sync::MutexGuard<'_, FlushState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn flush(&self, db: &sled::Db) -> Result<()> {
        let mut state = self.lock();
        state.requested += 1;
        let mine = state.requested;
        loop {
            if state.completed >= mine {
                return Ok(());
            }
            if state.running {
                state = self.done.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // Everyone who asked so far wrote before this flush starts.
            let covers = state.requested;
            state.running = true;
            drop(state);
            let result = db.flush().map_err(backend);
            state = self.lock();
            state.running = false;
            if result.is_ok() {
                state.completed = state.completed.max(covers);
            }
            self.done.notify_all();
            result?;
        }
    }
}

fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

fn queue_key(ticket: &Ticket) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(ticket.priority as u8);
    key.extend((ticket.created_at as u64 ^ (1 << 63)).to_be_bytes());
    key.extend(ticket.number.to_be_bytes());
    key
}

fn chat_key(chat: ChatId, number: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(16);
    key.extend((chat as u64 ^ (1 << 63)).to_be_bytes());
    key.extend(number.to_be_bytes());
    key
}

/// sled's page cache (its default is 1 GiB): sessions and open tickets are
/// small, and the bot should stay well under 100 MB.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

const NEXT_TICKET: &[u8] = b"next_ticket";
const RECENT_WAITS: &[u8] = b"recent_waits";
const KEPT_WAITS: usize = 50;

impl SledStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<SledStore> {
        std::fs::create_dir_all(dir).map_err(backend)?;
        let db = sled::Config::new()
            .path(dir.join("kefu.sled"))
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("lock") =>
                {
                    StoreError::Locked(dir.display().to_string())
                }
                other => backend(other),
            })?;
        Self::from_db(db)
    }

    /// A throw-away database (for `kefu test` and benchmarks).
    pub fn temporary() -> Result<SledStore> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(backend)?;
        Self::from_db(db)
    }

    fn from_db(db: sled::Db) -> Result<SledStore> {
        let tree = |name: &str| db.open_tree(name).map_err(backend);
        Ok(SledStore {
            sessions: tree("sessions")?,
            tickets: tree("tickets")?,
            queue: tree("queue")?,
            by_chat: tree("by_chat")?,
            updates: tree("updates")?,
            meta: tree("meta")?,
            inbox: tree("inbox")?,
            outbox: tree("outbox")?,
            messages: tree("messages")?,
            db,
            flusher: GroupFlush::default(),
        })
    }

    fn write_ticket(&self, ticket: &Ticket) -> Result<()> {
        use sled::transaction::{ConflictableTransactionError, TransactionError};
        use sled::Transactional;
        let number = ticket.number.to_be_bytes();
        let value = encode(ticket);
        (&self.tickets, &self.queue, &self.by_chat)
            .transaction(|(tickets, queue, by_chat)| {
                if let Some(old) = tickets.get(number)? {
                    let old: Ticket =
                        decode(&old, "ticket").map_err(ConflictableTransactionError::Abort)?;
                    queue.remove(queue_key(&old))?;
                }
                tickets.insert(&number, value.as_slice())?;
                if ticket.status == Status::Queued {
                    queue.insert(queue_key(ticket), &number)?;
                }
                by_chat.insert(chat_key(ticket.chat, ticket.number), &[])?;
                Ok(())
            })
            .map_err(|e: TransactionError<StoreError>| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => backend(e),
            })
    }

    fn read_ticket(&self, number: u64) -> Result<Option<Ticket>> {
        self.tickets
            .get(number.to_be_bytes())
            .map_err(backend)?
            .map(|bytes| decode(&bytes, &crate::ticket::label(number)))
            .transpose()
    }
}

impl Store for SledStore {
    fn session(&self, chat: ChatId) -> Result<Option<Session>> {
        self.sessions
            .get(chat.to_be_bytes())
            .map_err(backend)?
            .map(|bytes| decode(&bytes, "session"))
            .transpose()
    }

    fn save_session(&self, chat: ChatId, session: &Session) -> Result<()> {
        self.sessions
            .insert(chat.to_be_bytes(), encode(session))
            .map_err(backend)?;
        Ok(())
    }

    fn create_ticket(&self, build: &mut dyn FnMut(u64) -> Ticket) -> Result<Ticket> {
        // An atomic increment: concurrent handoffs never share a number,
        // and numbers stay contiguous (sled's generate_id may skip).
        let next = self
            .meta
            .update_and_fetch(NEXT_TICKET, |old| {
                let current = old
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map_or(0, u64::from_be_bytes);
                Some((current + 1).to_be_bytes().to_vec())
            })
            .map_err(backend)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| backend("ticket counter missing"))?;
        let mut ticket = build(next);
        ticket.number = next;
        self.write_ticket(&ticket)?;
        self.flush()?;
        Ok(ticket)
    }

    fn save_ticket(&self, ticket: &Ticket) -> Result<()> {
        self.write_ticket(ticket)
    }

    fn ticket(&self, number: u64) -> Result<Option<Ticket>> {
        self.read_ticket(number)
    }

    fn tickets(&self) -> Result<Vec<Ticket>> {
        self.tickets
            .iter()
            .values()
            .map(|v| decode(&v.map_err(backend)?, "ticket"))
            .collect()
    }

    fn queue(&self) -> Result<Vec<Ticket>> {
        let mut out = Vec::new();
        for entry in self.queue.iter().values() {
            let bytes = entry.map_err(backend)?;
            let number = <[u8; 8]>::try_from(bytes.as_ref())
                .map(u64::from_be_bytes)
                .map_err(backend)?;
            if let Some(ticket) = self.read_ticket(number)? {
                out.push(ticket);
            }
        }
        Ok(out)
    }

    fn chat_tickets(&self, chat: ChatId) -> Result<Vec<Ticket>> {
        let prefix = (chat as u64 ^ (1 << 63)).to_be_bytes();
        let mut out = Vec::new();
        for key in self.by_chat.scan_prefix(prefix).keys() {
            let key = key.map_err(backend)?;
            let number = <[u8; 8]>::try_from(&key[8..])
                .map(u64::from_be_bytes)
                .map_err(backend)?;
            if let Some(ticket) = self.read_ticket(number)? {
                out.push(ticket);
            }
        }
        Ok(out)
    }

    fn record_wait(&self, seconds: i64) -> Result<()> {
        self.meta
            .update_and_fetch(RECENT_WAITS, |old| {
                let mut waits: Vec<i64> = old
                    .and_then(|bytes| decode(bytes, "recent waits").ok())
                    .unwrap_or_default();
                waits.push(seconds);
                let excess = waits.len().saturating_sub(KEPT_WAITS);
                waits.drain(..excess);
                Some(encode(&waits))
            })
            .map_err(backend)?;
        Ok(())
    }

    fn recent_waits(&self) -> Result<Vec<i64>> {
        match self.meta.get(RECENT_WAITS).map_err(backend)? {
            Some(bytes) => decode(&bytes, "recent waits"),
            None => Ok(Vec::new()),
        }
    }

    fn mark_update(&self, update_id: i64) -> Result<bool> {
        let previous = self
            .updates
            .insert(update_id.to_be_bytes(), &[])
            .map_err(backend)?;
        Ok(previous.is_none())
    }

    fn update_seen(&self, update_id: i64) -> Result<bool> {
        self.updates
            .contains_key(update_id.to_be_bytes())
            .map_err(backend)
    }

    fn record_update(&self, record: &UpdateRecord<'_>) -> Result<Option<Vec<u64>>> {
        use sled::transaction::{abort, TransactionError};
        use sled::Transactional;
        // Sequence numbers first: sled ids only grow, even across restarts,
        // so the outbox keeps the order replies were decided in.
        let mut ids = Vec::with_capacity(record.outbox.len());
        for _ in record.outbox {
            ids.push(self.db.generate_id().map_err(backend)?);
        }
        let key = record.update_id.to_be_bytes();
        let session = record
            .session
            .map(|(chat, s)| (chat.to_be_bytes(), encode(s)));
        let messages: Vec<Vec<u8>> = record.outbox.iter().map(encode).collect();
        let result = (&self.updates, &self.sessions, &self.outbox, &self.inbox).transaction(
            |(updates, sessions, outbox, inbox)| {
                if updates.insert(&key, &[])?.is_some() {
                    return abort(());
                }
                if let Some((chat, bytes)) = &session {
                    sessions.insert(chat, bytes.as_slice())?;
                }
                for (id, message) in ids.iter().zip(&messages) {
                    outbox.insert(&id.to_be_bytes(), message.as_slice())?;
                }
                inbox.remove(&key)?;
                Ok(())
            },
        );
        match result {
            Ok(()) => {
                self.flush()?;
                Ok(Some(ids))
            }
            Err(TransactionError::Abort(())) => Ok(None),
            Err(TransactionError::Storage(e)) => Err(backend(e)),
        }
    }

    fn inbox_put(&self, updates: &[(i64, Vec<u8>)]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (id, raw) in updates {
            batch.insert(&id.to_be_bytes(), raw.as_slice());
        }
        self.inbox.apply_batch(batch).map_err(backend)?;
        self.flush()
    }

    fn inbox(&self) -> Result<Vec<(i64, Vec<u8>)>> {
        let mut out = Vec::new();
        for entry in self.inbox.iter() {
            let (key, value) = entry.map_err(backend)?;
            let id = <[u8; 8]>::try_from(key.as_ref())
                .map(i64::from_be_bytes)
                .map_err(backend)?;
            out.push((id, value.to_vec()));
        }
        // Negative ids never occur; big-endian order is numeric order.
        Ok(out)
    }

    fn inbox_remove(&self, update_id: i64) -> Result<()> {
        self.inbox
            .remove(update_id.to_be_bytes())
            .map_err(backend)?;
        self.flush()
    }

    fn outbox_push(&self, messages: &[Pending]) -> Result<Vec<u64>> {
        let mut batch = sled::Batch::default();
        let mut ids = Vec::with_capacity(messages.len());
        for message in messages {
            let id = self.db.generate_id().map_err(backend)?;
            batch.insert(&id.to_be_bytes(), encode(message));
            ids.push(id);
        }
        self.outbox.apply_batch(batch).map_err(backend)?;
        self.flush()?;
        Ok(ids)
    }

    fn outbox(&self) -> Result<Vec<(u64, Pending)>> {
        let mut out = Vec::new();
        for entry in self.outbox.iter() {
            let (key, value) = entry.map_err(backend)?;
            let id = <[u8; 8]>::try_from(key.as_ref())
                .map(u64::from_be_bytes)
                .map_err(backend)?;
            out.push((id, decode(&value, "outbox message")?));
        }
        Ok(out)
    }

    fn outbox_sent(&self, id: u64) -> Result<()> {
        self.outbox.remove(id.to_be_bytes()).map_err(backend)?;
        self.flush()
    }

    fn link_message(&self, chat: ChatId, message_id: i64, ticket: u64) -> Result<()> {
        self.messages
            .insert(message_key(chat, message_id), &ticket.to_be_bytes())
            .map_err(backend)?;
        Ok(())
    }

    fn message_ticket(&self, chat: ChatId, message_id: i64) -> Result<Option<u64>> {
        Ok(self
            .messages
            .get(message_key(chat, message_id))
            .map_err(backend)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map(u64::from_be_bytes))
    }

    fn flush(&self) -> Result<()> {
        self.flusher.flush(&self.db)
    }
}

fn message_key(chat: ChatId, message_id: i64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&chat.to_be_bytes());
    key[8..].copy_from_slice(&message_id.to_be_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_newer_than_ours_are_refused() {
        let bytes = br#"{"v":99,"data":{}}"#;
        let error = decode::<Session>(bytes, "session").unwrap_err();
        assert!(error.to_string().contains("newer kefu"), "{error}");
        let old: Session = decode(br#"{"v":1,"data":{"lang":"en"}}"#, "session").unwrap();
        assert_eq!(old.lang, crate::lang::Lang::En);
    }
}
