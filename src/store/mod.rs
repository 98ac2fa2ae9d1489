//! Where state lives: sessions, tickets with their queue and per-chat
//! index, processed update ids. A [`Store`] trait, and [`SledStore`], the
//! only module that imports sled.
//!
//! Values are JSON wrapped in a version envelope (`{"v":1,"data":…}`), so a
//! later kefu can still read what this one wrote, and a value written by a
//! newer kefu is refused clearly instead of misread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::brain::{Choice, Line, Session};
use crate::ticket::{Status, Ticket};
pub use journal::ReplayReport;
use journal::{Journal, Mode, Op, Tree};

mod journal;

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
    /// Part of the data directory is missing or damaged while the rest
    /// shows it was in use: starting would lose (or hide) what it held.
    #[error("{message}")]
    Damaged {
        message: String,
        /// Only the journal (the database is sound).
        journal_only: bool,
    },
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
    /// Shared: the outbox entry and the step that delivers it hold the
    /// same text.
    pub text: Arc<str>,
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// The ticket this message is about (a card, a relayed message).
    #[serde(default)]
    pub ticket: Option<u64>,
}

impl Pending {
    /// A plain text, about no ticket.
    pub fn text(chat: ChatId, text: impl Into<String>) -> Pending {
        Pending {
            chat,
            text: text.into().into(),
            choices: Vec::new(),
            ticket: None,
        }
    }
}

/// What a batch of processed updates changed. [`Store::record_batch`]
/// writes it all or nothing, so each update is either unseen or fully
/// handled.
#[derive(Clone, Copy, Debug, Default)]
pub struct BatchRecord<'a> {
    /// The ids of the updates processed, one by one (webhook mode, where
    /// they may arrive in any order).
    pub updates: &'a [i64],
    /// Every update id up to this one is processed (long polling, where
    /// ids grow and a batch is a contiguous run): one write per batch.
    /// It replaces the last mark even when lower: Telegram restarts its
    /// update ids after a week without updates.
    pub through: Option<i64>,
    /// The sessions they changed (the last version of each).
    pub sessions: &'a [(ChatId, &'a Session)],
    /// The replies to send, with ids from [`Store::outbox_id`], in order.
    pub outbox: &'a [(u64, Pending)],
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
    /// Whether an update id was processed (recorded one by one, or at or
    /// below a batch's `through`).
    fn update_seen(&self, update_id: i64) -> Result<bool>;
    /// The last batch's `through` mark (long polling), if any.
    fn updates_through(&self) -> Result<Option<i64>> {
        Ok(None)
    }
    /// Atomically: marks the updates processed, saves the sessions and
    /// queues the replies in the outbox, in one write for the whole batch
    /// (one journal entry in [`SledStore`]). Durable with the next
    /// [`flush`](Store::flush): `kefu serve` confirms a batch to Telegram
    /// and sends its replies only after that.
    fn record_batch(&self, batch: &BatchRecord<'_>) -> Result<()>;
    /// A new outbox id: ids only grow, even across restarts, so the outbox
    /// keeps the order replies were decided in.
    fn outbox_id(&self) -> Result<u64>;
    /// Forgets processed update ids below `update_id` (Telegram redelivers
    /// only recent, unconfirmed updates); returns how many were dropped.
    fn forget_updates_before(&self, update_id: i64) -> Result<usize>;

    /// Queues messages to send (outside of an update), flushed; returns
    /// their ids.
    fn outbox_push(&self, messages: &[Pending]) -> Result<Vec<u64>>;
    /// The outbox in the order the messages were decided.
    fn outbox(&self) -> Result<Vec<(u64, Pending)>>;
    /// Messages were delivered: drops them from the outbox. Durable with
    /// the next flush; until then a restart would send them again.
    fn outbox_sent(&self, ids: &[u64]) -> Result<()>;

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
    /// What turns write (through a journal, see [`journal`]):
    /// - `sessions`: chat → the session without its transcript;
    /// - `lines`: (chat, slot) → one transcript line;
    /// - `outbox`: sequence → [`Pending`], decided but not yet sent;
    /// - `updates`: the ids of processed webhook updates;
    /// - the processed-updates watermark in `meta`.
    journal: Journal,
    /// Decoded sessions, so a turn neither reads nor decodes its session
    /// (this process is the database's only user: sled locks it).
    cache: std::sync::Mutex<SessionCache>,
    tickets: sled::Tree,
    /// (priority, created_at, number) → number, for queued tickets.
    queue: sled::Tree,
    /// (chat, number) → (), every ticket of a chat.
    by_chat: sled::Tree,
    /// The ticket counter and recent waits (written directly).
    meta: sled::Tree,
    /// (chat, message id) → ticket number.
    messages: sled::Tree,
    flusher: GroupFlush,
    /// Every update id up to this one is processed (kept in `meta`).
    through: std::sync::atomic::AtomicI64,
    /// What opening replayed from the journal.
    replayed: ReplayReport,
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

    fn flush(&self, flush: impl Fn() -> Result<()>) -> Result<()> {
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
            let result = flush();
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

/// The database and the journal, in the data directory.
const DATABASE: &str = "kefu.sled";
const JOURNAL: &str = "kefu.journal";

/// A damaged data directory, with what to do about it.
fn damaged(dir: &Path, what: &str, journal_only: bool) -> StoreError {
    let message = format!(
        "the data directory {dir} is damaged: {what}. kefu will not start on it (it would \
         start empty or without confirmed turns). To move the damaged parts aside into a dated \
         folder and start with what can be kept, run: kefu recover --data {dir}",
        dir = dir.display()
    );
    StoreError::Damaged {
        message,
        journal_only,
    }
}

/// What [`SledStore::recover`] did.
pub struct Recovery {
    /// The store, open.
    pub store: SledStore,
    /// What was moved (or, for a salvaged journal, copied) aside.
    pub moved: Vec<PathBuf>,
    /// The journal's replay.
    pub report: ReplayReport,
    /// What was wrong (`None`: nothing, the store opened as it was).
    pub what: Option<String>,
}

const NEXT_TICKET: &[u8] = b"next_ticket";
const UPDATES_THROUGH: &[u8] = b"updates_through";
const RECENT_WAITS: &[u8] = b"recent_waits";
const KEPT_WAITS: usize = 50;

impl SledStore {
    /// Opens (or creates) the database in `dir`. A directory that was in
    /// use but whose database is missing or damaged, or whose journal is
    /// damaged before its tail, is refused ([`StoreError::Damaged`], with
    /// the recovery command), never started empty.
    pub fn open(dir: &Path) -> Result<SledStore> {
        Self::open_mode(dir, Mode::Strict).map(|(store, _)| store)
    }

    fn open_mode(dir: &Path, mode: Mode) -> Result<(SledStore, ReplayReport)> {
        std::fs::create_dir_all(dir).map_err(backend)?;
        let database = dir.join(DATABASE);
        let journal = dir.join(JOURNAL);
        // A journal that was ever written to shows the directory in use.
        let used = std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0);
        let refuse = |what: String| Err(damaged(dir, &what, what.starts_with("the journal")));
        if used && !database.exists() {
            return refuse(format!(
                "the database {} is missing, but the journal {} shows the directory was in use",
                database.display(),
                journal.display()
            ));
        }
        let db = sled::Config::new()
            .path(&database)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("lock") =>
                {
                    StoreError::Locked(dir.display().to_string())
                }
                other if used => damaged(
                    dir,
                    &format!(
                        "the database {} cannot be opened: {other}",
                        database.display()
                    ),
                    false,
                ),
                other => backend(other),
            })?;
        // Every open records the journal's epoch: a database without one
        // beside a used journal was replaced (zeroed, emptied, restored
        // from elsewhere), and its journal belongs to another.
        let epoch = db
            .open_tree("meta")
            .and_then(|meta| meta.get(journal::EPOCH_KEY))
            .map_err(backend)?;
        if used && epoch.is_none() {
            return refuse(format!(
                "the database {} is empty or was replaced (it has no journal epoch), but the \
                 journal {} shows the directory was in use",
                database.display(),
                journal.display()
            ));
        }
        if epoch.is_some() && !journal.exists() && mode == Mode::Strict {
            return refuse(format!(
                "the journal {} is missing (the database {} has been in use): the turns written \
                 since its last checkpoint are gone",
                journal.display(),
                database.display()
            ));
        }
        Self::from_db(db, Some(&journal), mode).map_err(|e| match e {
            StoreError::Damaged { message, .. } => damaged(dir, &message, true),
            other => other,
        })
    }

    /// `kefu recover`: moves what is damaged in `dir` into a dated folder
    /// inside it and opens the store, keeping what can be kept:
    /// - the database missing, unreadable or replaced: the database and
    ///   journal both go aside, and the store starts empty, on purpose;
    /// - the journal damaged before its tail: a copy goes aside and every
    ///   good entry is replayed (only the damaged ones are lost);
    /// - the journal missing: a new one is started.
    ///
    /// `now` names the folder (`damaged-YYYYMMDD-HHMMSS`).
    pub fn recover(dir: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<Recovery> {
        let aside = dir.join(format!("damaged-{}", now.format("%Y%m%d-%H%M%S")));
        let move_aside = |name: &str, copy: bool| -> Result<Option<PathBuf>> {
            let from = dir.join(name);
            if !from.exists() {
                return Ok(None);
            }
            std::fs::create_dir_all(&aside).map_err(backend)?;
            let to = aside.join(name);
            if copy {
                std::fs::copy(&from, &to).map_err(backend)?;
            } else {
                std::fs::rename(&from, &to).map_err(backend)?;
            }
            Ok(Some(to))
        };
        match Self::open_mode(dir, Mode::Strict) {
            Ok((store, report)) => Ok(Recovery {
                store,
                moved: Vec::new(),
                report,
                what: None,
            }),
            Err(StoreError::Damaged {
                message: what,
                journal_only,
            }) => {
                if journal_only {
                    let moved = move_aside(JOURNAL, true)?.into_iter().collect();
                    let (store, report) = Self::open_mode(dir, Mode::Salvage)?;
                    Ok(Recovery {
                        store,
                        moved,
                        report,
                        what: Some(what),
                    })
                } else {
                    let moved: Vec<PathBuf> =
                        [move_aside(DATABASE, false)?, move_aside(JOURNAL, false)?]
                            .into_iter()
                            .flatten()
                            .collect();
                    let (store, report) = Self::open_mode(dir, Mode::Strict)?;
                    Ok(Recovery {
                        store,
                        moved,
                        report,
                        what: Some(what),
                    })
                }
            }
            Err(other) => Err(other),
        }
    }

    /// A throw-away database (for `kefu test` and benchmarks).
    pub fn temporary() -> Result<SledStore> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(backend)?;
        Self::from_db(db, None, Mode::Strict).map(|(store, _)| store)
    }

    fn from_db(
        db: sled::Db,
        journal: Option<&Path>,
        mode: Mode,
    ) -> Result<(SledStore, ReplayReport)> {
        let tree = |name: &str| db.open_tree(name).map_err(backend);
        let (journal, report) = Journal::open_with(&db, journal, mode)?;
        let through = journal
            .get(Tree::Meta, UPDATES_THROUGH)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(i64::MIN, i64::from_be_bytes);
        let store = SledStore {
            journal,
            cache: std::sync::Mutex::new(SessionCache::default()),
            tickets: tree("tickets")?,
            queue: tree("queue")?,
            by_chat: tree("by_chat")?,
            meta: tree("meta")?,
            messages: tree("messages")?,
            db,
            flusher: GroupFlush::default(),
            through: std::sync::atomic::AtomicI64::new(through),
            replayed: report.clone(),
        };
        Ok((store, report))
    }

    /// What opening replayed from the journal (and cut off its tail).
    pub fn replayed(&self) -> &ReplayReport {
        &self.replayed
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

/// A session as stored. `inline`: written before transcript lines were
/// kept apart (its transcript is in its own value, none in `lines`).
#[derive(Clone, Debug)]
struct StoredSession {
    session: Session,
    inline: bool,
}

/// What saving a session writes: its value without the transcript, and
/// the transcript lines the stored version lacks.
struct SessionWrite {
    meta: Vec<u8>,
    added: Vec<([u8; 9], Vec<u8>)>,
    stored: StoredSession,
}

impl SessionWrite {
    /// Moves the journal's operations (the new lines, then the session)
    /// into `ops`; returns the session as the cache keeps it.
    fn into_ops(self, chat: ChatId, ops: &mut Vec<Op>) -> StoredSession {
        for (key, value) in self.added {
            ops.push(Op::put(Tree::Lines, key, value));
        }
        ops.push(Op::put(Tree::Sessions, chat.to_be_bytes(), self.meta));
        self.stored
    }
}

/// Decoded sessions, at most [`SessionCache::CAPACITY`]; when full, the
/// older half (by last use) is dropped.
#[derive(Default)]
struct SessionCache {
    entries: HashMap<ChatId, (StoredSession, u64)>,
    clock: u64,
}

impl SessionCache {
    const CAPACITY: usize = 4096;

    fn get(&mut self, chat: ChatId) -> Option<&StoredSession> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(&chat).map(|(stored, used)| {
            *used = clock;
            &*stored
        })
    }

    fn put(&mut self, chat: ChatId, stored: StoredSession) {
        if self.entries.len() >= Self::CAPACITY && !self.entries.contains_key(&chat) {
            let mut uses: Vec<u64> = self.entries.values().map(|(_, used)| *used).collect();
            let (_, median, _) = uses.select_nth_unstable(Self::CAPACITY / 2);
            let median = *median;
            self.entries.retain(|_, (_, used)| *used > median);
        }
        self.clock += 1;
        self.entries.insert(chat, (stored, self.clock));
    }
}

/// Transcript lines are kept in this many slots per chat, line `n` in
/// slot `n % LINE_SLOTS`: a new line overwrites one that fell out of the
/// transcript long ago, so nothing is ever removed.
const LINE_SLOTS: u64 = 64;
const _: () = assert!(crate::brain::TRANSCRIPT_LINES as u64 <= LINE_SLOTS);

fn line_key(chat: ChatId, number: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[..8].copy_from_slice(&chat.to_be_bytes());
    key[8] = (number % LINE_SLOTS) as u8;
    key
}

/// A transcript line as stored: its number, `u` (user) or `b` (bot), the
/// text.
fn encode_line(number: u64, line: &Line) -> Vec<u8> {
    let mut value = Vec::with_capacity(line.text.len() + 9);
    value.extend_from_slice(&number.to_be_bytes());
    value.push(if line.user { b'u' } else { b'b' });
    value.extend_from_slice(line.text.as_bytes());
    value
}

fn decode_line(value: &[u8]) -> Result<(u64, Line)> {
    let unreadable = || StoreError::Unreadable {
        what: "transcript line".into(),
        why: "too short".into(),
    };
    let number = value
        .get(..8)
        .and_then(|n| <[u8; 8]>::try_from(n).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(unreadable)?;
    let kind = *value.get(8).ok_or_else(unreadable)?;
    Ok((
        number,
        Line {
            user: kind == b'u',
            text: String::from_utf8_lossy(&value[9..]).into(),
        },
    ))
}

/// The transcript from a chat's slots: the unbroken run of lines that
/// ends with line `end - 1` (older numbers in the slots are leftovers of
/// a conversation started afresh since, or long overwritten).
fn transcript_from(mut slots: Vec<(u64, Line)>, end: u64) -> Vec<Line> {
    slots.retain(|(n, _)| *n < end);
    slots.sort_unstable_by_key(|(n, _)| std::cmp::Reverse(*n));
    let mut run = Vec::new();
    let mut expected = end;
    for (n, line) in slots {
        if n + 1 != expected || run.len() == crate::brain::TRANSCRIPT_LINES {
            break;
        }
        expected = n;
        run.push(line);
    }
    run.reverse();
    run
}

impl SledStore {
    fn cache(&self) -> std::sync::MutexGuard<'_, SessionCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored session of a chat, from the cache or the database.
    fn stored_session<'c>(
        &self,
        cache: &'c mut SessionCache,
        chat: ChatId,
    ) -> Result<Option<&'c StoredSession>> {
        if cache.get(chat).is_none() {
            let Some(bytes) = self.journal.get(Tree::Sessions, &chat.to_be_bytes())? else {
                return Ok(None);
            };
            let mut session: Session = decode(&bytes, "session")?;
            let inline = !session.transcript.is_empty();
            if !inline {
                let prefix = chat.to_be_bytes();
                let mut slots = Vec::new();
                for (_, value) in self.journal.scan_prefix(Tree::Lines, &prefix)? {
                    slots.push(decode_line(&value)?);
                }
                session.transcript = transcript_from(slots, session.lines);
            }
            cache.put(chat, StoredSession { session, inline });
        }
        Ok(cache.get(chat))
    }

    /// What saving `session` writes, given what is stored: only the lines
    /// added since (all of them after a fresh start).
    fn session_write(
        &self,
        cache: &mut SessionCache,
        chat: ChatId,
        session: &Session,
    ) -> Result<SessionWrite> {
        let count = session.transcript.len() as u64;
        let end = session.lines.max(count);
        let written = match self.stored_session(cache, chat)? {
            Some(stored) if !stored.inline => {
                let old = &stored.session;
                Some(old.lines.max(old.transcript.len() as u64))
            }
            _ => None,
        };
        let first_new = match written {
            Some(old_end) if old_end <= end => old_end,
            _ => 0,
        };
        let added = session
            .transcript
            .iter()
            .zip(end - count..end)
            .filter(|(_, n)| *n >= first_new)
            .map(|(line, n)| (line_key(chat, n), encode_line(n, line)))
            .collect();
        // Every field but the transcript (no `..`: a new field must be
        // placed here on purpose).
        let meta = Session {
            lang: session.lang,
            lang_pinned: session.lang_pinned,
            offered: session.offered.clone(),
            misses: session.misses,
            dialog: session.dialog.clone(),
            pending_switch: session.pending_switch.clone(),
            last_active: session.last_active,
            transcript: Vec::new(),
            lines: end,
            guard: session.guard.clone(),
        };
        let mut kept = session.clone();
        kept.lines = end;
        Ok(SessionWrite {
            meta: encode(&meta),
            added,
            stored: StoredSession {
                session: kept,
                inline: false,
            },
        })
    }
}
impl Store for SledStore {
    fn session(&self, chat: ChatId) -> Result<Option<Session>> {
        let mut cache = self.cache();
        Ok(self
            .stored_session(&mut cache, chat)?
            .map(|s| s.session.clone()))
    }

    fn save_session(&self, chat: ChatId, session: &Session) -> Result<()> {
        let mut cache = self.cache();
        let write = self.session_write(&mut cache, chat, session)?;
        let mut ops = Vec::with_capacity(write.added.len() + 1);
        let stored = write.into_ops(chat, &mut ops);
        self.journal.write(ops)?;
        cache.put(chat, stored);
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
        let key = update_id.to_be_bytes();
        if self.journal.get(Tree::Updates, &key)?.is_some() {
            return Ok(false);
        }
        self.journal
            .write(vec![Op::put(Tree::Updates, key, Vec::new())])?;
        Ok(true)
    }

    fn update_seen(&self, update_id: i64) -> Result<bool> {
        if update_id <= self.through.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(true);
        }
        Ok(self
            .journal
            .get(Tree::Updates, &update_id.to_be_bytes())?
            .is_some())
    }

    fn updates_through(&self) -> Result<Option<i64>> {
        let through = self.through.load(std::sync::atomic::Ordering::Acquire);
        Ok((through != i64::MIN).then_some(through))
    }

    fn record_batch(&self, batch: &BatchRecord<'_>) -> Result<()> {
        let mut cache = self.cache();
        let mut ops = Vec::new();
        let mut stored = Vec::with_capacity(batch.sessions.len());
        for (chat, session) in batch.sessions {
            let write = self.session_write(&mut cache, *chat, session)?;
            stored.push((*chat, write.into_ops(*chat, &mut ops)));
        }
        for id in batch.updates {
            ops.push(Op::put(Tree::Updates, id.to_be_bytes(), Vec::new()));
        }
        let through = batch.through;
        if let Some(through) = through {
            ops.push(Op::put(Tree::Meta, UPDATES_THROUGH, through.to_be_bytes()));
        }
        for (id, message) in batch.outbox {
            ops.push(Op::put(Tree::Outbox, id.to_be_bytes(), encode(message)));
        }
        self.journal.write(ops)?;
        for (chat, stored) in stored {
            cache.put(chat, stored);
        }
        if let Some(through) = through {
            self.through
                .store(through, std::sync::atomic::Ordering::Release);
        }
        Ok(())
    }

    fn outbox_id(&self) -> Result<u64> {
        self.db.generate_id().map_err(backend)
    }

    fn forget_updates_before(&self, update_id: i64) -> Result<usize> {
        let old = self
            .journal
            .keys_below(Tree::Updates, &update_id.max(0).to_be_bytes())?;
        let dropped = old.len();
        self.journal.stage(
            old.into_iter()
                .map(|key| Op::remove(Tree::Updates, key))
                .collect(),
        );
        Ok(dropped)
    }

    fn outbox_push(&self, messages: &[Pending]) -> Result<Vec<u64>> {
        let mut ops = Vec::with_capacity(messages.len());
        let mut ids = Vec::with_capacity(messages.len());
        for message in messages {
            let id = self.outbox_id()?;
            ops.push(Op::put(Tree::Outbox, id.to_be_bytes(), encode(message)));
            ids.push(id);
        }
        self.journal.write(ops)?;
        self.flush()?;
        Ok(ids)
    }

    fn outbox(&self) -> Result<Vec<(u64, Pending)>> {
        let mut out = Vec::new();
        for (key, value) in self.journal.scan_prefix(Tree::Outbox, &[])? {
            let id = <[u8; 8]>::try_from(key.as_slice())
                .map(u64::from_be_bytes)
                .map_err(backend)?;
            out.push((id, decode(&value, "outbox message")?));
        }
        Ok(out)
    }

    fn outbox_sent(&self, ids: &[u64]) -> Result<()> {
        // Journaled with the next write or flush: lost in a crash, a
        // message is sent again, as when the crash came before the send.
        self.journal.stage(
            ids.iter()
                .map(|id| Op::remove(Tree::Outbox, id.to_be_bytes()))
                .collect(),
        );
        Ok(())
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
        self.journal.log_staged()?;
        self.flusher.flush(|| {
            self.journal.sync()?;
            self.db.flush().map_err(backend)?;
            Ok(())
        })
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

    fn line(user: bool, text: &str) -> Line {
        Line {
            user,
            text: text.into(),
        }
    }

    /// A session with lines `first..end` of a conversation.
    fn talk(first: u64, end: u64) -> Session {
        Session {
            transcript: (first..end)
                .map(|n| line(n % 2 == 0, &format!("line {n}")))
                .collect(),
            lines: end,
            ..Session::default()
        }
    }

    /// The line numbers in a chat's slots, in slot order.
    fn slots(store: &SledStore, chat: ChatId) -> Vec<u64> {
        store
            .journal
            .scan_prefix(Tree::Lines, &chat.to_be_bytes())
            .unwrap()
            .iter()
            .map(|(_, v)| decode_line(v).unwrap().0)
            .collect()
    }

    #[test]
    fn only_new_transcript_lines_are_written_and_old_slots_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            store.save_session(7, &talk(0, 3)).unwrap();
            assert_eq!(slots(&store, 7), [0, 1, 2]);
            let write = store
                .session_write(&mut store.cache(), 7, &talk(1, 5))
                .unwrap();
            assert_eq!(write.added.len(), 2, "only the two new lines");
            store.save_session(7, &talk(1, 5)).unwrap();
            // Far along: line 66 takes the slot of line 2.
            store.save_session(7, &talk(41, 71)).unwrap();
            let used = slots(&store, 7);
            assert!(used.contains(&66) && !used.contains(&2), "{used:?}");
            assert!(used.len() <= LINE_SLOTS as usize);
            // Another chat's lines are its own.
            store.save_session(-100, &talk(0, 2)).unwrap();
            store.flush().unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(
            store.session(7).unwrap().unwrap(),
            talk(41, 71),
            "read back whole"
        );
        assert_eq!(store.session(-100).unwrap().unwrap(), talk(0, 2));
        // Started afresh: the leftovers of the old conversation are not read.
        store.save_session(7, &talk(0, 1)).unwrap();
        store.save_session(7, &talk(0, 2)).unwrap();
        drop(store);
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.session(7).unwrap().unwrap(), talk(0, 2));
        assert_eq!(store.session(-100).unwrap().unwrap(), talk(0, 2));
    }

    #[test]
    fn the_transcript_is_the_unbroken_run_that_ends_with_the_last_line() {
        let slot = |n: u64| (n, line(true, &n.to_string()));
        let texts = |lines: Vec<Line>| {
            lines
                .into_iter()
                .map(|l| l.text.to_string())
                .collect::<Vec<_>>()
        };
        // 5..8 current; 60 and 3 are leftovers; 9 is past the end.
        let slots = vec![slot(60), slot(5), slot(7), slot(6), slot(3), slot(9)];
        assert_eq!(texts(transcript_from(slots, 8)), ["5", "6", "7"]);
        let many: Vec<_> = (0..64).map(slot).collect();
        assert_eq!(
            transcript_from(many, 64).len(),
            crate::brain::TRANSCRIPT_LINES
        );
        assert!(transcript_from(vec![slot(3)], 0).is_empty());
    }

    #[test]
    fn a_session_with_its_transcript_inline_still_reads_and_moves_to_lines() {
        let store = SledStore::temporary().unwrap();
        let mut old = talk(0, 4);
        old.lines = 0;
        store
            .journal
            .write(vec![Op::put(
                Tree::Sessions,
                9_i64.to_be_bytes(),
                encode(&old),
            )])
            .unwrap();
        assert_eq!(store.session(9).unwrap().unwrap(), old);
        let mut next = old.clone();
        next.lines = 5;
        next.transcript.push(line(true, "new"));
        store.save_session(9, &next).unwrap();
        assert_eq!(slots(&store, 9), [0, 1, 2, 3, 4]);
        store.cache().entries.clear();
        assert_eq!(store.session(9).unwrap().unwrap(), next);
    }

    #[test]
    fn the_session_cache_stays_bounded_and_keeps_recent_sessions() {
        let store = SledStore::temporary().unwrap();
        let total = SessionCache::CAPACITY as i64 + 10;
        for chat in 0..total {
            store.save_session(chat, &talk(0, 1)).unwrap();
            // Chat 0 stays in use.
            assert!(store.session(0).unwrap().is_some());
        }
        let cache = store.cache();
        assert!(cache.entries.len() <= SessionCache::CAPACITY);
        assert!(cache.entries.contains_key(&0), "the chat in use is kept");
        assert!(cache.entries.contains_key(&(total - 1)));
        drop(cache);
        // Evicted sessions are read back from the database.
        assert_eq!(store.session(1).unwrap().unwrap(), talk(0, 1));
    }
}
