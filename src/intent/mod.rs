//! Intents: the pack operators write (`intents/*.toml`), compiled into an
//! immutable [`IntentSet`], and the matcher that classifies messages.
//!
//! Loading is kept apart from logic: the CLI reads files into
//! [`PackSources`]; [`compile`] is pure and reports every problem at once.

mod compile;
mod lexicon;
mod linear;
mod matcher;
pub mod model;
mod patterns;

pub use compile::{compile, CompileOptions, Compiled, PackSources};
pub use lexicon::{Analysis, Correction};
pub use linear::TrainSettings;
pub use matcher::{Candidate, Classification, Contribution, Explanation, Verdict};

use crate::lang::Lang;
use lexicon::Lexicon;
use linear::{LinearModel, Vectorizer};

/// Score added to an intent when one of its regex patterns matches. Patterns
/// are the operator's explicit word, so they count for about half of a
/// confident match; the learned evidence still has a say.
pub const PATTERN_BONUS: f32 = 0.5;

/// When to answer, and when to say "no match" or "did you mean …?".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchSettings {
    /// The best intent must score at least this much; below it the message
    /// is out of scope.
    pub min_score: f32,
    /// The best intent must beat the runner-up by this much; otherwise the
    /// verdict is ambiguous and both are offered.
    pub min_margin: f32,
    /// The best intent must beat the out-of-scope class (when the pack has
    /// out-of-scope examples) by this much. A few dozen out-of-scope
    /// examples cannot cover everything out of scope, so that class scores
    /// low on what it has not seen; the margin makes up for it.
    pub out_of_scope_margin: f32,
}

impl Default for MatchSettings {
    fn default() -> Self {
        // Tuned together by cross-validation on BANKING77, CLINC150 (val)
        // and the default pack's eval set (see the README).
        MatchSettings {
            min_score: 0.3,
            min_margin: 0.01,
            out_of_scope_margin: 0.15,
        }
    }
}

/// The text of an intent in one language.
#[derive(Clone, Debug, Default)]
pub struct IntentText {
    /// Shown in "did you mean …?" choices.
    pub title: String,
    /// The reply, unless a dialog handles the intent.
    pub answer: Option<String>,
}

/// An example message with where it was written, for `kefu check`.
#[derive(Clone, Debug)]
pub struct Example {
    pub text: String,
    pub lang: Lang,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// One compiled intent.
#[derive(Clone, Debug)]
pub struct Intent {
    pub id: String,
    pub dialog: Option<String>,
    pub urgent: bool,
    pub zh: IntentText,
    pub en: IntentText,
    pub examples: Vec<Example>,
    pub keywords: Vec<(String, f32)>,
    pub patterns: Vec<String>,
}

impl Intent {
    pub fn text(&self, lang: Lang) -> &IntentText {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// A compiled pack: immutable, cheap to share behind an `Arc`, and replaced
/// whole on reload.
#[derive(Debug)]
pub struct IntentSet {
    intents: Vec<Intent>,
    concepts: Vec<String>,
    lexicon: Lexicon,
    vectorizer: Vectorizer,
    model: LinearModel,
    /// Makes scores comparable across packs: 1 / the median score the model
    /// gives its own training examples. A small pack trains to smaller raw
    /// weights than a large one; after scaling, a typical in-pack message
    /// scores about 1 in every pack, so one threshold fits all.
    score_scale: f32,
    /// The extra class learnt from out-of-scope examples, if the pack has any.
    out_of_scope_class: Option<u32>,
    out_of_scope_examples: usize,
    patterns: patterns::Patterns,
    pattern_intents: Vec<u32>,
    settings: MatchSettings,
}

impl IntentSet {
    pub fn intents(&self) -> &[Intent] {
        &self.intents
    }

    pub fn intent(&self, index: usize) -> &Intent {
        &self.intents[index]
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.intents.iter().position(|intent| intent.id == id)
    }

    pub fn settings(&self) -> MatchSettings {
        self.settings
    }

    pub fn out_of_scope_examples(&self) -> usize {
        self.out_of_scope_examples
    }

    pub fn feature_count(&self) -> usize {
        self.vectorizer.len()
    }
}
