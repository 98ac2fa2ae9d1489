//! Operator regex patterns, run cheaply.
//!
//! A pack may have a hundred or more patterns like `(提|转).{0,10}(不是我)`.
//! One `RegexSet` over all of them builds a huge DFA that thrashes its cache;
//! running each regex costs a fixed overhead per pattern on every message.
//! Instead, every match of a pattern must start (or end) with one of a few
//! literals, which regex-syntax's extractor tells us; one Aho–Corasick pass
//! over the message finds which literals occur, and only those patterns run.
//! When the whole pattern has no such literals, a piece every match must
//! contain may (`谢谢` in `^.{0,12}谢谢`); patterns with none at all always
//! run.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

/// Compiled patterns with a literal prefilter.
#[derive(Debug, Default)]
pub struct Patterns {
    regexes: Vec<Regex>,
    /// Patterns that must always run.
    always: Vec<usize>,
    literals: Option<AhoCorasick>,
    /// The pattern each literal belongs to.
    owner: Vec<usize>,
}

/// Literals one of which occurs in every match of `pattern`, if such a set
/// is small and none is empty: those every match starts (or ends) with, or
/// else those every match of some piece the whole match must contain starts
/// with (`人工` in `^\W*人工\W*$`, the group in `^.{0,12}(谢谢|感谢).{0,12}$`).
fn necessary_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        if let Some(found) = literal_set(&hir, kind) {
            return Some(found);
        }
    }
    let mut best: Option<Vec<Vec<u8>>> = None;
    for piece in required_pieces(&hir) {
        let Some(found) = literal_set(piece, ExtractKind::Prefix) else {
            continue;
        };
        // The rarer the literals, the fewer messages run the regex: prefer
        // the longest shortest literal, then the fewest literals.
        let rank = |set: &[Vec<u8>]| {
            let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
            (shortest, std::cmp::Reverse(set.len()))
        };
        if best.as_ref().is_none_or(|b| rank(&found) > rank(b)) {
            best = Some(found);
        }
    }
    best
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

impl Patterns {
    /// Compiles patterns that are already known to be valid regexes.
    pub fn new(sources: &[String]) -> Result<Patterns, regex::Error> {
        let mut patterns = Patterns::default();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            patterns.regexes.push(Regex::new(source)?);
            match necessary_literals(source) {
                Some(found) => {
                    for literal in found {
                        literals.push(literal);
                        patterns.owner.push(index);
                    }
                }
                None => patterns.always.push(index),
            }
        }
        if !literals.is_empty() {
            patterns.literals = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .ok();
            if patterns.literals.is_none() {
                // Never expected; correctness first: run everything.
                patterns.always = (0..sources.len()).collect();
            }
        }
        Ok(patterns)
    }

    pub fn source(&self, index: usize) -> &str {
        self.regexes[index].as_str()
    }

    /// Indices of the patterns that match `text`, ascending.
    pub fn matches(&self, text: &str) -> Vec<usize> {
        if self.regexes.is_empty() {
            return Vec::new();
        }
        let mut candidates: Vec<usize> = self.always.clone();
        if let Some(literals) = &self.literals {
            for found in literals.find_overlapping_iter(text) {
                candidates.push(self.owner[found.pattern().as_usize()]);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|&index| self.regexes[index].is_match(text));
        candidates
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
        assert_eq!(set.always, [3]);
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
                .filter(|(_, s)| Regex::new(s).unwrap().is_match(text))
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
        assert!(set.patterns.always.is_empty());
        let mut matched = 0;
        for row in &rows {
            let text = crate::text::normalize(&row.text);
            let expected: Vec<usize> = (0..set.patterns.regexes.len())
                .filter(|&i| set.patterns.regexes[i].is_match(&text))
                .collect();
            matched += expected.len();
            assert_eq!(set.patterns.matches(&text), expected, "{text}");
        }
        assert!(matched > 100, "{matched}");
    }
}
