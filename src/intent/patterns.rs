//! Operator regex patterns, run cheaply.
//!
//! A pack may have a hundred or more patterns like `(提|转).{0,10}(不是我)`.
//! One `RegexSet` over all of them builds a huge DFA that thrashes its cache;
//! running each regex costs a fixed overhead per pattern on every message.
//! Instead, every match of a pattern must start (or end) with one of a few
//! literals, which regex-syntax's extractor tells us; one Aho–Corasick pass
//! over the message finds which literals occur, and only those patterns run.
//! Patterns with no such literals (`^.{0,12}谢谢`) always run.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

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

/// The literals every match of `pattern` starts with (or ends with), if the
/// set is small and none is empty.
fn necessary_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut extractor = Extractor::new();
        extractor.kind(kind).limit_total(64);
        let seq = extractor.extract(&hir);
        if let Some(literals) = seq.literals() {
            if !literals.is_empty() && literals.iter().all(|l| !l.as_bytes().is_empty()) {
                return Some(literals.iter().map(|l| l.as_bytes().to_vec()).collect());
            }
        }
    }
    None
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
        ];
        let set = patterns(&sources);
        assert!(set.always.contains(&2) && set.always.contains(&3));
        let texts = [
            "我的号被盗了",
            "withdrawals i never made",
            "谢谢你",
            "order 123456",
            "KYC failed",
            "nothing here",
            "",
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
}
