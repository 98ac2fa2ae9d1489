//! A write-ahead journal in front of the trees a turn writes (sessions,
//! transcript lines, the outbox, update ids).
//!
//! sled writes each transaction (and each `Batch`) through to the disk at
//! once, and every insert clones its leaf, so writing a turn's five or so
//! keys one by one made the store the bot's bottleneck under load. Here a
//! write is *one* write to a journal file (`kefu.journal`, beside the
//! database), whatever it holds, and a flush is one `fdatasync` of it.
//! What was written is kept in an in-memory overlay that every read
//! consults first. Now and then (a checkpoint) the overlay goes to the
//! trees, each key once however often it changed; sled is flushed, and
//! only then does the journal start over.
//!
//! The file is reused, not truncated: after a checkpoint the next entry
//! is written at its start, over old ones. Overwriting blocks the file
//! already has spares the filesystem allocating blocks and updating the
//! file's size, which roughly halves what an `fdatasync` costs. Each
//! checkpoint starts a new *epoch*, recorded in sled once the trees are
//! durable, and every entry carries its epoch: a replay takes entries of
//! the recorded epoch from the file's start and stops at the first that
//! is not one (an older entry behind the newer ones, or a torn write).
//!
//! (The journal is a file of its own, not a sled tree: sled keeps values
//! inside their leaf, so a tree of ~100 KB entries cloned its leaf on
//! every insert and wrote it out as a separate blob file.)
//!
//! Opening replays the journal's entries, oldest first, onto the trees,
//! and starts a new epoch. An entry holds whole values (never deltas), so
//! replaying one that a checkpoint had already applied writes the same
//! values again: a crash at any point of a checkpoint loses nothing and
//! mixes no versions.
//!
//! Damage is told apart from a torn write by what follows it. Every entry
//! carries its sequence number in the epoch and how many entries of the
//! epoch were synced when it was written. A bad entry (its checksum
//! fails, or it runs past the file's end) with no good entry of the epoch
//! after it is a torn tail: cut off, with a warning naming how many
//! entries went. A bad entry followed by one that says the bad one had
//! been synced is damage to a confirmed batch: the journal refuses to
//! open (`kefu recover` replays every good entry and moves the file
//! aside). Entries of older epochs after the end are stale, not damage.
//!
//! On disk an entry is its length, its CRC-32 and its epoch (u32
//! little-endian each; the checksum covers the epoch and the entry), then
//! the entry: a format byte; since format 2 the entry's sequence number
//! in its epoch and the number of entries synced before it (u32
//! little-endian each); then operations, each a tree byte, the key's
//! length (u32 little-endian) and bytes, then `0` (remove) or `1` and the
//! value's length and bytes. (Keys and values are bytes, which JSON would
//! spell out number by number.) Format 1 entries (without the two
//! numbers) still replay.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{backend, Result, StoreError};

/// The trees behind the journal. Nothing else may write them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tree {
    Sessions = 0,
    Lines = 1,
    /// Keys are never reused: a message put and removed between two
    /// checkpoints never reaches the tree.
    Outbox = 2,
    Updates = 3,
    /// Only the update-id watermark: the other `meta` keys (the ticket
    /// counter, recent waits) are written directly and never journaled.
    Meta = 4,
}

const TREES: [(Tree, &str); 5] = [
    (Tree::Sessions, "sessions"),
    (Tree::Lines, "lines"),
    (Tree::Outbox, "outbox"),
    (Tree::Updates, "updates"),
    (Tree::Meta, "meta"),
];

/// One change: a value to write under a key, or `None` to remove the key.
#[derive(Debug)]
pub(super) struct Op {
    pub tree: Tree,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

impl Op {
    pub fn put(tree: Tree, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Op {
        Op {
            tree,
            key: key.into(),
            value: Some(value.into()),
        }
    }

    pub fn remove(tree: Tree, key: impl Into<Vec<u8>>) -> Op {
        Op {
            tree,
            key: key.into(),
            value: None,
        }
    }
}

/// The format byte entries start with (2: with sequence numbers).
const FORMAT: u8 = 2;

/// A checkpoint is due when the next entry would take the journal past
/// this many bytes, or once its oldest entry is this old: replaying it at
/// a restart stays quick, and the overlay small (under load, a checkpoint
/// writes each chat's session and transcript slots once for many turns).
const JOURNAL_BYTES: u64 = 16 << 20;
const CHECKPOINT_AGE: Duration = Duration::from_secs(1);

/// The file grows (with zeros written out, so later writes overwrite) by
/// at least this much at a time, up to about [`JOURNAL_BYTES`].
const GROW_BY: u64 = 1 << 20;

/// The bytes before an entry: its length, checksum and epoch.
const HEADER: usize = 12;

/// Where `meta` keeps the journal's epoch.
pub(super) const EPOCH_KEY: &[u8] = b"journal_epoch";

/// How opening treats a damaged journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Refuse damage before the tail.
    Strict,
    /// `kefu recover`: replay every good entry, skipping damaged ones.
    Salvage,
}

/// What opening found in the journal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Entries replayed.
    pub replayed: usize,
    /// Entries lost: a torn tail cut off, or (salvaging) damaged ones.
    pub lost: usize,
    /// Salvaging: the journal had damage before its tail.
    pub damaged: bool,
}

pub(super) struct Journal {
    db: sled::Db,
    /// `None` for a throw-away database: nothing to replay, ever.
    file: Option<File>,
    trees: Vec<sled::Tree>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Per tree: key → its value since the last checkpoint (`None`:
    /// removed). Reads look here before the tree. Hashed, not ordered:
    /// every turn writes here, while ordered reads (a chat's transcript
    /// slots when its session is not cached, the outbox at start) are rare.
    overlay: [foldhash::HashMap<Vec<u8>, Option<Vec<u8>>>; 5],
    /// Changes in the overlay but not yet in the journal (see
    /// [`Journal::stage`]).
    staged: Vec<Op>,
    /// The epoch of the entries written now.
    epoch: u32,
    /// Entries of this epoch known to be synced.
    synced: u32,
    /// Since the last checkpoint: entries written, the bytes they take
    /// (where the next one goes), and when the first of them was.
    entries: usize,
    bytes: u64,
    since: Option<Instant>,
    /// The file's length: bytes below it are overwritten, not appended.
    len: u64,
    /// Skip the checkpoint at drop, as a killed process would (tests).
    abandoned: bool,
}

/// The bytes an entry of `ops` takes in the file.
fn framed_size<'o>(ops: impl Iterator<Item = &'o Op>) -> usize {
    let ops: usize = ops
        .map(|op| 6 + op.key.len() + op.value.as_ref().map_or(0, |v| 4 + v.len()))
        .sum();
    HEADER + 1 + 8 + ops
}

/// An entry as it goes into the file: its header, then the entry.
fn frame<'o>(
    epoch: u32,
    seq: u32,
    synced: u32,
    ops: impl Iterator<Item = &'o Op> + Clone,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(framed_size(ops.clone()));
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&epoch.to_le_bytes());
    out.push(FORMAT);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&synced.to_le_bytes());
    for op in ops {
        out.push(op.tree as u8);
        out.extend_from_slice(&(op.key.len() as u32).to_le_bytes());
        out.extend_from_slice(&op.key);
        match &op.value {
            Some(value) => {
                out.push(1);
                out.extend_from_slice(&(value.len() as u32).to_le_bytes());
                out.extend_from_slice(value);
            }
            None => out.push(0),
        }
    }
    let len = (out.len() - HEADER) as u32;
    let crc = crc32fast::hash(&out[8..]);
    out[..4].copy_from_slice(&len.to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The next whole entry of a journal file with its epoch, or `None` at
/// the end, at zeros, or at an entry cut short (its checksum fails).
#[cfg(test)]
fn next_entry<'a>(rest: &mut &'a [u8]) -> Option<(u32, &'a [u8])> {
    let (epoch, entry, used) = entry_at(rest)?;
    *rest = &rest[used..];
    Some((epoch, entry))
}

/// The whole entry at the start of `bytes`: its epoch, the entry, and
/// the bytes it takes with its header.
fn entry_at(bytes: &[u8]) -> Option<(u32, &[u8], usize)> {
    let header = bytes.get(..HEADER)?;
    let word = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
    let (len, crc, epoch) = (word(0) as usize, word(4), word(8));
    if len == 0 {
        return None;
    }
    let entry = bytes.get(HEADER..HEADER.checked_add(len)?)?;
    if crc32fast::hash(&bytes[8..HEADER + len]) != crc {
        return None;
    }
    Some((epoch, entry, HEADER + len))
}

/// The epoch a header names, whole or not.
fn header_epoch(bytes: &[u8]) -> Option<u32> {
    let header = bytes.get(..HEADER)?;
    (header[..4] != [0; 4]).then(|| u32::from_le_bytes(header[8..12].try_into().expect("4")))
}

/// An entry's sequence number and the entries synced before it (format 2).
fn numbers(entry: &[u8]) -> Option<(u32, u32)> {
    if *entry.first()? < 2 {
        return None;
    }
    let word = |i: usize| {
        entry
            .get(i..i + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")))
    };
    Some((word(1)?, word(5)?))
}

/// The journal's entries of `epoch`, read for a replay.
struct Scan<'a> {
    /// The unbroken run from the file's start.
    run: Vec<&'a [u8]>,
    /// Where the run stopped, an entry of the epoch began there but is
    /// bad (a torn write, or damage).
    bad_tail: bool,
    /// Good entries of the epoch found after the run's end.
    later: Vec<&'a [u8]>,
}

fn scan(bytes: &[u8], epoch: u32) -> Scan<'_> {
    let mut pos = 0;
    let mut run = Vec::new();
    while let Some((written_in, entry, used)) = entry_at(&bytes[pos..]) {
        if written_in != epoch {
            break;
        }
        run.push(entry);
        pos += used;
    }
    let bad_tail = header_epoch(&bytes[pos..]) == Some(epoch);
    // Entries of the epoch past the run: a needle of the epoch's bytes at
    // an entry header's epoch field, then the checksum decides.
    let mut later = Vec::new();
    let needle = epoch.to_le_bytes();
    let mut at = pos + 1;
    while at + HEADER <= bytes.len() {
        if bytes[at + 8..at + 12] == needle {
            if let Some((_, entry, used)) = entry_at(&bytes[at..]) {
                later.push(entry);
                at += used;
                continue;
            }
        }
        at += 1;
    }
    Scan {
        run,
        bad_tail,
        later,
    }
}

/// Reads an entry's fields in turn.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(unreadable("cut short"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn bytes(&mut self) -> Result<Vec<u8>> {
        let len = self.take(4)?;
        let len = u32::from_le_bytes(len.try_into().expect("four bytes")) as usize;
        Ok(self.take(len)?.to_vec())
    }
}

fn unreadable(why: &str) -> StoreError {
    StoreError::Unreadable {
        what: "journal entry".into(),
        why: why.into(),
    }
}

fn decode(entry: &[u8]) -> Result<Vec<Op>> {
    let (&format, rest) = entry.split_first().ok_or_else(|| unreadable("empty"))?;
    if format > FORMAT {
        return Err(unreadable(&format!(
            "written by a newer kefu (journal format {format}, this one reads up to {FORMAT})"
        )));
    }
    let mut reader = Reader { rest };
    if format >= 2 {
        reader.take(8)?;
    }
    let mut ops = Vec::new();
    while let Some(&t) = reader.rest.first() {
        reader.rest = &reader.rest[1..];
        let tree = TREES
            .iter()
            .find(|(tree, _)| *tree as u8 == t)
            .map(|(tree, _)| *tree)
            .ok_or_else(|| unreadable("unknown tree"))?;
        let key = reader.bytes()?;
        let value = match reader.take(1)? {
            [0] => None,
            [1] => Some(reader.bytes()?),
            _ => return Err(unreadable("bad operation")),
        };
        ops.push(Op { tree, key, value });
    }
    Ok(ops)
}

impl Journal {
    /// Opens the journal at `path` (`None`: none, for a throw-away
    /// database) and the trees behind it, replaying what a previous run
    /// left in the journal.
    #[cfg(test)]
    pub fn open(db: &sled::Db, path: Option<&Path>) -> Result<Journal> {
        Self::open_with(db, path, Mode::Strict).map(|(journal, _)| journal)
    }

    /// [`open`](Self::open), treating damage as `mode` says.
    pub fn open_with(
        db: &sled::Db,
        path: Option<&Path>,
        mode: Mode,
    ) -> Result<(Journal, ReplayReport)> {
        let trees = TREES
            .iter()
            .map(|(_, name)| db.open_tree(name).map_err(backend))
            .collect::<Result<Vec<_>>>()?;
        let file = path
            .map(|path| {
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
                    .map_err(|e| backend(format!("{}: {e}", path.display())))
            })
            .transpose()?;
        let journal = Journal {
            db: db.clone(),
            file,
            trees,
            state: Mutex::new(State::default()),
        };
        let report = journal.replay(path, mode)?;
        Ok((journal, report))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree as usize]
    }

    /// Replays the entries of the recorded epoch, then starts a new one.
    fn replay(&self, path: Option<&Path>, mode: Mode) -> Result<ReplayReport> {
        let meta = self.tree(Tree::Meta);
        let epoch = meta
            .get(EPOCH_KEY)
            .map_err(backend)?
            .and_then(|b| <[u8; 4]>::try_from(b.as_ref()).ok())
            .map_or(0, u32::from_le_bytes);
        let mut state = self.lock();
        state.epoch = epoch;
        let mut report = ReplayReport::default();
        let Some(file) = self.file.as_ref() else {
            return Ok(report);
        };
        let len = file.metadata().map_err(backend)?.len();
        let mut bytes = vec![0; len as usize];
        file.read_exact_at(&mut bytes, 0).map_err(backend)?;
        state.len = len;
        let scan = scan(&bytes, epoch);
        let first_missing = scan.run.len() as u32;
        // Did an entry after the gap see the missing one synced?
        let confirmed_missing = scan
            .later
            .iter()
            .filter_map(|entry| numbers(entry))
            .any(|(_, synced)| synced > first_missing);
        let mut entries = scan.run.clone();
        if confirmed_missing {
            let shown = path.map_or_else(String::new, |p| p.display().to_string());
            if mode == Mode::Strict {
                return Err(StoreError::Damaged {
                    journal_only: true,
                    message: format!(
                        "the journal {shown} is damaged at entry {} of its current epoch, and {} \
                     good entries written after it say it had been synced (a confirmed batch, \
                     not a torn write)",
                        first_missing + 1,
                        scan.later.len()
                    ),
                });
            }
            report.damaged = true;
            let last = scan
                .later
                .iter()
                .filter_map(|e| numbers(e))
                .map(|(seq, _)| seq + 1)
                .max()
                .unwrap_or(first_missing);
            report.lost = (last - first_missing) as usize - scan.later.len();
            entries.extend(scan.later.iter().copied());
        } else if scan.bad_tail || !scan.later.is_empty() {
            // A torn write at the end (and whatever followed it unsynced).
            report.lost = 1 + scan.later.len();
            tracing::warn!(
                entries_lost = report.lost,
                entries_kept = scan.run.len(),
                "store journal: a torn entry at its end was cut off (written but never synced \
                 in full, so never confirmed, unless the disk damaged it later)"
            );
        }
        for entry in entries {
            for op in decode(entry)? {
                self.apply(op.tree, &op.key, op.value.as_deref())?;
            }
            report.replayed += 1;
        }
        if report.replayed > 0 {
            tracing::info!(entries = report.replayed, "store journal replayed");
        }
        // What follows is older, or was never flushed: the new epoch
        // leaves it behind.
        self.new_epoch(&mut state)?;
        Ok(report)
    }

    /// Once the trees hold everything the journal says: makes them
    /// durable, then records a new epoch, so the journal's entries are
    /// never replayed again and the next one is written at its start.
    fn new_epoch(&self, state: &mut State) -> Result<()> {
        self.db.flush().map_err(backend)?;
        let epoch = state.epoch.wrapping_add(1);
        self.tree(Tree::Meta)
            .insert(EPOCH_KEY, &epoch.to_le_bytes())
            .map_err(backend)?;
        self.db.flush().map_err(backend)?;
        state.epoch = epoch;
        state.entries = 0;
        state.synced = 0;
        state.bytes = 0;
        state.since = None;
        Ok(())
    }

    fn apply(&self, tree: Tree, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let tree = self.tree(tree);
        match value {
            Some(value) => tree.insert(key, value).map(drop),
            None => tree.remove(key).map(drop),
        }
        .map_err(backend)
    }

    /// A key's value: the overlay's, else the tree's.
    pub fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let state = self.lock();
        if let Some(value) = state.overlay[tree as usize].get(key) {
            return Ok(value.clone());
        }
        Ok(self
            .tree(tree)
            .get(key)
            .map_err(backend)?
            .map(|v| v.to_vec()))
    }

    /// Every key starting with `prefix`, with its value, in key order.
    pub fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let state = self.lock();
        let mut found = BTreeMap::new();
        for entry in self.tree(tree).scan_prefix(prefix) {
            let (key, value) = entry.map_err(backend)?;
            found.insert(key.to_vec(), value.to_vec());
        }
        for (key, value) in &state.overlay[tree as usize] {
            if !key.starts_with(prefix) {
                continue;
            }
            match value {
                Some(value) => found.insert(key.clone(), value.clone()),
                None => found.remove(key),
            };
        }
        Ok(found.into_iter().collect())
    }

    /// The keys below `end`, in order.
    pub fn keys_below(&self, tree: Tree, end: &[u8]) -> Result<Vec<Vec<u8>>> {
        let state = self.lock();
        let mut found = BTreeSet::new();
        for key in self.tree(tree).range(..end).keys() {
            found.insert(key.map_err(backend)?.to_vec());
        }
        for (key, value) in &state.overlay[tree as usize] {
            if key.as_slice() >= end {
                continue;
            }
            if value.is_some() {
                found.insert(key.clone());
            } else {
                found.remove(key);
            }
        }
        Ok(found.into_iter().collect())
    }

    /// Writes `ops`, with whatever was staged before them, as one journal
    /// entry: all of them or (after a crash) none. Durable after the next
    /// [`sync`](Self::sync).
    pub fn write(&self, ops: Vec<Op>) -> Result<()> {
        let mut state = self.lock();
        // Staged changes are in the overlay already.
        let staged = std::mem::take(&mut state.staged);
        if let Err(e) = self.log_entry(&mut state, staged.iter().chain(&ops)) {
            state.staged = staged;
            return Err(e);
        }
        for op in ops {
            state.overlay[op.tree as usize].insert(op.key, op.value);
        }
        self.checkpoint_if_due(&mut state)
    }

    /// Takes `ops` in at once (reads see them) but journals them with the
    /// next [`write`](Self::write) or [`log_staged`](Self::log_staged):
    /// for changes that may be lost in a crash, such as dropping a sent
    /// message from the outbox (at worst it is sent again).
    pub fn stage(&self, ops: Vec<Op>) {
        let mut state = self.lock();
        for op in &ops {
            let overlay = &mut state.overlay[op.tree as usize];
            if op.tree == Tree::Outbox
                && op.value.is_none()
                && overlay.get(&op.key).is_some_and(Option::is_some)
            {
                overlay.remove(&op.key);
            } else {
                overlay.insert(op.key.clone(), op.value.clone());
            }
        }
        state.staged.extend(ops);
    }

    /// Journals what was staged, before a flush.
    pub fn log_staged(&self) -> Result<()> {
        let mut state = self.lock();
        if state.staged.is_empty() {
            return Ok(());
        }
        let staged = std::mem::take(&mut state.staged);
        if let Err(e) = self.log_entry(&mut state, staged.iter()) {
            state.staged = staged;
            return Err(e);
        }
        self.checkpoint_if_due(&mut state)
    }

    fn log_entry<'o>(
        &self,
        state: &mut State,
        ops: impl Iterator<Item = &'o Op> + Clone,
    ) -> Result<()> {
        if ops.clone().next().is_none() {
            return Ok(());
        }
        let size = framed_size(ops.clone()) as u64;
        if state.bytes > 0 && state.bytes + size > JOURNAL_BYTES {
            self.checkpoint_locked(state)?;
        }
        let framed = frame(state.epoch, state.entries as u32, state.synced, ops);
        let size = framed.len() as u64;
        if let Some(file) = &self.file {
            let end = state.bytes + size;
            if end > state.len {
                // Zeros first, so that this and later entries overwrite.
                let grown = end.max(state.len + GROW_BY);
                let zeros = vec![0; (grown - state.len) as usize];
                file.write_all_at(&zeros, state.len).map_err(backend)?;
                state.len = grown;
            }
            file.write_all_at(&framed, state.bytes).map_err(backend)?;
        }
        state.entries += 1;
        state.bytes += size;
        state.since.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Makes what the journal holds durable.
    pub fn sync(&self) -> Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let (epoch, written) = {
            let state = self.lock();
            (state.epoch, state.entries as u32)
        };
        file.sync_data().map_err(backend)?;
        let mut state = self.lock();
        if state.epoch == epoch {
            state.synced = state.synced.max(written);
        }
        Ok(())
    }

    fn checkpoint_if_due(&self, state: &mut State) -> Result<()> {
        let due = state.since.is_some_and(|t| t.elapsed() >= CHECKPOINT_AGE);
        if due {
            self.checkpoint_locked(state)?;
        }
        Ok(())
    }

    /// Drops the journal without a checkpoint, as a kill would.
    #[cfg(test)]
    pub fn abandon(self) {
        self.lock().abandoned = true;
    }

    /// Moves the overlay to the trees, makes them durable, and starts the
    /// journal over.
    pub fn checkpoint(&self) -> Result<()> {
        let mut state = self.lock();
        self.checkpoint_locked(&mut state)
    }

    fn checkpoint_locked(&self, state: &mut State) -> Result<()> {
        if state.entries == 0 && state.staged.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        // Staged changes go to the trees with the rest (and are durable
        // sooner than they had to be).
        state.staged.clear();
        let mut keys = 0;
        for (tree, _) in TREES {
            // In key order, as sled likes it. The overlay stays until the
            // trees have it all: a failed checkpoint leaves reads intact.
            let mut changes: Vec<_> = state.overlay[tree as usize].iter().collect();
            changes.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (key, value) in changes {
                self.apply(tree, key, value.as_deref())?;
                keys += 1;
            }
        }
        let (entries, bytes) = (state.entries, state.bytes);
        self.new_epoch(state)?;
        for overlay in &mut state.overlay {
            overlay.clear();
        }
        tracing::debug!(
            entries,
            bytes,
            keys,
            took_us = started.elapsed().as_micros() as u64,
            "store checkpoint"
        );
        Ok(())
    }
}

impl Drop for Journal {
    /// A clean exit leaves nothing to replay (best effort: whatever is
    /// left is replayed at the next start).
    fn drop(&mut self) {
        if self.lock().abandoned {
            return;
        }
        if let Err(e) = self.checkpoint() {
            tracing::warn!(error = %e, "store checkpoint at exit failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_and_damage_is_refused() {
        let ops = [
            Op::put(Tree::Sessions, b"k".to_vec(), b"value".to_vec()),
            Op::remove(Tree::Outbox, 7u64.to_be_bytes()),
            Op::put(Tree::Lines, Vec::new(), Vec::new()),
        ];
        let framed = frame(7, 3, 2, ops.iter());
        assert_eq!(numbers(&framed[HEADER..]), Some((3, 2)));
        assert_eq!(framed.len(), framed_size(ops.iter()));
        let entry = &framed[HEADER..];
        assert_eq!(next_entry(&mut &framed[..]), Some((7, entry)));
        let back = decode(entry).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(
            (back[0].tree, back[0].key.as_slice()),
            (Tree::Sessions, &b"k"[..])
        );
        assert_eq!(back[0].value.as_deref(), Some(&b"value"[..]));
        assert_eq!(back[1].tree, Tree::Outbox);
        assert!(back[1].value.is_none());
        assert_eq!(back[2].value.as_deref(), Some(&[][..]));
        // Cut short, flipped, or zeros: not an entry.
        assert_eq!(next_entry(&mut &framed[..framed.len() - 1]), None);
        let mut flipped = framed.clone();
        flipped[HEADER + 3] ^= 1;
        assert_eq!(next_entry(&mut &flipped[..]), None);
        assert_eq!(next_entry(&mut &[0u8; 64][..]), None);
        let cut = decode(&entry[..entry.len() - 2]).unwrap_err();
        assert!(cut.to_string().contains("cut short"), "{cut}");
        let mut newer = entry.to_vec();
        newer[0] = FORMAT + 1;
        assert!(decode(&newer)
            .unwrap_err()
            .to_string()
            .contains("newer kefu"));
        let mut bad_tree = entry.to_vec();
        bad_tree[9] = 99;
        assert!(decode(&bad_tree).is_err());
        // A format 1 entry (no sequence numbers) still reads.
        let mut old = vec![1];
        old.extend_from_slice(&entry[9..]);
        assert_eq!(decode(&old).unwrap().len(), 3);
        assert_eq!(numbers(&old), None);
    }

    #[test]
    fn reads_see_writes_before_and_after_a_checkpoint() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let journal = Journal::open(&db, None).unwrap();
        journal
            .write(vec![
                Op::put(Tree::Lines, b"a1".to_vec(), b"x".to_vec()),
                Op::put(Tree::Lines, b"a2".to_vec(), b"y".to_vec()),
                Op::put(Tree::Lines, b"b1".to_vec(), b"z".to_vec()),
            ])
            .unwrap();
        journal.stage(vec![Op::remove(Tree::Lines, b"a1".to_vec())]);
        let scan = |j: &Journal| {
            j.scan_prefix(Tree::Lines, b"a")
                .unwrap()
                .into_iter()
                .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
                .collect::<Vec<_>>()
        };
        assert_eq!(scan(&journal), [("a2".into(), "y".into())]);
        assert_eq!(
            journal.keys_below(Tree::Lines, b"b").unwrap(),
            [b"a2".to_vec()]
        );
        let lines = db.open_tree("lines").unwrap();
        assert!(lines.is_empty(), "nothing in the tree before a checkpoint");
        journal.checkpoint().unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(scan(&journal), [("a2".into(), "y".into())]);
        assert_eq!(
            journal.get(Tree::Lines, b"b1").unwrap().as_deref(),
            Some(&b"z"[..])
        );
        assert_eq!(journal.get(Tree::Lines, b"a1").unwrap(), None);
    }

    fn put(key: &str, value: &str) -> Vec<Op> {
        vec![Op::put(Tree::Sessions, key.as_bytes(), value.as_bytes())]
    }

    fn session(db: &sled::Db, key: &str) -> Option<String> {
        db.open_tree("sessions")
            .unwrap()
            .get(key)
            .unwrap()
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
    }

    /// The epoch of the first entry in the journal.
    fn epoch_of(path: &Path) -> u32 {
        let bytes = std::fs::read(path).unwrap();
        next_entry(&mut bytes.as_slice()).unwrap().0
    }

    /// Writes `n` entries (`s` = "v0".."v{n-1}", each synced), leaves the
    /// journal as a kill would, and returns where each entry starts.
    fn synced_entries(dir: &Path, n: usize) -> Vec<usize> {
        let db = sled::open(dir.join("db")).unwrap();
        let journal = Journal::open(&db, Some(&dir.join("journal"))).unwrap();
        for i in 0..n {
            journal
                .write(put(&format!("k{i}"), &format!("v{i}")))
                .unwrap();
            journal.sync().unwrap();
        }
        journal.abandon();
        let bytes = std::fs::read(dir.join("journal")).unwrap();
        let mut rest = bytes.as_slice();
        let mut starts = Vec::new();
        loop {
            let at = bytes.len() - rest.len();
            if next_entry(&mut rest).is_none() {
                break;
            }
            starts.push(at);
        }
        starts
    }

    #[test]
    fn damage_before_the_tail_is_refused_and_salvage_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let starts = synced_entries(dir.path(), 5);
        assert_eq!(starts.len(), 5);
        // One bit of the third entry's value flipped.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[starts[3] - 2] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
        let db = sled::open(dir.path().join("db")).unwrap();
        let error = Journal::open_with(&db, Some(&path), Mode::Strict)
            .err()
            .expect("refused");
        let message = error.to_string();
        assert!(matches!(error, StoreError::Damaged { .. }), "{message}");
        assert!(message.contains("entry 3"), "{message}");
        assert!(session(&db, "k0").is_none(), "nothing applied");
        // The same journal again (refusing changed nothing), salvaged.
        let (journal, report) = Journal::open_with(&db, Some(&path), Mode::Salvage).unwrap();
        assert_eq!(
            report,
            ReplayReport {
                replayed: 4,
                lost: 1,
                damaged: true
            }
        );
        for (key, value) in [("k0", "v0"), ("k1", "v1"), ("k3", "v3"), ("k4", "v4")] {
            assert_eq!(session(&db, key).as_deref(), Some(value));
        }
        assert_eq!(session(&db, "k2"), None, "the damaged entry");
        drop(journal);
    }

    #[test]
    fn a_damaged_length_before_the_tail_is_still_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let starts = synced_entries(dir.path(), 4);
        let mut bytes = std::fs::read(&path).unwrap();
        // The second entry's length made huge: the run stops there.
        bytes[starts[1] + 3] = 0x7f;
        std::fs::write(&path, &bytes).unwrap();
        let db = sled::open(dir.path().join("db")).unwrap();
        assert!(matches!(
            Journal::open_with(&db, Some(&path), Mode::Strict),
            Err(StoreError::Damaged { .. })
        ));
    }

    #[test]
    fn a_torn_last_entry_is_cut_and_stale_entries_are_not_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let starts = synced_entries(dir.path(), 3);
        let mut bytes = std::fs::read(&path).unwrap();
        let end = end_of_entries(&path);
        // The last entry torn: its second half never reached the disk.
        for b in &mut bytes[starts[2] + 20..end] {
            *b = 0;
        }
        std::fs::write(&path, &bytes).unwrap();
        let db = sled::open(dir.path().join("db")).unwrap();
        let (journal, report) = Journal::open_with(&db, Some(&path), Mode::Strict).unwrap();
        assert_eq!((report.replayed, report.lost), (2, 1));
        assert_eq!(session(&db, "k1").as_deref(), Some("v1"));
        assert_eq!(session(&db, "k2"), None);
        // A new epoch over the start: the old entries behind it are stale.
        journal.write(put("k0", "new")).unwrap();
        journal.sync().unwrap();
        journal.abandon();
        let (_journal, report) = Journal::open_with(&db, Some(&path), Mode::Strict).unwrap();
        assert_eq!((report.replayed, report.lost), (1, 0));
        assert_eq!(session(&db, "k0").as_deref(), Some("new"));
    }

    /// Where the journal's entries end.
    fn end_of_entries(path: &Path) -> usize {
        let bytes = std::fs::read(path).unwrap();
        let mut rest = bytes.as_slice();
        while next_entry(&mut rest).is_some() {}
        bytes.len() - rest.len()
    }

    #[test]
    fn a_journal_left_behind_is_replayed_in_order_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let open = || sled::open(dir.path().join("db")).unwrap();
        {
            let db = open();
            let journal = Journal::open(&db, Some(&path)).unwrap();
            journal.write(put("s", "old")).unwrap();
            journal
                .write(vec![
                    Op::put(Tree::Sessions, b"s".to_vec(), b"new".to_vec()),
                    Op::put(Tree::Outbox, b"o".to_vec(), b"m".to_vec()),
                ])
                .unwrap();
            journal.stage(vec![Op::remove(Tree::Outbox, b"o".to_vec())]);
            journal.log_staged().unwrap();
            journal.sync().unwrap();
            journal.abandon();
        }
        // A crash in the middle of the next write leaves half an entry.
        let end = end_of_entries(&path);
        let next = frame(epoch_of(&path), 3, 3, put("s", "lost").iter());
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&next[..next.len() - 3], end as u64)
            .unwrap();

        let db = open();
        assert_eq!(session(&db, "s"), None, "only in the journal");
        let (journal, report) = Journal::open_with(&db, Some(&path), Mode::Strict).unwrap();
        assert_eq!(
            report,
            ReplayReport {
                replayed: 3,
                lost: 1,
                damaged: false
            },
            "the torn tail is cut and counted"
        );
        assert_eq!(session(&db, "s").as_deref(), Some("new"));
        assert!(
            db.open_tree("outbox").unwrap().is_empty(),
            "put, then removed"
        );
        journal.write(put("s", "newer")).unwrap();
        assert_eq!(
            journal.get(Tree::Sessions, b"s").unwrap().as_deref(),
            Some(&b"newer"[..])
        );
    }

    #[test]
    fn entries_older_than_the_last_checkpoint_are_never_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let open = || sled::open(dir.path().join("db")).unwrap();
        {
            let db = open();
            let journal = Journal::open(&db, Some(&path)).unwrap();
            // Two entries, checkpointed; then one as long as the first,
            // written over it: the second old entry follows it intact.
            journal.write(put("s", "one")).unwrap();
            journal.write(put("s", "two")).unwrap();
            journal.checkpoint().unwrap();
            assert_eq!(session(&db, "s").as_deref(), Some("two"));
            journal.write(put("s", "new")).unwrap();
            journal.sync().unwrap();
            journal.abandon();
        }
        let bytes = std::fs::read(&path).unwrap();
        let mut rest = bytes.as_slice();
        let (first, _) = next_entry(&mut rest).unwrap();
        let (behind, _) = next_entry(&mut rest).expect("the old entry is still there");
        assert_ne!(first, behind);
        let db = open();
        drop(Journal::open(&db, Some(&path)).unwrap());
        assert_eq!(
            session(&db, "s").as_deref(),
            Some("new"),
            "the old entry behind the new one was not replayed over it"
        );
        // Reopened again with nothing new: nothing changes.
        drop(db);
        let db = open();
        drop(Journal::open(&db, Some(&path)).unwrap());
        assert_eq!(session(&db, "s").as_deref(), Some("new"));
    }

    #[test]
    fn the_file_is_reused_after_a_checkpoint_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let db = sled::open(dir.path().join("db")).unwrap();
        let journal = Journal::open(&db, Some(&path)).unwrap();
        let big = "x".repeat(200_000);
        // Well past JOURNAL_BYTES in all: checkpoints start it over.
        for i in 0..(3 * JOURNAL_BYTES as usize / big.len()) {
            journal.write(put(&format!("k{}", i % 7), &big)).unwrap();
        }
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len <= JOURNAL_BYTES + GROW_BY, "{len}");
        assert!(journal.lock().bytes < JOURNAL_BYTES);
        assert_eq!(
            journal.get(Tree::Sessions, b"k3").unwrap().unwrap().len(),
            big.len()
        );
    }
}
