//! A batch of updates, decided together and written in one go.
//!
//! Each durable write costs a disk sync, and one per update made the disk
//! the bottleneck, so an update's writes are staged here: the sessions it
//! saves, its id, and the replies it queues. Later updates of the same
//! batch see the staged sessions. At the end, [`decide_batch`] writes
//! everything with one [`Store::record_batch`] (one journal entry) and
//! flushes once. Tickets are still written as they are opened (rare, and
//! durable at once as before).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use teloxide::types::{Update, UpdateKind};

use super::handle::{decide, Plan, Step};
use super::parse::{id_of, read, Unreadable};
use super::Shared;
use crate::admin::bump;
use crate::brain::Session;
use crate::lang::Lang;
use crate::store::{BatchRecord, ChatId, Pending, Store, StoreError};
use crate::ticket::Ticket;

/// Processed update ids kept to recognise redeliveries: Telegram redelivers
/// only the unconfirmed tail, far fewer than this.
const KEPT_UPDATE_IDS: i64 = 100_000;

type Result<T> = std::result::Result<T, StoreError>;

#[derive(Default)]
struct Staged {
    /// The language of a chat without a session (the user's Telegram
    /// language) for the update being decided; `None` for desk actions.
    initial_lang: Option<Lang>,
    sessions: HashMap<ChatId, Session>,
    /// The ids decided, in order (at most a batch: a scan finds one).
    updates: Vec<i64>,
    outbox: Vec<(u64, Pending)>,
}

/// The store as the app sees it while a batch is decided.
pub(crate) struct BatchStore<'a> {
    inner: &'a dyn Store,
    staged: Mutex<Staged>,
    /// Ids at or below this are new whatever the store's watermark says:
    /// Telegram restarted its update ids (see [`decide_batch`]).
    fresh_through: Option<i64>,
}

impl<'a> BatchStore<'a> {
    pub fn new(inner: &'a dyn Store) -> BatchStore<'a> {
        BatchStore {
            inner,
            staged: Mutex::new(Staged::default()),
            fresh_through: None,
        }
    }

    fn staged(&self) -> std::sync::MutexGuard<'_, Staged> {
        self.staged.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A chat without a session starts in `lang` (the user's Telegram
    /// language) during the next update; `None`: it has no session.
    pub fn start_in(&self, lang: Option<Lang>) {
        self.staged().initial_lang = lang;
    }

    /// Marks an update processed and queues its replies; returns their
    /// deliveries. Written with the batch.
    pub fn record(&self, update_id: i64, replies: Vec<Pending>) -> anyhow::Result<Vec<Step>> {
        let mut steps = Vec::with_capacity(replies.len());
        let mut ids = Vec::with_capacity(replies.len());
        for _ in &replies {
            ids.push(self.inner.outbox_id()?);
        }
        let mut staged = self.staged();
        staged.updates.push(update_id);
        for (id, message) in ids.into_iter().zip(replies) {
            staged.outbox.push((id, message.clone()));
            steps.push(Step::Deliver { id, message });
        }
        Ok(steps)
    }

    /// Writes the batch, all or nothing (not yet flushed). Polled
    /// updates are marked by the batch's last id, posted ones one by one.
    fn commit(self, source: Source, last: Option<i64>) -> Result<()> {
        let staged = self.staged.into_inner().unwrap_or_else(|e| e.into_inner());
        let sessions: Vec<(ChatId, &Session)> =
            staged.sessions.iter().map(|(chat, s)| (*chat, s)).collect();
        let (updates, through) = match source {
            Source::Polled => (&[][..], last),
            Source::Posted => (&staged.updates[..], None),
        };
        self.inner.record_batch(&BatchRecord {
            updates,
            through,
            sessions: &sessions,
            outbox: &staged.outbox,
        })
    }
}

impl Store for BatchStore<'_> {
    fn session(&self, chat: ChatId) -> Result<Option<Session>> {
        let staged = self.staged();
        if let Some(session) = staged.sessions.get(&chat) {
            return Ok(Some(session.clone()));
        }
        let initial = staged.initial_lang;
        drop(staged);
        Ok(match (self.inner.session(chat)?, initial) {
            (Some(session), _) => Some(session),
            (None, Some(lang)) => Some(Session {
                lang,
                ..Session::default()
            }),
            (None, None) => None,
        })
    }
    fn save_session(&self, chat: ChatId, session: &Session) -> Result<()> {
        self.staged().sessions.insert(chat, session.clone());
        Ok(())
    }
    fn create_ticket(&self, build: &mut dyn FnMut(u64) -> Ticket) -> Result<Ticket> {
        self.inner.create_ticket(build)
    }
    fn save_ticket(&self, ticket: &Ticket) -> Result<()> {
        self.inner.save_ticket(ticket)
    }
    fn ticket(&self, number: u64) -> Result<Option<Ticket>> {
        self.inner.ticket(number)
    }
    fn tickets(&self) -> Result<Vec<Ticket>> {
        self.inner.tickets()
    }
    fn queue(&self) -> Result<Vec<Ticket>> {
        self.inner.queue()
    }
    fn chat_tickets(&self, chat: ChatId) -> Result<Vec<Ticket>> {
        self.inner.chat_tickets(chat)
    }
    fn record_wait(&self, seconds: i64) -> Result<()> {
        self.inner.record_wait(seconds)
    }
    fn recent_waits(&self) -> Result<Vec<i64>> {
        self.inner.recent_waits()
    }
    fn mark_update(&self, update_id: i64) -> Result<bool> {
        self.inner.mark_update(update_id)
    }
    fn update_seen(&self, update_id: i64) -> Result<bool> {
        if self.staged().updates.contains(&update_id) {
            return Ok(true);
        }
        if self
            .fresh_through
            .is_some_and(|through| update_id <= through)
        {
            return Ok(false);
        }
        self.inner.update_seen(update_id)
    }
    fn updates_through(&self) -> Result<Option<i64>> {
        self.inner.updates_through()
    }
    fn record_batch(&self, batch: &BatchRecord<'_>) -> Result<()> {
        self.inner.record_batch(batch)
    }
    fn outbox_id(&self) -> Result<u64> {
        self.inner.outbox_id()
    }
    fn forget_updates_before(&self, update_id: i64) -> Result<usize> {
        self.inner.forget_updates_before(update_id)
    }
    fn outbox_push(&self, messages: &[Pending]) -> Result<Vec<u64>> {
        self.inner.outbox_push(messages)
    }
    fn outbox(&self) -> Result<Vec<(u64, Pending)>> {
        self.inner.outbox()
    }
    fn outbox_sent(&self, ids: &[u64]) -> Result<()> {
        self.inner.outbox_sent(ids)
    }
    fn link_message(&self, chat: ChatId, message_id: i64, ticket: u64) -> Result<()> {
        self.inner.link_message(chat, message_id, ticket)
    }
    fn message_ticket(&self, chat: ChatId, message_id: i64) -> Result<Option<u64>> {
        self.inner.message_ticket(chat, message_id)
    }
    /// The batch flushes once, at its end.
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// The chat an update belongs to; updates without one share key 0.
pub(crate) fn chat_of(update: &Update) -> i64 {
    match &update.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m.chat.id.0,
        UpdateKind::CallbackQuery(q) => q
            .message
            .as_ref()
            .map_or(q.from.id.0 as i64, |m| m.chat().id.0),
        UpdateKind::MyChatMember(m) | UpdateKind::ChatMember(m) => m.chat.id.0,
        _ => 0,
    }
}

/// Where a batch came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// `getUpdates`: ids grow, and a batch is everything after the last
    /// confirmed id.
    Polled,
    /// The webhook: updates may come in any order.
    Posted,
}

/// What a batch decided: the steps to take, and the id of each update
/// in it (`None`: it had none that could be read), for the next offset.
pub(crate) struct Decided {
    pub plans: Vec<Plan>,
    pub ids: Vec<Option<i64>>,
}

/// Whether a polled batch's ids restarted below the store's watermark.
///
/// Long polling only ever hands out unconfirmed updates, and the only
/// ones kefu recorded without confirming are those of its last batch
/// (confirmed by the next request, which a crash can prevent). Telegram
/// sends them again from the first, so such a redelivery holds the last
/// batch's last id, `through`, itself. Ids at or below `through` in a
/// batch without it are new: after a week without updates Telegram picks
/// the next update id at random, most likely below the old ones. (A new
/// run of ids that happens to hit `through` itself is taken for a
/// redelivery: one chance in hundreds of millions.)
pub(crate) fn ids_restarted(ids: &[Option<i64>], through: Option<i64>) -> bool {
    let Some(through) = through else {
        return false;
    };
    let ids = || ids.iter().flatten();
    ids().any(|id| *id <= through) && !ids().any(|id| *id == through)
}

/// Reads and decides a batch of updates in order, drops delivered
/// messages from the outbox, writes it all at once and flushes once. An
/// update that does not read, or fails, is logged (by id and kind) and
/// skipped; a failed write or flush fails the batch (nothing of it is sent
/// or confirmed).
pub(crate) fn decide_batch(
    shared: &Shared,
    raw: &[bytes::Bytes],
    source: Source,
    received: Instant,
) -> Result<Decided> {
    let started = Instant::now();
    let store: &dyn Store = &*shared.store;
    let mut batch = BatchStore::new(store);
    let updates: Vec<std::result::Result<Update, Unreadable>> =
        raw.iter().map(|raw| read(raw)).collect();
    let ids: Vec<Option<i64>> = updates.iter().map(id_of).collect();
    if source == Source::Polled {
        let through = store.updates_through()?;
        if ids_restarted(&ids, through) {
            bump(&shared.metrics.update_id_restarts);
            tracing::warn!(
                through = through.unwrap_or_default(),
                first = ids.iter().flatten().min().copied().unwrap_or_default(),
                "update ids went back below the last one handled (Telegram restarts them after a week without updates): handled as new"
            );
            batch.fresh_through = through;
        }
    }
    let mut plans = Vec::with_capacity(updates.len());
    for update in &updates {
        let update = match update {
            Ok(update) => update,
            Err(unreadable) => {
                bump(&shared.metrics.unreadable_updates);
                tracing::error!(
                    update = unreadable.id,
                    kind = %unreadable.kind,
                    error = %unreadable.why,
                    "an unreadable update was skipped"
                );
                continue;
            }
        };
        match decide(shared, &batch, update) {
            Ok(steps) if !steps.is_empty() => plans.push(Plan {
                chat: chat_of(update),
                received,
                steps,
            }),
            Ok(_) => {}
            Err(e) => tracing::error!(update = update.id.0, error = %e, "update not handled"),
        }
    }
    let newest = ids.iter().flatten().max().copied();
    // Before the commit, so the store writes these with it.
    let delivered = shared.sender.drop_delivered()?;
    if let (Source::Posted, Some(newest)) = (source, newest) {
        store.forget_updates_before(newest.saturating_sub(KEPT_UPDATE_IDS))?;
    }
    batch.commit(source, newest)?;
    let decided = started.elapsed();
    store.flush()?;
    tracing::debug!(
        updates = updates.len(),
        delivered,
        decide_us = decided.as_micros() as u64,
        flush_us = (started.elapsed() - decided).as_micros() as u64,
        "batch"
    );
    Ok(Decided { plans, ids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_below_the_watermark_without_it_is_a_restart_of_ids() {
        let through = Some(1000);
        // A redelivery of the last batch (and what came since).
        assert!(!ids_restarted(&[Some(998), Some(1000)], through));
        assert!(!ids_restarted(&[Some(1000), Some(1001)], through));
        // Newer ids, or nothing recorded yet.
        assert!(!ids_restarted(&[Some(1001)], through));
        assert!(!ids_restarted(&[Some(5)], None));
        // Telegram picked lower ids.
        assert!(ids_restarted(&[Some(5), Some(6)], through));
        assert!(ids_restarted(&[None, Some(5)], through));
        assert!(!ids_restarted(&[None], through));
    }
}
