//! The default pack on our own labelled messages (tests/data/default_pack_eval.csv:
//! written independently of the intent files, zh and en, typos, out-of-scope;
//! tests/data/realistic_eval.csv: written the way real users write — long and
//! rambling, misspelt, several problems in one message, Traditional characters,
//! Cantonese, praise, near-domain out of scope).

use std::path::Path;

use kefu::cli::{evaluate, predict, read_labelled, LabelledRow};
use kefu::intent::{CompileOptions, IntentSet};

/// The shipped pack and the labelled messages, as a fresh clone has them.
fn pack_and_rows() -> (IntentSet, Vec<LabelledRow>) {
    pack_and("tests/data/default_pack_eval.csv")
}

fn pack_and(file: &str) -> (IntentSet, Vec<LabelledRow>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = kefu::pack::load(
        &root.join("intents"),
        &root.join("dialogs"),
        CompileOptions::default(),
    )
    .expect("the default pack compiles")
    .set;
    let rows = read_labelled(&root.join(file)).unwrap();
    (set, rows)
}

#[test]
fn default_pack_meets_the_accuracy_bar() {
    let (set, rows) = pack_and_rows();
    assert!(rows.len() >= 300);
    let out_of_scope = rows.iter().filter(|r| r.label == "oos").count();
    assert!(out_of_scope >= 60);
    let refs: Vec<_> = rows.iter().collect();
    let predictions = predict(&set, &refs, None);
    let metrics = evaluate(&predictions, &|label| set.find(label).is_some());
    println!(
        "accuracy {:.4}, in-scope {:.4}, oos recall {:.4}, oos precision {:.4}, macro-F1 {:.4}",
        metrics.accuracy,
        metrics.in_scope_accuracy.unwrap(),
        metrics.oos_recall.unwrap(),
        metrics.oos_precision.unwrap(),
        metrics.macro_f1
    );
    assert!(
        metrics.unknown_labels.is_empty(),
        "{:?}",
        metrics.unknown_labels
    );
    assert!(metrics.accuracy >= 0.95, "accuracy {:.4}", metrics.accuracy);
    assert!(
        metrics.oos_recall.unwrap() >= 0.90,
        "oos recall {:.4}",
        metrics.oos_recall.unwrap()
    );
    // Every intent of the pack is exercised.
    for intent in set.intents() {
        assert!(
            rows.iter().any(|r| r.label == intent.id),
            "no eval rows for {}",
            intent.id
        );
    }
}

#[test]
fn realistic_messages_meet_the_accuracy_bar() {
    let (set, rows) = pack_and("tests/data/realistic_eval.csv");
    assert!(rows.len() >= 300);
    let out_of_scope = rows.iter().filter(|r| r.label == "oos").count();
    assert!(out_of_scope >= 60);
    // Both languages, with Traditional characters among the Chinese.
    assert!(
        rows.iter()
            .filter(|r| r
                .text
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
            .count()
            >= 150
    );
    assert!(rows.iter().filter(|r| r.text.is_ascii()).count() >= 150);
    let refs: Vec<_> = rows.iter().collect();
    let predictions = predict(&set, &refs, None);
    let metrics = evaluate(&predictions, &|label| set.find(label).is_some());
    println!(
        "accuracy {:.4}, in-scope {:.4}, oos recall {:.4}",
        metrics.accuracy,
        metrics.in_scope_accuracy.unwrap(),
        metrics.oos_recall.unwrap(),
    );
    assert!(
        metrics.unknown_labels.is_empty(),
        "{:?}",
        metrics.unknown_labels
    );
    assert!(metrics.accuracy >= 0.90, "accuracy {:.4}", metrics.accuracy);
}

#[test]
fn no_eval_message_is_copied_from_the_intent_files() {
    for file in [
        "tests/data/default_pack_eval.csv",
        "tests/data/realistic_eval.csv",
    ] {
        no_message_copied(file);
    }
}

fn no_message_copied(file: &str) {
    let (set, rows) = pack_and(file);
    let examples: std::collections::HashSet<String> = set
        .intents()
        .iter()
        .flat_map(|i| i.examples.iter().map(|e| kefu::text::normalize(&e.text)))
        .collect();
    let copied: Vec<&str> = rows
        .iter()
        .filter(|r| examples.contains(&kefu::text::normalize(&r.text)))
        .map(|r| r.text.as_str())
        .collect();
    assert!(
        copied.is_empty(),
        "{file}: copied from intent files: {copied:?}"
    );
}
