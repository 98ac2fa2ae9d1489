//! Classification: message → verdict, with the evidence behind it.

use serde::Serialize;

use super::lexicon::{Analysis, Lexicon, PhraseTarget};
use super::linear::{feature_key, SparseVec};
use super::{IntentSet, PATTERN_BONUS};
use crate::text::{is_han, TokenKind};

/// Where a feature came from, so its weight can be credited to words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A word (by token index).
    Token(usize),
    /// A character n-gram of a word (by token index).
    CharGram(usize),
    /// Two consecutive words (the first's token index).
    Pair(usize),
    /// Two consecutive Han characters (character offset of the first).
    HanPair(usize),
    /// A synonym group (concept index).
    Concept(u32),
}

const CHAR_GRAM_TAG: u8 = b'g';
const CHAR_GRAM_SIZES: std::ops::RangeInclusive<usize> = 3..=5;

impl Origin {
    /// The vectoriser group: character n-grams are normalised apart from
    /// the rest, so that a long word's many n-grams do not drown its words.
    pub(crate) fn group(self) -> u8 {
        u8::from(matches!(self, Origin::CharGram(_)))
    }
}

/// The features of an analysed message, each with its origin.
///
/// - every word's term (stem, Chinese word, or `#num`);
/// - every pair of consecutive terms (word order: "not received");
/// - every pair of consecutive Han characters (robust to segmentation and to
///   words jieba does not know);
/// - every synonym concept found (shared by all variants and both languages).
pub(crate) fn features(
    analysis: &Analysis,
    lexicon: &Lexicon,
    concepts: &[String],
) -> Vec<(u64, Origin)> {
    // Every Latin word of n characters gives 3n - 3 character n-grams (with
    // its two boundary marks); every Han character at most one pair.
    let latin_chars: usize = analysis
        .tokens
        .iter()
        .filter(|token| token.kind == TokenKind::Word)
        .map(|token| token.end - token.start + 2)
        .sum();
    let mut out = Vec::with_capacity(
        analysis.terms.len() * 2
            + 3 * latin_chars
            + analysis.normalized.len() / 3
            + analysis.phrases.len(),
    );
    for (index, term) in analysis.terms.iter().enumerate() {
        out.push((feature_key(b'u', &[term]), Origin::Token(index)));
        if let Some(next) = analysis.terms.get(index + 1) {
            out.push((feature_key(b'b', &[term, next]), Origin::Pair(index)));
        }
    }
    // Character n-grams of Latin words, within word boundaries: robust to
    // inflection and typos the speller leaves alone ("withdrawl" shares
    // "<wit", "with", "draw" with "withdrawal"). Each n-gram is a slice of
    // the marked word, never a string of its own.
    let mut marked = String::with_capacity(32);
    let mut bounds: Vec<usize> = Vec::with_capacity(32);
    for (index, token) in analysis.tokens.iter().enumerate() {
        if token.kind != TokenKind::Word {
            continue;
        }
        let word = analysis.corrections[index]
            .as_ref()
            .map_or(token.text.as_str(), |c| c.to.as_str());
        marked.clear();
        marked.push('<');
        marked.push_str(word);
        marked.push('>');
        bounds.clear();
        bounds.extend(marked.char_indices().map(|(at, _)| at));
        bounds.push(marked.len());
        let chars = bounds.len() - 1;
        for n in CHAR_GRAM_SIZES {
            for start in 0..(chars + 1).saturating_sub(n) {
                let gram = &marked[bounds[start]..bounds[start + n]];
                out.push((feature_key(CHAR_GRAM_TAG, &[gram]), Origin::CharGram(index)));
            }
        }
    }
    let normalized = analysis.normalized.as_str();
    let mut previous: Option<usize> = None;
    for (offset, (at, ch)) in normalized.char_indices().enumerate() {
        if is_han(ch) {
            if let Some(first) = previous {
                let pair = &normalized[first..at + ch.len_utf8()];
                out.push((feature_key(b'c', &[pair]), Origin::HanPair(offset - 1)));
            }
            previous = Some(at);
        } else {
            previous = None;
        }
    }
    for hit in &analysis.phrases {
        for target in lexicon.phrase_targets(hit.phrase) {
            if let PhraseTarget::Concept(concept) = target {
                out.push((
                    concept_key(&concepts[*concept as usize]),
                    Origin::Concept(*concept),
                ));
            }
        }
    }
    out
}

/// The feature key of a synonym concept.
pub(crate) fn concept_key(concept: &str) -> u64 {
    feature_key(b'k', &[concept])
}

/// The outcome of classifying a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "intents", rename_all = "snake_case")]
pub enum Verdict {
    /// One intent, clearly.
    Matched(usize),
    /// Several intents too close to call: ask the user. A tie is not a guess.
    Ambiguous(Vec<usize>),
    /// Out of scope, or too little evidence.
    NoMatch,
}

/// An intent and its score.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub intent: usize,
    pub score: f32,
}

/// A verdict with the scores that produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct Classification {
    pub verdict: Verdict,
    /// The best intents, best first (at most five, vetoed ones left out).
    pub candidates: Vec<Candidate>,
    /// The score of the out-of-scope class, when the pack has one.
    pub out_of_scope: Option<f32>,
    /// True when the message held nothing the pack knows.
    pub no_evidence: bool,
}

impl Classification {
    /// The matched intent, if the verdict is `Matched`.
    pub fn matched(&self) -> Option<usize> {
        match self.verdict {
            Verdict::Matched(intent) => Some(intent),
            _ => None,
        }
    }
}

/// How much one piece of the message added to an intent's score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contribution {
    /// What it is: `word`, `pair`, `chars`, `synonym`, `pattern`.
    pub kind: &'static str,
    /// The text it came from (`提币`, `not received`, `~withdraw`).
    pub text: String,
    pub score: f32,
}

/// Everything `kefu match` shows.
#[derive(Clone, Debug)]
pub struct Explanation {
    pub analysis: Analysis,
    pub classification: Classification,
    /// For each candidate (same order), its contributions, largest first.
    pub contributions: Vec<Vec<Contribution>>,
    /// Keyword hits: (intent, keyword, weight).
    pub keywords: Vec<(usize, String, f32)>,
    /// Synonym hits: (concept, text found).
    pub synonyms: Vec<(String, String)>,
    /// Pattern hits: (intent, pattern).
    pub patterns: Vec<(usize, String)>,
    /// Vetoed intents: (intent, word).
    pub vetoes: Vec<(usize, String)>,
    /// The winner's most similar example and its cosine similarity.
    pub nearest_example: Option<(String, f32)>,
}

const MAX_CANDIDATES: usize = 5;

/// A classification with the intermediate results `explain` reuses.
struct ClassifiedFeatures {
    classification: Classification,
    keys: Vec<(u64, Origin)>,
    vector: SparseVec,
    pattern_hits: Vec<usize>,
}

impl IntentSet {
    /// Classifies a message. Pure and deterministic; the cost is bounded
    /// because messages are cut to [`crate::text::MAX_MESSAGE_CHARS`].
    pub fn classify(&self, message: &str) -> Classification {
        let analysis = self.lexicon.analyze(message, true);
        self.classify_analysis(&analysis).classification
    }

    /// The TF-IDF vector of a message's features.
    fn vectorize_features(&self, keys: &[(u64, Origin)]) -> SparseVec {
        self.vectorizer
            .vectorize(keys.iter().map(|(key, origin)| (*key, origin.group())))
    }

    /// Classifies an analysed message; also returns what `explain` needs:
    /// the features, their vector and the matching patterns.
    fn classify_analysis(&self, analysis: &Analysis) -> ClassifiedFeatures {
        let keys = features(analysis, &self.lexicon, &self.concepts);
        let vector = self.vectorize_features(&keys);
        let mut scores = vec![0.0f32; self.model.classes().max(self.intents.len())];
        self.model.score_into(&vector, &mut scores);
        for score in &mut scores {
            *score *= self.score_scale;
        }
        let pattern_hits = self.patterns.matches(&analysis.normalized);
        for &hit in &pattern_hits {
            scores[self.pattern_intents[hit] as usize] += PATTERN_BONUS;
        }
        let mut vetoed = vec![false; self.intents.len()];
        for hit in &analysis.phrases {
            for target in self.lexicon.phrase_targets(hit.phrase) {
                if let PhraseTarget::Veto(intent) = target {
                    vetoed[*intent as usize] = true;
                }
            }
        }
        // The best few, highest score first; equal scores by pack order, so
        // the list is stable — but equal scores never produce a Matched
        // verdict (below). A bounded insertion, not a sort: packs may have
        // thousands of intents.
        let mut candidates: Vec<Candidate> = Vec::with_capacity(MAX_CANDIDATES + 1);
        for (intent, &score) in scores.iter().enumerate().take(self.intents.len()) {
            if vetoed[intent] {
                continue;
            }
            if candidates.len() == MAX_CANDIDATES && score <= candidates[MAX_CANDIDATES - 1].score {
                continue;
            }
            let at = candidates.partition_point(|c| c.score >= score);
            candidates.insert(at, Candidate { intent, score });
            candidates.truncate(MAX_CANDIDATES);
        }
        let out_of_scope = self.out_of_scope_class.map(|class| scores[class as usize]);
        let no_evidence = vector.is_empty() && pattern_hits.is_empty();
        let settings = self.settings;
        let verdict = match candidates.first() {
            None => Verdict::NoMatch,
            Some(_) if no_evidence => Verdict::NoMatch,
            Some(best) if best.score < settings.min_score => Verdict::NoMatch,
            Some(best)
                if out_of_scope
                    .is_some_and(|oos| oos + settings.out_of_scope_margin > best.score) =>
            {
                Verdict::NoMatch
            }
            Some(best) => {
                let close: Vec<usize> = candidates
                    .iter()
                    .take_while(|c| best.score - c.score <= settings.min_margin)
                    .map(|c| c.intent)
                    .take(3)
                    .collect();
                if close.len() > 1 {
                    Verdict::Ambiguous(close)
                } else {
                    Verdict::Matched(best.intent)
                }
            }
        };
        let classification = Classification {
            verdict,
            candidates,
            out_of_scope,
            no_evidence,
        };
        ClassifiedFeatures {
            classification,
            keys,
            vector,
            pattern_hits,
        }
    }

    /// Classifies a message and explains the verdict word by word. Slower
    /// than [`IntentSet::classify`]; meant for operators.
    pub fn explain(&self, message: &str) -> Explanation {
        let analysis = self.lexicon.analyze(message, true);
        let ClassifiedFeatures {
            classification,
            keys,
            vector,
            pattern_hits,
        } = self.classify_analysis(&analysis);
        // How many occurrences share each feature, to split its value fairly.
        let occurrences = |id: u32| {
            keys.iter()
                .filter(|(key, _)| self.vectorizer.id(*key) == Some(id))
                .count()
                .max(1) as f32
        };
        let contributions = classification
            .candidates
            .iter()
            .map(|candidate| {
                let mut parts: Vec<Contribution> = Vec::new();
                for (key, origin) in &keys {
                    let Some(id) = self.vectorizer.id(*key) else {
                        continue;
                    };
                    let value = vector
                        .iter()
                        .find(|(f, _)| *f == id)
                        .map_or(0.0, |(_, v)| *v);
                    let score =
                        self.model.weight(id, candidate.intent as u32) * value * self.score_scale
                            / occurrences(id);
                    if score.abs() < 1e-4 {
                        continue;
                    }
                    let (kind, text) = describe(&analysis, &self.concepts, *origin);
                    match parts.iter_mut().find(|p| p.kind == kind && p.text == text) {
                        Some(existing) => existing.score += score,
                        None => parts.push(Contribution { kind, text, score }),
                    }
                }
                for &hit in &pattern_hits {
                    if self.pattern_intents[hit] as usize == candidate.intent {
                        parts.push(Contribution {
                            kind: "pattern",
                            text: self.pattern_source(hit).to_string(),
                            score: PATTERN_BONUS,
                        });
                    }
                }
                parts.sort_by(|a, b| b.score.abs().total_cmp(&a.score.abs()));
                parts
            })
            .collect();
        let mut keywords = Vec::new();
        let mut synonyms = Vec::new();
        let mut vetoes = Vec::new();
        for hit in &analysis.phrases {
            let found: String = analysis
                .normalized
                .chars()
                .skip(hit.start)
                .take(hit.end - hit.start)
                .collect();
            for target in self.lexicon.phrase_targets(hit.phrase) {
                match *target {
                    PhraseTarget::Concept(concept) => {
                        synonyms.push((self.concepts[concept as usize].clone(), found.clone()))
                    }
                    PhraseTarget::Keyword { intent, weight } => keywords.push((
                        intent as usize,
                        self.lexicon.phrase_text(hit.phrase).to_string(),
                        weight,
                    )),
                    PhraseTarget::Veto(intent) => vetoes.push((intent as usize, found.clone())),
                }
            }
        }
        let patterns = pattern_hits
            .iter()
            .map(|&hit| {
                let intent = self.pattern_intents[hit] as usize;
                (intent, self.pattern_source(hit).to_string())
            })
            .collect();
        let nearest_example = classification
            .candidates
            .first()
            .and_then(|best| self.nearest_example(best.intent, &vector));
        Explanation {
            analysis,
            classification,
            contributions,
            keywords,
            synonyms,
            patterns,
            vetoes,
            nearest_example,
        }
    }

    fn pattern_source(&self, hit: usize) -> &str {
        self.patterns.source(hit)
    }

    fn nearest_example(&self, intent: usize, vector: &[(u32, f32)]) -> Option<(String, f32)> {
        let mut best: Option<(String, f32)> = None;
        for example in &self.intents[intent].examples {
            let analysis = self.lexicon.analyze(&example.text, false);
            let keys = features(&analysis, &self.lexicon, &self.concepts);
            let other = self.vectorize_features(&keys);
            let similarity = cosine(vector, &other);
            if best.as_ref().is_none_or(|(_, s)| similarity > *s) {
                best = Some((example.text.clone(), similarity));
            }
        }
        best
    }
}

fn cosine(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    // Both sorted by feature id and L2-normalised: a merge is the dot product.
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot
}

fn describe(analysis: &Analysis, concepts: &[String], origin: Origin) -> (&'static str, String) {
    let token_text = |index: usize| {
        let token = &analysis.tokens[index];
        match (&analysis.corrections[index], token.kind) {
            (Some(correction), _) => correction.to.clone(),
            (None, TokenKind::Number) => "#num".to_string(),
            (None, _) => token.text.clone(),
        }
    };
    match origin {
        Origin::Token(index) => ("word", token_text(index)),
        Origin::CharGram(index) => ("letters", token_text(index)),
        Origin::Pair(index) => (
            "pair",
            format!("{} {}", token_text(index), token_text(index + 1)),
        ),
        Origin::HanPair(offset) => (
            "chars",
            analysis.normalized.chars().skip(offset).take(2).collect(),
        ),
        Origin::Concept(concept) => ("synonym", format!("~{}", concepts[concept as usize])),
    }
}
