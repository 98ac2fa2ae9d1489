//! `kefu check`: every problem in the pack, at once, with `file:line:column`.

use std::path::Path;

use crate::diag::{Diagnostic, Severity};
use crate::intent::{CompileOptions, IntentSet, Verdict};
use crate::pack::{self, LoadError};

/// How `check` reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct Output {
    /// Diagnostics as JSON.
    pub json: bool,
    /// Warnings fail the check too (exit 1).
    pub deny_warnings: bool,
}

pub fn run(
    intents: &Path,
    dialogs: &Path,
    options: CompileOptions,
    Output {
        json,
        deny_warnings,
    }: Output,
) -> anyhow::Result<u8> {
    let loaded = pack::load_bot(intents, dialogs, options, crate::brain::Settings::default());
    let (diagnostics, summary) = match loaded {
        Ok(loaded) => {
            let mut diagnostics = loaded.warnings;
            let set = &loaded.bot.intents;
            diagnostics.extend(misclassified_examples(set));
            let summary = format!(
                "{} intents, {} examples, {} out-of-scope examples, {} features, {} dialogs",
                set.intents().len(),
                set.intents()
                    .iter()
                    .map(|i| i.examples.len())
                    .sum::<usize>(),
                set.out_of_scope_examples(),
                set.feature_count(),
                loaded.bot.dialogs.len()
            );
            (diagnostics, Some(summary))
        }
        Err(LoadError::Invalid(diagnostics)) => (diagnostics, None),
        Err(error) => return Err(error.into()),
    };
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let ok = errors == 0 && !(deny_warnings && warnings > 0);
    if json {
        let out = serde_json::json!({
            "ok": ok,
            "errors": errors,
            "warnings": warnings,
            "diagnostics": diagnostics,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for diagnostic in &diagnostics {
            println!("{diagnostic}");
        }
        match summary {
            Some(summary) if ok => println!("ok: {summary}; {warnings} warning(s)"),
            Some(summary) if errors == 0 => {
                println!("{summary}; {warnings} warning(s), denied by --deny-warnings")
            }
            _ => println!("{errors} error(s), {warnings} warning(s): the pack was not loaded"),
        }
    }
    Ok(if ok { 0 } else { 1 })
}

/// Warns where an intent's own example is classified as another intent: the
/// pack contradicts itself there.
fn misclassified_examples(set: &IntentSet) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (index, intent) in set.intents().iter().enumerate() {
        for example in &intent.examples {
            let classification = set.classify(&example.text);
            let message = match &classification.verdict {
                Verdict::Matched(other) if *other != index => {
                    format!(
                        "example of `{}` is classified as `{}`",
                        intent.id,
                        set.intent(*other).id
                    )
                }
                Verdict::Ambiguous(candidates) if !candidates.contains(&index) => format!(
                    "example of `{}` is ambiguous between {}",
                    intent.id,
                    candidates
                        .iter()
                        .map(|&c| format!("`{}`", set.intent(c).id))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                _ => continue,
            };
            out.push(Diagnostic {
                file: example.file.clone(),
                line: example.line,
                column: example.column,
                severity: Severity::Warning,
                message,
            });
        }
    }
    out
}
