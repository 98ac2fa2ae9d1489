//! Operator regex patterns, run cheaply.
//!
//! A pack may have a hundred or more patterns like `(提|转).{0,10}(不是我)`.
//! One `RegexSet` over all of them builds a huge DFA that thrashes its cache;
//! running each regex costs a fixed overhead per pattern on every message,
//! and on a message it has not seen, a lazy DFA spends most of that building
//! states. Instead, a pattern runs only when the message holds literals its
//! matches cannot do without: regex-syntax's extractor gives, for the whole
//! pattern and for every piece each match must contain (a concatenated
//! piece, a group, a piece repeated at least once), the literals every match
//! of it starts or ends with. `(提|转).{0,10}(不是我)` needs one of `提`,
//! `转` and also `不是我`; `^\W*人工\W*$` needs `人工`. One Aho–Corasick pass
//! over the message finds which literals occur, and only the patterns all of
//! whose literal sets were seen run. Patterns with no such set (`\d{6}`)
//! always run.
//!
//! The regexes that do run are built without the lazy DFA. A lazy DFA is
//! fast once it has built the states a message needs, but messages are
//! short and varied, and building states was most of a pattern's cost: on
//! the default pack's evaluation set, a first pass took about 7.6 ms with
//! it and 1.2 ms without (the bounded backtracker and the PikeVM need no
//! states), while a pass that had seen every message before took about the
//! same either way (0.33 against 0.41 ms).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_automata::meta::{self, Regex};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

/// Compiled patterns with a literal prefilter.
#[derive(Debug, Default)]
pub struct Patterns {
    regexes: Vec<Regex>,
    sources: Vec<String>,
    /// Per pattern, one bit per literal set it needs (0: always runs).
    required: Vec<u32>,
    literals: Option<AhoCorasick>,
    /// For literal `i`, `owners[owner_start[i]..owner_start[i + 1]]`: the
    /// patterns it belongs to, with the bit of the set it is in.
    owner_start: Vec<u32>,
    owners: Vec<(u32, u32)>,
}

/// At most this many literal sets are kept per pattern (one bit each).
const MAX_SETS: usize = 8;

/// The sets of literals a match of `pattern` needs: from each set, at least
/// one literal occurs in every match. Each set is small, finite and holds no
/// empty literal; there may be none.
fn necessary_literal_sets(pattern: &str) -> Vec<Vec<Vec<u8>>> {
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
        return Vec::new();
    };
    let mut sets: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut add = |set: Option<Vec<Vec<u8>>>| {
        if let Some(mut set) = set {
            set.sort();
            set.dedup();
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
    };
    add(literal_set(&hir, ExtractKind::Prefix));
    add(literal_set(&hir, ExtractKind::Suffix));
    for piece in required_pieces(&hir) {
        add(literal_set(piece, ExtractKind::Prefix));
    }
    // The rarer the literals, the fewer messages run the regex: keep the
    // sets whose shortest literal is longest, then the smallest sets.
    sets.sort_by_key(|set| {
        let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
        (std::cmp::Reverse(shortest), set.len())
    });
    sets.truncate(MAX_SETS);
    sets
}

/// The literals every match of `hir` starts (or ends) with, if the set is
/// finite, small and holds no empty literal.
fn literal_set(hir: &Hir, kind: ExtractKind) -> Option<Vec<Vec<u8>>> {
    let mut extractor = Extractor::new();
    extractor.kind(kind).limit_total(64);
    let seq = extractor.extract(hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    Some(literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// The sub-expressions every match of `hir` contains a match of: the pieces
/// of a concatenation, the inside of a group, and what is repeated at least
/// once — recursively.
fn required_pieces(hir: &Hir) -> Vec<&Hir> {
    let mut out = Vec::new();
    let mut stack = vec![hir];
    while let Some(next) = stack.pop() {
        out.push(next);
        match next.kind() {
            HirKind::Concat(pieces) => stack.extend(pieces.iter()),
            HirKind::Capture(capture) => stack.push(&capture.sub),
            HirKind::Repetition(repetition) if repetition.min >= 1 => stack.push(&repetition.sub),
            _ => {}
        }
    }
    out
}

/// A regex as `regex::Regex::new` builds it (same syntax and size limits),
/// but without the lazy DFA (see the module documentation).
fn build(source: &str) -> Result<Regex, Box<meta::BuildError>> {
    const SIZE_LIMIT: usize = 10 * (1 << 20);
    const DFA_SIZE_LIMIT: usize = 2 * (1 << 20);
    Regex::builder()
        .configure(
            Regex::config()
                .nfa_size_limit(Some(SIZE_LIMIT))
                .onepass_size_limit(Some(SIZE_LIMIT))
                .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                .hybrid(false),
        )
        .build(source)
        .map_err(Box::new)
}

impl Patterns {
    /// Compiles patterns that are already known to be valid regexes.
    pub fn new(sources: &[String]) -> Result<Patterns, Box<meta::BuildError>> {
        let mut patterns = Patterns::default();
        // Distinct literals, each with the (pattern, set bit) pairs it serves.
        let mut literal_ids: std::collections::HashMap<Vec<u8>, usize> =
            std::collections::HashMap::new();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<(u32, u32)>> = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            patterns.regexes.push(build(source)?);
            patterns.sources.push(source.clone());
            let mut required = 0u32;
            for (set_index, set) in necessary_literal_sets(source).into_iter().enumerate() {
                let bit = 1u32 << set_index;
                required |= bit;
                for literal in set {
                    let id = *literal_ids.entry(literal.clone()).or_insert_with(|| {
                        literals.push(literal);
                        owners.push(Vec::new());
                        owners.len() - 1
                    });
                    owners[id].push((index as u32, bit));
                }
            }
            patterns.required.push(required);
        }
        if !literals.is_empty() {
            // A DFA: a few hundred short literals make a small one, and it
            // is the fastest kind to scan with.
            patterns.literals = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&literals)
                .ok();
            if patterns.literals.is_none() {
                // Never expected; correctness first: run everything.
                patterns.required.iter_mut().for_each(|r| *r = 0);
            }
        }
        patterns.owner_start.push(0);
        for list in owners {
            patterns.owners.extend(list);
            patterns.owner_start.push(patterns.owners.len() as u32);
        }
        Ok(patterns)
    }

    pub fn source(&self, index: usize) -> &str {
        &self.sources[index]
    }

    /// Indices of the patterns that match `text`, ascending.
    pub fn matches(&self, text: &str) -> Vec<usize> {
        self.candidates(text)
            .filter(|&index| self.regexes[index].is_match(text))
            .collect()
    }

    /// The patterns whose literal sets all occur in `text`, ascending: the
    /// only ones that can match.
    fn candidates(&self, text: &str) -> impl Iterator<Item = usize> + '_ {
        let mut seen = vec![0u32; self.regexes.len()];
        if let Some(literals) = &self.literals {
            for found in literals.find_overlapping_iter(text) {
                let literal = found.pattern().as_usize();
                let owners =
                    self.owner_start[literal] as usize..self.owner_start[literal + 1] as usize;
                for &(pattern, bit) in &self.owners[owners] {
                    seen[pattern as usize] |= bit;
                }
            }
        }
        (0..self.regexes.len()).filter(move |&index| seen[index] == self.required[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(sources: &[&str]) -> Patterns {
        Patterns::new(&sources.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn prefiltered_and_unfiltered_patterns_match_like_regexes() {
        let sources = [
            "(被盗|盗号)",
            r"(withdraw\w*|orders?).{0,25}(never|did not) (make|made)",
            "^.{0,6}(谢谢|thanks).{0,6}$",
            r"\d{6}",
            "(?i)kyc",
            r"^\W*人工\W*$",
            r"^\W*(hi+|hello+)?\W*(is )?(any(one|body)|you) (there|here)\W*$",
            r"^.{0,20}\b(thanks?|ty)\b.{0,20}$",
        ];
        let set = patterns(&sources);
        // Only `\d{6}` has no literal every match must contain.
        let always: Vec<usize> = (0..sources.len())
            .filter(|&i| set.required[i] == 0)
            .collect();
        assert_eq!(always, [3]);
        let texts = [
            "我的号被盗了",
            "withdrawals i never made",
            "谢谢你",
            "谢谢你谢谢你谢谢你谢谢你",
            "order 123456",
            "KYC failed",
            "nothing here",
            "",
            "人工",
            "转人工",
            "人工!",
            "hiii is anyone there?",
            "you here",
            "are you there",
            "ok thanks!",
            "ty",
            "thank you very much",
            "pretty good",
        ];
        for text in texts {
            let expected: Vec<usize> = sources
                .iter()
                .enumerate()
                .filter(|(_, s)| regex::Regex::new(s).unwrap().is_match(text))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(set.matches(text), expected, "{text}");
        }
    }

    /// The prefilter never changes what matches: every default-pack pattern
    /// against every evaluation message.
    #[test]
    fn default_pack_patterns_match_like_regexes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let set = crate::pack::load(
            &root.join("intents"),
            &root.join("dialogs"),
            crate::intent::CompileOptions::default(),
        )
        .unwrap()
        .set;
        let rows =
            crate::cli::read_labelled(&root.join("tests/data/default_pack_eval.csv")).unwrap();
        assert!(set.patterns.required.iter().all(|&r| r != 0));
        let reference: Vec<regex::Regex> = set
            .patterns
            .sources
            .iter()
            .map(|s| regex::Regex::new(s).unwrap())
            .collect();
        // Each message, then long texts made of many (the longest a message
        // can be), where the regexes run with the PikeVM.
        let mut texts: Vec<String> = rows
            .iter()
            .map(|row| crate::text::normalize(&row.text))
            .collect();
        let joined: Vec<char> = texts.join(" ").chars().collect();
        let long: Vec<String> = joined
            .chunks(crate::text::MAX_MESSAGE_CHARS)
            .map(|chunk| chunk.iter().collect())
            .collect();
        texts.extend(long);
        let (mut matched, mut candidates) = (0, 0);
        for (index, text) in texts.iter().enumerate() {
            let expected: Vec<usize> = (0..reference.len())
                .filter(|&i| reference[i].is_match(text))
                .collect();
            assert_eq!(set.patterns.matches(text), expected, "{text}");
            if index < rows.len() {
                matched += expected.len();
                candidates += set.patterns.candidates(text).count();
            }
        }
        assert!(matched > 100, "{matched}");
        // Few regexes run that do not match.
        assert!(
            candidates < matched * 2,
            "{candidates} candidates, {matched} matches"
        );
    }
}
