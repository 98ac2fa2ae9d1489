//! `dialogs/<id>.toml` as serde types. Unknown fields are errors.
//!
//! Nodes are one flat struct rather than an enum tagged by `type`: serde's
//! tagged enums buffer their content and lose the spans `kefu check` needs,
//! and a flat struct lets the compiler say "an `ask` node needs `value`"
//! instead of serde's generic "missing field".

use serde::Deserialize;
use toml::Spanned;

/// A whole dialog file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialogFile {
    /// Must equal the file name without `.toml`.
    pub id: Spanned<String>,
    /// The nodes; the first one is where the dialog starts.
    #[serde(default)]
    pub node: Vec<Spanned<NodeFile>>,
}

/// Text in both languages. Either may be missing in the file; the compiler
/// reports it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextFile {
    #[serde(default)]
    pub zh: Option<Spanned<String>>,
    #[serde(default)]
    pub en: Option<Spanned<String>>,
}

/// One node. Which fields apply depends on `type`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFile {
    pub id: Spanned<String>,
    /// `say`, `choose`, `ask`, `branch`, `handoff`, `resolve` or `goto`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// What the bot says (all kinds; optional for `branch` and `goto`).
    #[serde(default)]
    pub zh: Option<Spanned<String>>,
    #[serde(default)]
    pub en: Option<Spanned<String>>,
    /// The node that follows (`say`, `ask`; `resolve` after "no" hands off).
    #[serde(default)]
    pub next: Option<Spanned<String>>,
    /// `choose`: the options, in order.
    #[serde(default)]
    pub options: Vec<Spanned<OptionFile>>,
    /// `ask`: the name the answer is kept under; `choose`: optionally keep
    /// the chosen option's `value` under this name.
    #[serde(default)]
    pub value: Option<Spanned<String>>,
    /// `ask`: a built-in kind of value (`order_id`, `txid`, …).
    #[serde(default)]
    pub check: Option<Spanned<String>>,
    /// `ask`: a regular expression the answer must contain.
    #[serde(default)]
    pub regex: Option<Spanned<String>>,
    /// `ask`: shown when the answer is not valid.
    #[serde(default)]
    pub hint: Option<Spanned<TextFile>>,
    /// `ask`: how many invalid answers before handing off (default 3).
    #[serde(default)]
    pub max_tries: Option<Spanned<u32>>,
    /// `ask`: the user may skip the question ("skip", "不知道").
    #[serde(default)]
    pub optional: bool,
    /// `branch`: the collected value to look at.
    #[serde(default)]
    pub on: Option<Spanned<String>>,
    /// `branch`: the cases, tried in order.
    #[serde(default)]
    pub cases: Vec<Spanned<CaseFile>>,
    /// `branch`: where to go when no case applies.
    #[serde(default, rename = "else")]
    pub otherwise: Option<Spanned<String>>,
    /// `handoff` (and `resolve`, for "no"): `urgent`, `high` or `normal`.
    #[serde(default)]
    pub priority: Option<Spanned<String>>,
    /// `goto`: the dialog to continue with.
    #[serde(default)]
    pub dialog: Option<Spanned<String>>,
}

/// One option of a `choose` node.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionFile {
    pub zh: Option<Spanned<String>>,
    pub en: Option<Spanned<String>>,
    /// The node this option leads to …
    #[serde(default)]
    pub next: Option<Spanned<String>>,
    /// … or an intent to answer instead (its dialog or its answer).
    #[serde(default)]
    pub intent: Option<Spanned<String>>,
    /// Kept under the node's `value` name when chosen (default: the
    /// option's English label).
    #[serde(default)]
    pub value: Option<Spanned<String>>,
}

/// One case of a `branch` node. Exactly one test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The value equals this (case-insensitive).
    #[serde(default)]
    pub equals: Option<Spanned<String>>,
    /// The value equals one of these (case-insensitive).
    #[serde(default)]
    pub one_of: Option<Spanned<Vec<String>>>,
    /// The value matches this regular expression.
    #[serde(default)]
    pub matches: Option<Spanned<String>>,
    /// The value was collected (`true`) or skipped / never asked (`false`).
    #[serde(default)]
    pub present: Option<Spanned<bool>>,
    pub next: Spanned<String>,
}
