//! The files operators write, as serde types. Unknown fields are errors, so a
//! typo like `exmaples` is reported instead of silently ignored.
//!
//! Values that a later check may complain about are `Spanned`, so the
//! complaint can point at the exact place in the file.

use serde::Deserialize;
use toml::Spanned;

/// `intents/<id>.toml`: one intent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentFile {
    pub id: Spanned<String>,
    /// The dialog (in `dialogs/`) that handles this intent, if any.
    #[serde(default)]
    pub dialog: Option<Spanned<String>>,
    /// Urgent intents (a hacked account) interrupt any dialog at once and
    /// are handed to a human with the highest priority.
    #[serde(default)]
    pub urgent: bool,
    pub zh: Option<Spanned<LangSection>>,
    pub en: Option<Spanned<LangSection>>,
}

/// The content of one language in an intent file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangSection {
    /// A short name shown when the bot asks "did you mean …?".
    #[serde(default)]
    pub title: Option<Spanned<String>>,
    /// The reply when no dialog handles the intent.
    #[serde(default)]
    pub answer: Option<Spanned<String>>,
    #[serde(default)]
    pub keywords: Vec<Spanned<Keyword>>,
    #[serde(default)]
    pub examples: Vec<Spanned<String>>,
    /// Regular expressions (Rust `regex` syntax) matched against the
    /// normalised message; a match adds [`crate::intent::PATTERN_BONUS`].
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    /// Words whose presence rules this intent out.
    #[serde(default)]
    pub veto: Vec<Spanned<String>>,
}

/// A keyword, plain (`"提币"`) or weighted (`{ text = "审核中", weight = 2.0 }`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Keyword {
    Plain(String),
    Weighted(WeightedKeyword),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedKeyword {
    pub text: String,
    pub weight: f32,
}

impl Keyword {
    pub fn text(&self) -> &str {
        match self {
            Keyword::Plain(text) => text,
            Keyword::Weighted(weighted) => &weighted.text,
        }
    }

    pub fn weight(&self) -> f32 {
        match self {
            Keyword::Plain(_) => 1.0,
            Keyword::Weighted(weighted) => weighted.weight,
        }
    }
}

/// `intents/_synonyms.toml`: groups of words that mean one concept.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SynonymsFile {
    #[serde(default)]
    pub group: Vec<SynonymGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynonymGroup {
    pub concept: Spanned<String>,
    pub words: Vec<Spanned<String>>,
}

/// `intents/_out_of_scope.toml`: messages the bot must not answer, used to
/// learn when to say "no match".
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OutOfScopeFile {
    #[serde(default)]
    pub zh: Option<ExamplesSection>,
    #[serde(default)]
    pub en: Option<ExamplesSection>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ExamplesSection {
    #[serde(default)]
    pub examples: Vec<Spanned<String>>,
}
