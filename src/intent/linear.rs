//! The scoring model: TF-IDF features and a multi-class linear model trained
//! at load time.
//!
//! Why a learned linear model rather than hand-set keyword scores: what makes a
//! word decisive is how well it tells one intent from the others, and that is
//! exactly what a discriminatively trained weight measures ("到账" says little
//! on its own; "到账" next to "提币" says withdrawal). Every score is still a
//! plain sum of per-feature weights, so each verdict can be explained token by
//! token.
//!
//! Training is the averaged passive-aggressive algorithm (PA-I, Crammer et al.
//! 2006) in its multi-class form: for each example, the correct intent is
//! pushed up and the best wrong one pushed down, just enough to separate them
//! by a margin. It is deterministic (a fixed shuffle), needs a handful of
//! passes, and touches only two classes per example, so it scales to packs
//! with thousands of intents. The weights kept are the average over the
//! second half of the passes (tail averaging).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

/// The hash behind feature keys: foldhash's quality variant with a fixed
/// seed, so keys are the same in every run. It replaced std's SipHash, which
/// cost more than the rest of feature extraction; keys never leave the
/// process, so only their quality matters, not their values.
const FEATURE_HASH: foldhash::quality::FixedState =
    foldhash::quality::FixedState::with_seed(0x6b65_6675_6665_6174);

/// A feature key: a hash of a tag byte and the feature's text. Collisions at
/// 64 bits are negligible for packs of any realistic size.
pub fn feature_key(tag: u8, parts: &[&str]) -> u64 {
    let mut hasher = FEATURE_HASH.build_hasher();
    tag.hash(&mut hasher);
    for part in parts {
        part.hash(&mut hasher);
    }
    hasher.finish()
}

/// Hashes a feature key for the vocabulary table: keys are already
/// well-mixed 64-bit hashes, so they are used as they are.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; anything else is folded in anyway.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// A sparse vector: (feature id, value), sorted by feature id.
pub type SparseVec = Vec<(u32, f32)>;

/// Weight of the secondary group (character n-grams) against the primary
/// group (words, pairs, synonyms), each normalised on its own. Tuned by
/// cross-validation on BANKING77 and the default pack.
pub const SECONDARY_GROUP_WEIGHT: f32 = 0.8;

/// Maps feature keys to ids and weighs them by inverse document frequency.
/// Features come in two groups (0 and 1), L2-normalised separately and then
/// combined, the second scaled by [`SECONDARY_GROUP_WEIGHT`].
///
/// A feature the pack has never seen has no weight, but it still counts in
/// its group's norm, as a feature with the highest IDF would: a message of
/// mostly unknown words and one known word is weak evidence for that word's
/// intent, not the same evidence as the word alone. This leaves training
/// alone (the examples' features are all known) and makes out-of-scope
/// messages score lower than in-scope ones that share as many known words.
#[derive(Debug, Default)]
pub struct Vectorizer {
    ids: KeyMap<u32>,
    idf: Vec<f32>,
    group: Vec<u8>,
    /// The IDF of a feature found in no training document.
    unknown_idf: f32,
}

impl Vectorizer {
    /// Builds the vocabulary from the training documents (each a list of
    /// feature keys, repeats allowed).
    pub fn fit<'a>(documents: impl Iterator<Item = &'a [(u64, u8)]>) -> Self {
        let mut ids: KeyMap<u32> = KeyMap::default();
        let mut group: Vec<u8> = Vec::new();
        let mut document_frequency: Vec<u32> = Vec::new();
        let mut document_count = 0usize;
        let mut seen: Vec<u32> = Vec::new();
        for document in documents {
            document_count += 1;
            seen.clear();
            for (key, key_group) in document {
                let next = ids.len() as u32;
                let id = *ids.entry(*key).or_insert(next);
                if id as usize == document_frequency.len() {
                    document_frequency.push(0);
                    group.push(*key_group);
                }
                seen.push(id);
            }
            seen.sort_unstable();
            seen.dedup();
            for &id in &seen {
                document_frequency[id as usize] += 1;
            }
        }
        let n = document_count as f32;
        let idf = document_frequency
            .iter()
            .map(|&df| ((n + 1.0) / (df as f32 + 1.0)).ln() + 1.0)
            .collect();
        Vectorizer {
            ids,
            idf,
            group,
            unknown_idf: (n + 1.0).ln() + 1.0,
        }
    }

    pub fn len(&self) -> usize {
        self.idf.len()
    }

    /// Forgets features, so they are ignored from now on (their ids stay
    /// reserved; their rows stay empty).
    pub fn forget(&mut self, forget: &[bool]) {
        self.ids
            .retain(|_, id| !forget.get(*id as usize).copied().unwrap_or(false));
    }

    pub fn id(&self, key: u64) -> Option<u32> {
        self.ids.get(&key).copied()
    }

    /// Sublinear TF × IDF, L2-normalised per group. Unknown keys are dropped
    /// from the vector but each occurrence counts in its group's norm (see
    /// [`Vectorizer`]).
    pub fn vectorize(&self, keys: impl Iterator<Item = (u64, u8)>) -> SparseVec {
        let mut ids: Vec<u32> = Vec::with_capacity(keys.size_hint().1.unwrap_or(0));
        let mut unknown = [0.0f32; 2];
        ids.extend(keys.filter_map(|(key, group)| {
            let id = self.id(key);
            if id.is_none() {
                unknown[usize::from(group != 0)] += 1.0;
            }
            id
        }));
        ids.sort_unstable();
        let mut vector: SparseVec = Vec::with_capacity(ids.len());
        for id in ids {
            match vector.last_mut() {
                Some((last, count)) if *last == id => *count += 1.0,
                _ => vector.push((id, 1.0)),
            }
        }
        let unknown_square = self.unknown_idf * self.unknown_idf;
        let mut norms = [unknown[0] * unknown_square, unknown[1] * unknown_square];
        for (id, value) in &mut vector {
            *value = (1.0 + value.ln()) * self.idf[*id as usize];
            norms[usize::from(self.group[*id as usize] != 0)] += *value * *value;
        }
        let scales = [
            if norms[0] > 0.0 {
                norms[0].sqrt().recip()
            } else {
                0.0
            },
            if norms[1] > 0.0 {
                norms[1].sqrt().recip() * SECONDARY_GROUP_WEIGHT
            } else {
                0.0
            },
        ];
        for (id, value) in &mut vector {
            *value *= scales[usize::from(self.group[*id as usize] != 0)];
        }
        vector
    }
}

/// A trained model: for each feature, the weight it gives each class.
///
/// The rows are stored one after another rather than each in an allocation
/// of its own, so scoring a message reads neighbouring memory. A row that
/// gives a weight to few classes is sparse ((class, weight) pairs sorted by
/// class); one that gives a weight to many is dense (a weight for every
/// class, 0 for the rest), which scores with one straight loop the compiler
/// vectorises. Either way each class's score adds the same terms in the same
/// order, so the scores are exactly the same.
#[derive(Debug, Default)]
pub struct LinearModel {
    classes: usize,
    rows: Vec<RowRef>,
    sparse: Vec<(u32, f32)>,
    dense: Vec<f32>,
}

/// Where a feature's row is: `sparse[start..end]`, or `dense[start..start +
/// classes]` when `end` is [`DENSE`].
#[derive(Clone, Copy, Debug)]
struct RowRef {
    start: u32,
    end: u32,
}

const DENSE: u32 = u32::MAX;

/// A row with weights for at least one class in this many is stored dense:
/// a sparse pair costs several times a dense entry to score.
const DENSE_FRACTION: usize = 4;

enum Row<'a> {
    Sparse(&'a [(u32, f32)]),
    Dense(&'a [f32]),
}

/// Training settings; the defaults were tuned by cross-validation on public
/// intent datasets and on the default pack (see the README).
#[derive(Clone, Copy, Debug)]
pub struct TrainSettings {
    pub epochs: usize,
    /// PA-I aggressiveness: the largest step one example may take.
    pub aggressiveness: f32,
    /// Seed of the fixed shuffle.
    pub seed: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            // 8, not 12: with the default pack at about 4,000 training texts,
            // training was half of `kefu chat`'s start. Measured with
            // `--epochs`: realmap dev 82.1% / 96.3% (12: 82.3% / 96.1%),
            // default eval 97.6% (97.6%), CLINC150 91.5% / 82% (91.7% / 81%),
            // BANKING77 5-fold 90.18% (90.19%).
            epochs: 8,
            aggressiveness: 0.1,
            seed: 0x6b65_6675,
        }
    }
}

/// One training example.
pub struct Sample {
    pub vector: SparseVec,
    pub class: u32,
    /// How much this example counts (keyword weights).
    pub weight: f32,
}

/// A weight during training: current value and the running sum used for
/// averaging (Daumé's trick: average = value − sum / steps, the steps counted
/// from where averaging starts).
#[derive(Clone, Copy)]
struct Slot {
    class: u32,
    value: f32,
    sum: f32,
}

impl LinearModel {
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The weights of one feature (empty for an unknown feature).
    fn row(&self, feature: u32) -> Row<'_> {
        match self.rows.get(feature as usize) {
            Some(&RowRef { start, end: DENSE }) => {
                let start = start as usize;
                Row::Dense(&self.dense[start..start + self.classes])
            }
            Some(&RowRef { start, end }) => Row::Sparse(&self.sparse[start as usize..end as usize]),
            None => Row::Sparse(&[]),
        }
    }

    /// Adds this model's scores for `vector` into `scores` (one per class).
    pub fn score_into(&self, vector: &[(u32, f32)], scores: &mut [f32]) {
        for &(feature, value) in vector {
            match self.row(feature) {
                Row::Sparse(row) => {
                    for &(class, weight) in row {
                        scores[class as usize] += weight * value;
                    }
                }
                Row::Dense(row) => {
                    for (score, &weight) in scores[..row.len()].iter_mut().zip(row) {
                        *score += weight * value;
                    }
                }
            }
        }
    }

    /// The weight of one feature for one class (0 if none).
    pub fn weight(&self, feature: u32, class: u32) -> f32 {
        match self.row(feature) {
            Row::Sparse(row) => row
                .iter()
                .find(|(c, _)| *c == class)
                .map_or(0.0, |(_, w)| *w),
            Row::Dense(row) => row.get(class as usize).copied().unwrap_or(0.0),
        }
    }

    pub fn train(
        samples: &[Sample],
        classes: usize,
        features: usize,
        settings: TrainSettings,
    ) -> Self {
        let mut rows: Vec<Vec<Slot>> = vec![Vec::new(); features];
        let mut order: Vec<usize> = (0..samples.len()).collect();
        let mut random = SplitMix64(settings.seed);
        let mut scores = vec![0.0f32; classes];
        let mut touched_mark = vec![false; classes];
        let mut touched: Vec<u32> = Vec::new();
        let mut step = 1.0f32;
        if classes >= 2 {
            for epoch in 0..settings.epochs {
                if epoch > 0 && epoch == settings.epochs / 2 {
                    // Tail averaging: the model is the average of the second
                    // half of training only; the first half's weights, far
                    // from converged, would only blur it.
                    for slot in rows.iter_mut().flatten() {
                        slot.sum = 0.0;
                    }
                    step = 1.0;
                }
                // Fisher–Yates with a fixed seed: the same model every load.
                for i in (1..order.len()).rev() {
                    let j = (random.next() % (i as u64 + 1)) as usize;
                    order.swap(i, j);
                }
                for &index in &order {
                    let sample = &samples[index];
                    // Only the classes this sample's features touch get a
                    // score; the rest stay at 0. With thousands of intents
                    // this is what keeps a pass linear in the data.
                    for &(feature, value) in &sample.vector {
                        for slot in &rows[feature as usize] {
                            let class = slot.class as usize;
                            if !touched_mark[class] {
                                touched_mark[class] = true;
                                touched.push(slot.class);
                            }
                            scores[class] += slot.value * value;
                        }
                    }
                    let truth = sample.class as usize;
                    let mut rival = usize::MAX;
                    let mut rival_score = f32::NEG_INFINITY;
                    for &class in &touched {
                        let class = class as usize;
                        let score = scores[class];
                        if class != truth
                            && (score > rival_score || (score == rival_score && class < rival))
                        {
                            rival = class;
                            rival_score = score;
                        }
                    }
                    let others_touched = touched.len() - usize::from(touched_mark[truth]);
                    if others_touched < classes - 1 && rival_score <= 0.0 {
                        // An untouched class scores 0: the first one is the rival.
                        let untouched = (0..classes)
                            .find(|&c| c != truth && !touched_mark[c])
                            .unwrap_or(rival);
                        if rival_score < 0.0 || untouched < rival {
                            rival = untouched;
                            rival_score = 0.0;
                        }
                    }
                    let truth_score = scores[truth];
                    for &class in &touched {
                        scores[class as usize] = 0.0;
                        touched_mark[class as usize] = false;
                    }
                    touched.clear();
                    scores[truth] = 0.0;
                    let loss = 1.0 - (truth_score - rival_score);
                    if loss > 0.0 {
                        let squared_norm: f32 = sample.vector.iter().map(|(_, v)| v * v).sum();
                        if squared_norm > 0.0 {
                            let tau = (loss / (2.0 * squared_norm))
                                .min(settings.aggressiveness * sample.weight);
                            for &(feature, value) in &sample.vector {
                                let row = &mut rows[feature as usize];
                                update(row, truth as u32, tau * value, step);
                                update(row, rival as u32, -tau * value, step);
                            }
                        }
                    }
                    step += 1.0;
                }
            }
        }
        let mut model = LinearModel {
            classes,
            rows: Vec::with_capacity(rows.len()),
            sparse: Vec::new(),
            dense: Vec::new(),
        };
        let mut averaged: Vec<(u32, f32)> = Vec::new();
        for row in rows {
            // Slots are kept sorted by class (see `update`).
            averaged.clear();
            averaged.extend(
                row.into_iter()
                    .map(|slot| (slot.class, slot.value - slot.sum / step))
                    .filter(|(_, w)| w.abs() > 1e-6),
            );
            let at = if averaged.len() * DENSE_FRACTION >= classes && !averaged.is_empty() {
                let start = model.dense.len();
                model.dense.resize(start + classes, 0.0);
                for &(class, weight) in &averaged {
                    model.dense[start + class as usize] = weight;
                }
                RowRef {
                    start: start as u32,
                    end: DENSE,
                }
            } else {
                let start = model.sparse.len();
                model.sparse.extend_from_slice(&averaged);
                RowRef {
                    start: start as u32,
                    end: model.sparse.len() as u32,
                }
            };
            model.rows.push(at);
        }
        model.sparse.shrink_to_fit();
        model.dense.shrink_to_fit();
        model
    }
}

/// Rows are kept sorted by class, so an update finds its slot by binary
/// search: common features end up with a slot for most classes.
fn update(row: &mut Vec<Slot>, class: u32, delta: f32, step: f32) {
    match row.binary_search_by_key(&class, |slot| slot.class) {
        Ok(found) => {
            let slot = &mut row[found];
            slot.value += delta;
            slot.sum += step * delta;
        }
        Err(at) => row.insert(
            at,
            Slot {
                class,
                value: delta,
                sum: step * delta,
            },
        ),
    }
}

/// A tiny deterministic generator for the shuffle; its output never leaves
/// this module, so its quality only needs to beat a fixed order.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(words: &[&str]) -> Vec<(u64, u8)> {
        words.iter().map(|w| (feature_key(b'u', &[w]), 0)).collect()
    }

    #[test]
    fn idf_favours_rare_features() {
        let docs = [doc(&["a", "b"]), doc(&["a", "c"]), doc(&["a", "d"])];
        let vectorizer = Vectorizer::fit(docs.iter().map(Vec::as_slice));
        let v = vectorizer.vectorize(doc(&["a", "b"]).into_iter());
        let a = v
            .iter()
            .find(|(id, _)| *id == vectorizer.id(feature_key(b'u', &["a"])).unwrap())
            .unwrap()
            .1;
        let b = v
            .iter()
            .find(|(id, _)| *id == vectorizer.id(feature_key(b'u', &["b"])).unwrap())
            .unwrap()
            .1;
        assert!(b > a);
        let norm: f32 = v.iter().map(|(_, x)| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-5);
    }

    #[test]
    fn learns_to_separate_classes_deterministically() {
        let docs = [
            doc(&["withdraw", "pending"]),
            doc(&["withdraw", "slow"]),
            doc(&["deposit", "missing"]),
            doc(&["deposit", "pending"]),
        ];
        let vectorizer = Vectorizer::fit(docs.iter().map(Vec::as_slice));
        let samples: Vec<Sample> = docs
            .iter()
            .zip([0, 0, 1, 1])
            .map(|(d, class)| Sample {
                vector: vectorizer.vectorize(d.iter().copied()),
                class,
                weight: 1.0,
            })
            .collect();
        let model = LinearModel::train(&samples, 2, vectorizer.len(), TrainSettings::default());
        let again = LinearModel::train(&samples, 2, vectorizer.len(), TrainSettings::default());
        let query = vectorizer.vectorize(doc(&["withdraw", "missing"]).into_iter());
        let mut scores = vec![0.0; 2];
        model.score_into(&query, &mut scores);
        let mut scores_again = vec![0.0; 2];
        again.score_into(&query, &mut scores_again);
        assert_eq!(scores, scores_again);
        let query = vectorizer.vectorize(doc(&["deposit", "slow"]).into_iter());
        let mut scores = vec![0.0; 2];
        model.score_into(&query, &mut scores);
        assert!(scores[1] > scores[0], "{scores:?}");
    }
}
