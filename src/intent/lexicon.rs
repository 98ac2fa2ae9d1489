//! The pack's vocabulary: segmentation, stemming, synonyms, keyword and veto
//! phrases, and typo correction — everything that turns a message into the
//! terms the model scores.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rust_stemmers::{Algorithm, Stemmer};

use crate::text::{is_han, normalize, Segmenter, Token, TokenKind};

/// Hash maps keyed by words: foldhash with a fixed seed is several times
/// faster than std's SipHash on short keys, and these tables are looked up
/// for every word of every message. Nothing here needs SipHash's resistance
/// to crafted collisions: the keys are the pack's own vocabulary.
type WordMap<V> = HashMap<String, V, foldhash::fast::FixedState>;

/// What a phrase found in a message stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PhraseTarget {
    /// A synonym group: every variant yields the same concept feature.
    Concept(u32),
    /// An intent keyword (evidence shown by `kefu match`).
    Keyword { intent: u32, weight: f32 },
    /// A veto word: the intent is ruled out.
    Veto(u32),
}

/// A phrase found in a message, with its character range in the normalised
/// text.
#[derive(Clone, Debug, PartialEq)]
pub struct PhraseHit {
    pub phrase: u32,
    pub start: usize,
    pub end: usize,
}

/// A misspelt word replaced by a known one.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Correction {
    pub from: String,
    pub to: String,
    pub distance: usize,
}

/// A message after analysis: what the matcher and `kefu match` work from.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub normalized: String,
    pub tokens: Vec<Token>,
    /// Per token, the term used as a feature: the stem of the (corrected)
    /// word for Latin script, the word itself for Chinese, `#num` for numbers.
    pub terms: Vec<String>,
    /// Per token, the correction applied, if any.
    pub corrections: Vec<Option<Correction>>,
    pub phrases: Vec<PhraseHit>,
}

struct Phrase {
    text: String,
    targets: Vec<PhraseTarget>,
}

/// Finds synonyms, keywords and veto words in messages. Phrases with Han
/// characters are found as substrings (jieba may split them differently in
/// context); Latin phrases match whole words by stem, so "withdrawals" finds
/// the synonym "withdrawal" but "acc" never matches inside "account".
struct PhraseIndex {
    phrases: Vec<Phrase>,
    han: Option<AhoCorasick>,
    han_ids: Vec<u32>,
    /// First stem → (all stems, phrase id), longest first.
    latin: WordMap<Vec<(Vec<String>, u32)>>,
}

/// Typo correction over the pack's own Latin words: a symmetric-delete index
/// (every word and its one-character deletions) finds candidates in constant
/// time, and strsim's Damerau–Levenshtein distance decides. Distance 1 is
/// always found; for words of eight letters or more, some distance-2 typos
/// (an insertion plus another edit) are found as well. It also keeps each
/// known word's stem, so known words are never stemmed again.
struct Speller {
    words: Vec<String>,
    stems: Vec<String>,
    frequency: Vec<u32>,
    known: WordMap<u32>,
    deletes: WordMap<Vec<u32>>,
}

/// Words shorter than this are never corrected: "eth" and "btc" are one edit
/// away from too many other words.
const MIN_CORRECTABLE_CHARS: usize = 4;

/// What the speller makes of a word.
enum Spelling {
    /// A word of the pack (its id).
    Known(u32),
    /// An unknown word close to a known one.
    Corrected(Correction, u32),
    /// Neither.
    Unknown,
}

impl Speller {
    fn new(word_counts: HashMap<String, u32>, stemmer: &Stemmer) -> Self {
        let mut words: Vec<(String, u32)> = word_counts.into_iter().collect();
        words.sort();
        let mut speller = Speller {
            words: Vec::with_capacity(words.len()),
            stems: Vec::with_capacity(words.len()),
            frequency: Vec::with_capacity(words.len()),
            known: WordMap::with_capacity_and_hasher(words.len(), Default::default()),
            deletes: WordMap::default(),
        };
        let mut buffer = String::new();
        for (id, (word, count)) in words.into_iter().enumerate() {
            let id = id as u32;
            if word.chars().count() >= MIN_CORRECTABLE_CHARS - 1 {
                let mut variants = vec![word.clone()];
                for_each_deletion(&word, &mut buffer, |variant| {
                    variants.push(variant.to_string())
                });
                for variant in variants {
                    let entry = speller.deletes.entry(variant).or_default();
                    if entry.last() != Some(&id) {
                        entry.push(id);
                    }
                }
            }
            speller.known.insert(word.clone(), id);
            speller.stems.push(stemmer.stem(&word).into_owned());
            speller.words.push(word);
            speller.frequency.push(count);
        }
        speller
    }

    /// Looks a word up and, if it is unknown and `correct` is set, corrects it.
    fn spell(&self, word: &str, correct: bool) -> Spelling {
        if let Some(&id) = self.known.get(word) {
            return Spelling::Known(id);
        }
        if !correct {
            return Spelling::Unknown;
        }
        match self.correct_unknown(word) {
            Some((distance, id)) => Spelling::Corrected(
                Correction {
                    from: word.to_string(),
                    to: self.words[id as usize].clone(),
                    distance,
                },
                id,
            ),
            None => Spelling::Unknown,
        }
    }

    /// The closest known word to a word that is not one: (distance, id).
    fn correct_unknown(&self, word: &str) -> Option<(usize, u32)> {
        let length = word.chars().count();
        if length < MIN_CORRECTABLE_CHARS || !word.chars().all(|c| c.is_alphabetic()) {
            return None;
        }
        let max_distance = if length >= 8 { 2 } else { 1 };
        let mut best: Option<(usize, std::cmp::Reverse<u32>, u32)> = None;
        self.probe(word, word, max_distance, &mut best);
        let mut first = String::with_capacity(word.len());
        for_each_deletion(word, &mut first, |probe| {
            self.probe(word, probe, max_distance, &mut best)
        });
        // Second-level deletions only when nothing at distance 1 was found
        // (a distance-2 word can never beat it), and only for words short
        // enough that their n²/2 variants stay cheap.
        if max_distance == 2 && best.is_none() && length <= MAX_DISTANCE_TWO_CHARS {
            let mut second = String::with_capacity(word.len());
            for_each_deletion(word, &mut first, |variant| {
                for_each_deletion(variant, &mut second, |probe| {
                    self.probe(word, probe, max_distance, &mut best)
                })
            });
        }
        best.map(|(distance, _, id)| (distance, id))
    }

    /// Updates `best` with the closest known word reached through `probe`:
    /// smallest distance, then most frequent, then first.
    fn probe(
        &self,
        word: &str,
        probe: &str,
        max_distance: usize,
        best: &mut Option<(usize, std::cmp::Reverse<u32>, u32)>,
    ) {
        let Some(candidates) = self.deletes.get(probe) else {
            return;
        };
        for &id in candidates {
            let candidate = &self.words[id as usize];
            let distance = strsim::damerau_levenshtein(word, candidate);
            if distance == 0 || distance > max_distance {
                continue;
            }
            let key = (distance, std::cmp::Reverse(self.frequency[id as usize]), id);
            if best.is_none_or(|b| key < b) {
                *best = Some(key);
            }
        }
    }
}

/// Words longer than this are corrected at distance 1 only.
const MAX_DISTANCE_TWO_CHARS: usize = 20;

/// Calls `f` with every string made by removing one character, built in
/// `buffer` (no allocation per variant).
fn for_each_deletion(word: &str, buffer: &mut String, mut f: impl FnMut(&str)) {
    for (i, ch) in word.char_indices() {
        buffer.clear();
        buffer.push_str(&word[..i]);
        buffer.push_str(&word[i + ch.len_utf8()..]);
        f(buffer);
    }
}

/// Everything needed to analyse a message; built once per pack.
pub struct Lexicon {
    segmenter: Segmenter,
    stemmer: Stemmer,
    phrases: PhraseIndex,
    speller: Speller,
}

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexicon")
            .field("phrases", &self.phrases.phrases.len())
            .field("words", &self.speller.words.len())
            .finish()
    }
}

/// Collects a pack's phrases and words before the lexicon is built.
#[derive(Default)]
pub struct LexiconBuilder {
    phrases: Vec<Phrase>,
    phrase_ids: HashMap<String, u32>,
    word_counts: HashMap<String, u32>,
}

impl LexiconBuilder {
    /// Adds a phrase (normalised here) with what it stands for. Returns false
    /// when the phrase normalises to nothing.
    pub fn add_phrase(&mut self, text: &str, target: PhraseTarget) -> bool {
        let normalized = normalize(text);
        if normalized.is_empty() {
            return false;
        }
        let id = *self
            .phrase_ids
            .entry(normalized.clone())
            .or_insert_with(|| {
                self.phrases.push(Phrase {
                    text: normalized,
                    targets: Vec::new(),
                });
                (self.phrases.len() - 1) as u32
            });
        let targets = &mut self.phrases[id as usize].targets;
        if !targets.contains(&target) {
            targets.push(target);
        }
        true
    }

    /// Counts the Latin words of a training text, so the speller knows them.
    pub fn add_text(&mut self, text: &str) {
        let normalized = normalize(text);
        for word in normalized.split(|c: char| !c.is_alphanumeric() || is_han(c)) {
            if !word.is_empty() && word.chars().all(char::is_alphabetic) {
                *self.word_counts.entry(word.to_string()).or_default() += 1;
            }
        }
    }

    pub fn build(mut self) -> Lexicon {
        let stemmer = Stemmer::create(Algorithm::English);
        // Phrase words are vocabulary too: a misspelt keyword is corrected.
        let phrase_texts: Vec<String> = self.phrases.iter().map(|p| p.text.clone()).collect();
        for text in &phrase_texts {
            self.add_text(text);
        }
        let segmenter = Segmenter::new(phrase_texts.iter().map(String::as_str));
        let mut han_patterns = Vec::new();
        let mut han_ids = Vec::new();
        let mut latin: WordMap<Vec<(Vec<String>, u32)>> = WordMap::default();
        for (id, phrase) in self.phrases.iter().enumerate() {
            if phrase.text.chars().any(is_han) {
                han_patterns.push(phrase.text.clone());
                han_ids.push(id as u32);
            } else {
                let stems: Vec<String> = phrase
                    .text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(|w| stemmer.stem(w).into_owned())
                    .collect();
                if let Some(first) = stems.first() {
                    latin
                        .entry(first.clone())
                        .or_default()
                        .push((stems, id as u32));
                }
            }
        }
        for candidates in latin.values_mut() {
            candidates.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        }
        let han = if han_patterns.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&han_patterns)
                .ok()
        };
        let speller = Speller::new(self.word_counts, &stemmer);
        Lexicon {
            segmenter,
            stemmer,
            phrases: PhraseIndex {
                phrases: self.phrases,
                han,
                han_ids,
                latin,
            },
            speller,
        }
    }
}

impl Lexicon {
    /// The normalised text of a phrase.
    pub fn phrase_text(&self, phrase: u32) -> &str {
        &self.phrases.phrases[phrase as usize].text
    }

    pub fn phrase_targets(&self, phrase: u32) -> &[PhraseTarget] {
        &self.phrases.phrases[phrase as usize].targets
    }

    pub fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    /// Analyses a raw message. `correct` turns typo correction on (it is off
    /// for the pack's own examples, whose words are the vocabulary).
    pub fn analyze(&self, message: &str, correct: bool) -> Analysis {
        let normalized = normalize(message);
        let tokens = self.segmenter.tokens(&normalized);
        let mut terms = Vec::with_capacity(tokens.len());
        let mut corrections = Vec::with_capacity(tokens.len());
        for token in &tokens {
            match token.kind {
                TokenKind::Han => {
                    terms.push(token.text.clone());
                    corrections.push(None);
                }
                TokenKind::Number => {
                    terms.push("#num".to_string());
                    corrections.push(None);
                }
                TokenKind::Word => match self.speller.spell(&token.text, correct) {
                    Spelling::Known(id) => {
                        terms.push(self.speller.stems[id as usize].clone());
                        corrections.push(None);
                    }
                    Spelling::Corrected(correction, id) => {
                        terms.push(self.speller.stems[id as usize].clone());
                        corrections.push(Some(correction));
                    }
                    Spelling::Unknown => {
                        terms.push(self.stem(&token.text));
                        corrections.push(None);
                    }
                },
            }
        }
        let phrases = self.find_phrases(&normalized, &tokens, &terms);
        Analysis {
            normalized,
            tokens,
            terms,
            corrections,
            phrases,
        }
    }

    fn find_phrases(&self, normalized: &str, tokens: &[Token], terms: &[String]) -> Vec<PhraseHit> {
        let mut hits = Vec::new();
        if let Some(han) = &self.phrases.han {
            // Byte offsets → character offsets, computed once per message.
            let mut char_at_byte = Vec::new();
            if !normalized.is_ascii() {
                char_at_byte = vec![0usize; normalized.len() + 1];
                let mut count = 0;
                for (byte, ch) in normalized.char_indices() {
                    for slot in &mut char_at_byte[byte..byte + ch.len_utf8()] {
                        *slot = count;
                    }
                    count += 1;
                }
                char_at_byte[normalized.len()] = count;
            }
            let to_char = |byte: usize| {
                if char_at_byte.is_empty() {
                    byte
                } else {
                    char_at_byte[byte]
                }
            };
            for found in han.find_iter(normalized) {
                hits.push(PhraseHit {
                    phrase: self.phrases.han_ids[found.pattern().as_usize()],
                    start: to_char(found.start()),
                    end: to_char(found.end()),
                });
            }
        }
        let mut index = 0;
        while index < tokens.len() {
            let mut advanced = false;
            if tokens[index].kind == TokenKind::Word {
                if let Some(candidates) = self.phrases.latin.get(&terms[index]) {
                    for (stems, phrase) in candidates {
                        let end = index + stems.len();
                        if end <= tokens.len()
                            && stems.iter().zip(&terms[index..end]).all(|(a, b)| a == b)
                        {
                            hits.push(PhraseHit {
                                phrase: *phrase,
                                start: tokens[index].start,
                                end: tokens[end - 1].end,
                            });
                            index = end;
                            advanced = true;
                            break;
                        }
                    }
                }
            }
            if !advanced {
                index += 1;
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        let mut builder = LexiconBuilder::default();
        builder.add_phrase("提币", PhraseTarget::Concept(0));
        builder.add_phrase("提u", PhraseTarget::Concept(0));
        builder.add_phrase("withdrawal", PhraseTarget::Concept(0));
        builder.add_phrase("cash out", PhraseTarget::Concept(0));
        builder.add_phrase("account", PhraseTarget::Concept(1));
        builder.add_phrase("acc", PhraseTarget::Concept(1));
        builder.add_text("my account password verification withdrawal received");
        builder.build()
    }

    fn concepts(analysis: &Analysis, lexicon: &Lexicon) -> Vec<String> {
        analysis
            .phrases
            .iter()
            .map(|hit| lexicon.phrase_text(hit.phrase).to_string())
            .collect()
    }

    #[test]
    fn finds_synonyms_in_both_scripts() {
        let lexicon = lexicon();
        let analysis = lexicon.analyze("我想提U到别的平台, then cash out", true);
        assert_eq!(concepts(&analysis, &lexicon), ["提u", "cash out"]);
        let hit = &analysis.phrases[0];
        assert_eq!((hit.start, hit.end), (2, 4));
    }

    #[test]
    fn latin_phrases_match_whole_words_by_stem() {
        let lexicon = lexicon();
        let analysis = lexicon.analyze("two withdrawals from my acc", true);
        assert_eq!(concepts(&analysis, &lexicon), ["withdrawal", "acc"]);
        let analysis = lexicon.analyze("accept", true);
        assert!(analysis.phrases.is_empty());
    }

    #[test]
    fn corrects_typos_to_known_words() {
        let lexicon = lexicon();
        let analysis = lexicon.analyze("my acount pasword verfication withdrawl recieved", true);
        let fixed: Vec<String> = analysis
            .corrections
            .iter()
            .flatten()
            .map(|c| format!("{}→{}", c.from, c.to))
            .collect();
        assert_eq!(
            fixed,
            [
                "acount→account",
                "pasword→password",
                "verfication→verification",
                "withdrawl→withdrawal",
                "recieved→received"
            ]
        );
        // a corrected word finds its synonym too
        assert!(concepts(&analysis, &lexicon).contains(&"account".to_string()));
    }

    #[test]
    fn leaves_short_and_unknown_words_alone() {
        let lexicon = lexicon();
        let analysis = lexicon.analyze("eth btc xyzzyq", true);
        assert!(analysis.corrections.iter().all(Option::is_none));
    }
}
