//! A write-ahead journal in front of the trees a turn writes (sessions,
//! transcript lines, the outbox, update ids).
//!
//! sled writes each transaction (and each `Batch`) through to the disk at
//! once, and every insert clones its leaf, so writing a turn's five or so
//! keys one by one made the store the bot's bottleneck under load. Here a
//! write is *one* append to a journal file (`kefu.journal`, beside the
//! database), whatever it holds, and a flush is one `fdatasync` of it.
//! What was written is kept in an in-memory overlay that every read
//! consults first. Now and then (a checkpoint) the overlay goes to the
//! trees, each key once however often it changed; sled is flushed, and
//! only then is the journal emptied.
//!
//! (The journal is a file of its own, not a sled tree: sled keeps values
//! inside their leaf, so a tree of ~100 KB entries cloned its leaf on
//! every insert and wrote it out as a separate blob file.)
//!
//! Opening replays what the journal holds, oldest first, onto the trees.
//! An entry holds whole values (never deltas), so replaying one that a
//! checkpoint had already applied writes the same values again: a crash
//! at any point of a checkpoint loses nothing and mixes no versions. An
//! entry cut short by a crash (its checksum fails) ends the replay: it was
//! never flushed, so nothing depended on it.
//!
//! On disk an entry is its length (u32 little-endian), its CRC-32, and
//! the entry: a format byte, then operations, each a tree byte, the key's
//! length (u32 little-endian) and bytes, then `0` (remove) or `1` and the
//! value's length and bytes. (Keys and values are bytes, which JSON would
//! spell out number by number.)

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Write};
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

/// The format byte entries start with.
const FORMAT: u8 = 1;

/// A checkpoint is due once the journal holds this many bytes or its
/// oldest entry is this old: replaying it at a restart stays quick, and
/// the overlay small (under load, a checkpoint writes each chat's session
/// and transcript slots once for many turns).
const CHECKPOINT_BYTES: usize = 32 << 20;
const CHECKPOINT_AGE: Duration = Duration::from_secs(1);

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
    /// Since the last checkpoint: entries and bytes written, and when the
    /// first of them was.
    entries: usize,
    bytes: usize,
    since: Option<Instant>,
    /// Skip the checkpoint at drop, as a killed process would (tests).
    abandoned: bool,
}

/// An entry as it goes into the file: its length and checksum, then the
/// entry.
fn frame<'o>(ops: impl Iterator<Item = &'o Op> + Clone) -> Vec<u8> {
    let size: usize = ops
        .clone()
        .map(|op| 10 + op.key.len() + op.value.as_ref().map_or(0, |v| 4 + v.len()))
        .sum();
    let mut out = Vec::with_capacity(9 + size);
    out.extend_from_slice(&[0; 8]);
    out.push(FORMAT);
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
    let len = (out.len() - 8) as u32;
    let crc = crc32fast::hash(&out[8..]);
    out[..4].copy_from_slice(&len.to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The next whole entry of a journal file (its length and checksum
/// check out), or `None` at the end or at an entry cut short.
fn next_entry<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let header = rest.get(..8)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    let entry = rest.get(8..8 + len)?;
    if crc32fast::hash(entry) != crc {
        return None;
    }
    *rest = &rest[8 + len..];
    Some(entry)
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
    pub fn open(db: &sled::Db, path: Option<&Path>) -> Result<Journal> {
        let trees = TREES
            .iter()
            .map(|(_, name)| db.open_tree(name).map_err(backend))
            .collect::<Result<Vec<_>>>()?;
        let file = path
            .map(|path| {
                std::fs::OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
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
        journal.replay()?;
        Ok(journal)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree as usize]
    }

    fn replay(&self) -> Result<()> {
        let Some(mut file) = self.file.as_ref() else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(backend)?;
        if bytes.is_empty() {
            return Ok(());
        }
        let mut rest = bytes.as_slice();
        let mut replayed = 0;
        while let Some(entry) = next_entry(&mut rest) {
            for op in decode(entry)? {
                self.apply(op.tree, &op.key, op.value.as_deref())?;
            }
            replayed += 1;
        }
        if !rest.is_empty() {
            tracing::warn!(
                bytes = rest.len(),
                "the store journal ends in an entry cut short by a crash; it was never flushed and is dropped"
            );
        }
        self.truncate()?;
        tracing::info!(entries = replayed, "store journal replayed");
        Ok(())
    }

    /// Empties the journal once sled holds all it said.
    fn truncate(&self) -> Result<()> {
        self.db.flush().map_err(backend)?;
        if let Some(file) = &self.file {
            file.set_len(0).map_err(backend)?;
            file.sync_data().map_err(backend)?;
        }
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
        let framed = frame(ops);
        if let Some(mut file) = self.file.as_ref() {
            file.write_all(&framed).map_err(backend)?;
        }
        state.entries += 1;
        state.bytes += framed.len();
        state.since.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Makes what the journal holds durable.
    pub fn sync(&self) -> Result<()> {
        match &self.file {
            Some(file) => file.sync_data().map_err(backend),
            None => Ok(()),
        }
    }

    fn checkpoint_if_due(&self, state: &mut State) -> Result<()> {
        let due = state.bytes >= CHECKPOINT_BYTES
            || state.since.is_some_and(|t| t.elapsed() >= CHECKPOINT_AGE);
        if due {
            self.checkpoint_locked(state)?;
        }
        Ok(())
    }

    /// Moves the overlay to the trees, flushes, and empties the journal.
    /// Drops the journal without a checkpoint, as a kill would.
    #[cfg(test)]
    pub fn abandon(self) {
        self.lock().abandoned = true;
    }

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
        // The trees are durable before the journal that they make
        // redundant goes.
        self.truncate()?;
        tracing::debug!(
            entries = state.entries,
            bytes = state.bytes,
            keys,
            took_us = started.elapsed().as_micros() as u64,
            "store checkpoint"
        );
        for overlay in &mut state.overlay {
            overlay.clear();
        }
        state.entries = 0;
        state.bytes = 0;
        state.since = None;
        Ok(())
    }
}

impl Drop for Journal {
    /// A clean exit leaves an empty journal (best effort: whatever is
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
        let framed = frame(ops.iter());
        let entry = &framed[8..];
        assert_eq!(next_entry(&mut &framed[..]), Some(entry));
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
        let cut = decode(&entry[..entry.len() - 2]).unwrap_err();
        assert!(cut.to_string().contains("cut short"), "{cut}");
        let mut newer = entry.to_vec();
        newer[0] = FORMAT + 1;
        assert!(decode(&newer)
            .unwrap_err()
            .to_string()
            .contains("newer kefu"));
        let mut bad_tree = entry.to_vec();
        bad_tree[1] = 99;
        assert!(decode(&bad_tree).is_err());
    }

    fn db() -> sled::Db {
        sled::Config::new().temporary(true).open().unwrap()
    }

    #[test]
    fn reads_see_writes_before_and_after_a_checkpoint() {
        let db = db();
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

    #[test]
    fn a_journal_left_behind_is_replayed_in_order_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        {
            let db = sled::open(dir.path().join("db")).unwrap();
            let journal = Journal::open(&db, Some(&path)).unwrap();
            journal
                .write(vec![Op::put(
                    Tree::Sessions,
                    b"s".to_vec(),
                    b"old".to_vec(),
                )])
                .unwrap();
            journal
                .write(vec![
                    Op::put(Tree::Sessions, b"s".to_vec(), b"new".to_vec()),
                    Op::put(Tree::Outbox, b"o".to_vec(), b"m".to_vec()),
                ])
                .unwrap();
            journal.stage(vec![Op::remove(Tree::Outbox, b"o".to_vec())]);
            journal.log_staged().unwrap();
            journal.sync().unwrap();
            // As after a kill: no checkpoint at exit.
            journal.abandon();
        }
        // A crash in the middle of the next append leaves half an entry.
        let whole = std::fs::read(&path).unwrap();
        let next = frame([Op::put(Tree::Sessions, b"s".to_vec(), b"lost".to_vec())].iter());
        let mut torn = whole.clone();
        torn.extend_from_slice(&next[..next.len() - 3]);
        std::fs::write(&path, torn).unwrap();

        let db = sled::open(dir.path().join("db")).unwrap();
        assert!(db.open_tree("sessions").unwrap().is_empty());
        let journal = Journal::open(&db, Some(&path)).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            0,
            "replayed and emptied"
        );
        let sessions = db.open_tree("sessions").unwrap();
        assert_eq!(sessions.get(b"s").unwrap().as_deref(), Some(&b"new"[..]));
        assert!(
            db.open_tree("outbox").unwrap().is_empty(),
            "put, then removed"
        );
        journal
            .write(vec![Op::put(
                Tree::Sessions,
                b"s".to_vec(),
                b"newer".to_vec(),
            )])
            .unwrap();
        assert_eq!(
            journal.get(Tree::Sessions, b"s").unwrap().as_deref(),
            Some(&b"newer"[..])
        );
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
    }
}
