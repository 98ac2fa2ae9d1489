//! `kefu eval`: accuracy of a pack on labelled messages.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::Serialize;

use super::import::{import_pack, LabelledRow, OUT_OF_SCOPE_LABEL};
use crate::intent::{compile, CompileOptions, IntentSet, Verdict};

/// Precision, recall and F1 of one label.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LabelScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Latency of `classify`, per message, in microseconds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Latency {
    pub median: f64,
    pub p99: f64,
    pub max: f64,
}

/// Everything `kefu eval --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    pub n: usize,
    pub accuracy: f64,
    pub in_scope_accuracy: Option<f64>,
    pub oos_recall: Option<f64>,
    pub oos_precision: Option<f64>,
    pub macro_f1: f64,
    /// How often the verdict was `Ambiguous` (counted as out of scope).
    pub ambiguous: usize,
    pub latency_us: Latency,
    pub per_intent: BTreeMap<String, LabelScores>,
    /// (gold, predicted, count), most frequent first.
    pub confusions: Vec<(String, String, usize)>,
    /// Gold labels that are not intents of the pack (always errors).
    pub unknown_labels: Vec<String>,
    pub folds: Option<usize>,
}

/// One classified row.
#[derive(Clone, Debug, Default)]
pub struct Prediction {
    pub text: String,
    pub gold: String,
    pub predicted: String,
    pub ambiguous: bool,
    pub micros: f64,
    /// What the verdict was made of, so `--errors` can show it and
    /// `--report` can replay the verdict under other thresholds.
    pub scores: Scores,
    /// For a misclassified row of a plain eval: the training example
    /// nearest to it, with its `file:line`.
    pub nearest: Option<String>,
}

/// The scores behind one verdict (labels as the eval file names them).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Scores {
    pub top: Option<(String, f32)>,
    pub runner_up: Option<(String, f32)>,
    /// The out-of-scope class's score, when the pack has one.
    pub out_of_scope: Option<f32>,
    /// Nothing in the message was known to the pack.
    pub no_evidence: bool,
}

impl Scores {
    /// The label the matcher's rules give under `settings` (the same
    /// order of rules as `IntentSet::classify`).
    pub fn decide(&self, settings: &crate::intent::MatchSettings) -> &str {
        let Some((label, score)) = &self.top else {
            return OUT_OF_SCOPE_LABEL;
        };
        let beaten_by_oos = self
            .out_of_scope
            .is_some_and(|oos| oos + settings.out_of_scope_margin > *score);
        let tied = self
            .runner_up
            .as_ref()
            .is_some_and(|(_, second)| score - second <= settings.min_margin);
        if self.no_evidence || *score < settings.min_score || beaten_by_oos || tied {
            OUT_OF_SCOPE_LABEL
        } else {
            label
        }
    }

    /// The top score's lead over the runner-up.
    pub fn margin(&self) -> Option<f32> {
        Some(self.top.as_ref()?.1 - self.runner_up.as_ref()?.1)
    }
}

/// The label an intent stands for in the eval file.
fn label_of(set: &IntentSet, intent: usize, labels: Option<&HashMap<String, String>>) -> String {
    let id = &set.intent(intent).id;
    labels
        .and_then(|l| l.get(id))
        .cloned()
        .unwrap_or_else(|| id.clone())
}

/// The label a verdict stands for: the intent, or `oos` for no match and
/// for ambiguity (a question back to the user is not an answer).
fn predicted_label(
    set: &IntentSet,
    verdict: &Verdict,
    labels: Option<&HashMap<String, String>>,
) -> String {
    match verdict {
        Verdict::Matched(intent) => label_of(set, *intent, labels),
        _ => OUT_OF_SCOPE_LABEL.to_string(),
    }
}

/// Classifies every row, timing each call.
pub fn predict(
    set: &IntentSet,
    rows: &[&LabelledRow],
    labels: Option<&HashMap<String, String>>,
) -> Vec<Prediction> {
    rows.iter()
        .map(|row| {
            let started = Instant::now();
            let classification = set.classify(&row.text);
            let micros = started.elapsed().as_secs_f64() * 1e6;
            let candidate = |n: usize| {
                classification
                    .candidates
                    .get(n)
                    .map(|c| (label_of(set, c.intent, labels), c.score))
            };
            Prediction {
                text: row.text.clone(),
                gold: normalise_label(&row.label),
                predicted: predicted_label(set, &classification.verdict, labels),
                ambiguous: matches!(classification.verdict, Verdict::Ambiguous(_)),
                micros,
                scores: Scores {
                    top: candidate(0),
                    runner_up: candidate(1),
                    out_of_scope: classification.out_of_scope,
                    no_evidence: classification.no_evidence,
                },
                nearest: None,
            }
        })
        .collect()
}

fn normalise_label(label: &str) -> String {
    if label.eq_ignore_ascii_case(OUT_OF_SCOPE_LABEL) {
        OUT_OF_SCOPE_LABEL.to_string()
    } else {
        label.to_string()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ratio(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Computes the metrics of a list of predictions. `known` are the labels the
/// pack can predict (to report gold labels it cannot).
pub fn evaluate(predictions: &[Prediction], known: &dyn Fn(&str) -> bool) -> Metrics {
    let n = predictions.len();
    let correct = predictions.iter().filter(|p| p.gold == p.predicted).count();
    let in_scope: Vec<&Prediction> = predictions
        .iter()
        .filter(|p| p.gold != OUT_OF_SCOPE_LABEL)
        .collect();
    let gold_oos = n - in_scope.len();
    let predicted_oos = predictions
        .iter()
        .filter(|p| p.predicted == OUT_OF_SCOPE_LABEL)
        .count();
    let both_oos = predictions
        .iter()
        .filter(|p| p.gold == OUT_OF_SCOPE_LABEL && p.predicted == OUT_OF_SCOPE_LABEL)
        .count();

    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new(); // (tp, fp, fn)
    for p in predictions {
        if p.gold == p.predicted {
            counts.entry(&p.gold).or_default().0 += 1;
        } else {
            counts.entry(&p.predicted).or_default().1 += 1;
            counts.entry(&p.gold).or_default().2 += 1;
        }
    }
    let mut per_intent = BTreeMap::new();
    let mut f1_sum = 0.0;
    let mut f1_count = 0;
    for (label, (tp, fp, fn_)) in &counts {
        let support = tp + fn_;
        let precision = ratio(*tp, tp + fp).unwrap_or(0.0);
        let recall = ratio(*tp, support).unwrap_or(0.0);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        if support > 0 {
            f1_sum += f1;
            f1_count += 1;
        }
        per_intent.insert(
            label.to_string(),
            LabelScores {
                precision,
                recall,
                f1,
                support,
            },
        );
    }
    let mut confusion_counts: HashMap<(&str, &str), usize> = HashMap::new();
    for p in predictions.iter().filter(|p| p.gold != p.predicted) {
        *confusion_counts.entry((&p.gold, &p.predicted)).or_default() += 1;
    }
    let mut confusions: Vec<(String, String, usize)> = confusion_counts
        .into_iter()
        .map(|((gold, predicted), count)| (gold.to_string(), predicted.to_string(), count))
        .collect();
    confusions.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
    confusions.truncate(15);
    let mut latencies: Vec<f64> = predictions.iter().map(|p| p.micros).collect();
    latencies.sort_by(f64::total_cmp);
    let mut unknown_labels: Vec<String> = predictions
        .iter()
        .filter(|p| p.gold != OUT_OF_SCOPE_LABEL && !known(&p.gold))
        .map(|p| p.gold.clone())
        .collect();
    unknown_labels.sort();
    unknown_labels.dedup();
    Metrics {
        n,
        accuracy: ratio(correct, n).unwrap_or(0.0),
        in_scope_accuracy: ratio(
            in_scope.iter().filter(|p| p.gold == p.predicted).count(),
            in_scope.len(),
        ),
        oos_recall: ratio(both_oos, gold_oos),
        oos_precision: ratio(both_oos, predicted_oos),
        macro_f1: if f1_count > 0 {
            f1_sum / f1_count as f64
        } else {
            0.0
        },
        ambiguous: predictions.iter().filter(|p| p.ambiguous).count(),
        latency_us: Latency {
            median: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
            max: latencies.last().copied().unwrap_or(0.0),
        },
        per_intent,
        confusions,
        unknown_labels,
        folds: None,
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or("n/a".to_string(), |v| format!("{:.2}%", v * 100.0))
}

fn print(
    metrics: &Metrics,
    predictions: &[Prediction],
    json: bool,
    errors: bool,
) -> anyhow::Result<()> {
    if json {
        let mut value = serde_json::to_value(metrics)?;
        if errors {
            value["errors"] = predictions
                .iter()
                .filter(|p| p.gold != p.predicted)
                .map(|p| serde_json::json!({"text": p.text, "gold": p.gold, "predicted": p.predicted, "ambiguous": p.ambiguous, "scores": p.scores, "margin": p.scores.margin(), "nearest": p.nearest}))
                .collect();
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    if let Some(folds) = metrics.folds {
        println!("{folds}-fold cross-validation");
    }
    println!("messages:            {}", metrics.n);
    println!("accuracy:            {}", percent(Some(metrics.accuracy)));
    println!(
        "in-scope accuracy:   {}",
        percent(metrics.in_scope_accuracy)
    );
    println!("out-of-scope recall: {}", percent(metrics.oos_recall));
    println!("oos precision:       {}", percent(metrics.oos_precision));
    println!("macro-F1:            {:.4}", metrics.macro_f1);
    println!(
        "ambiguous verdicts:  {} (counted as out of scope)",
        metrics.ambiguous
    );
    println!(
        "classify latency:    median {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        metrics.latency_us.median, metrics.latency_us.p99, metrics.latency_us.max
    );
    if !metrics.unknown_labels.is_empty() {
        println!(
            "labels not in the pack: {}",
            metrics.unknown_labels.join(", ")
        );
    }
    println!(
        "\n{:<32} {:>9} {:>7} {:>7} {:>8}",
        "intent", "precision", "recall", "F1", "support"
    );
    for (label, scores) in &metrics.per_intent {
        println!(
            "{:<32} {:>9.3} {:>7.3} {:>7.3} {:>8}",
            label, scores.precision, scores.recall, scores.f1, scores.support
        );
    }
    if !metrics.confusions.is_empty() {
        println!("\nmost frequent confusions (gold → predicted):");
        for (gold, predicted, count) in &metrics.confusions {
            println!("  {count:>4}  {gold} → {predicted}");
        }
    }
    if errors {
        println!("\nmisclassified:");
        for p in predictions.iter().filter(|p| p.gold != p.predicted) {
            let note = if p.ambiguous { " (ambiguous)" } else { "" };
            println!("  [{} → {}{}] {}", p.gold, p.predicted, note, p.text);
            println!("      {}", describe(&p.scores));
            if let Some(nearest) = &p.nearest {
                println!("      nearest example: {nearest}");
            }
        }
    }
    Ok(())
}

/// One line of scores: "top withdrawal_delayed 0.41, runner-up … 0.38
/// (margin 0.03), out of scope 0.30, no known word".
fn describe(scores: &Scores) -> String {
    let mut parts = Vec::new();
    match &scores.top {
        Some((label, score)) => parts.push(format!("top {label} {score:.2}")),
        None => parts.push("no candidate".to_string()),
    }
    if let Some((label, score)) = &scores.runner_up {
        let margin = scores.margin().unwrap_or_default();
        parts.push(format!("runner-up {label} {score:.2} (margin {margin:.2})"));
    }
    if let Some(oos) = scores.out_of_scope {
        parts.push(format!("out of scope {oos:.2}"));
    }
    if scores.no_evidence {
        parts.push("no word the pack knows".to_string());
    }
    parts.join(", ")
}

/// The pack's training example nearest to `text` (by the top intent's
/// features), with the place it is written.
fn nearest_example(set: &IntentSet, text: &str) -> Option<String> {
    let (example, similarity) = set.explain(text).nearest_example?;
    let place = set
        .intents()
        .iter()
        .flat_map(|i| i.examples.iter().map(move |e| (i, e)))
        .find(|(_, e)| e.text == example)
        .map(|(i, e)| format!(" ({}, {}:{})", i.id, e.file, e.line))
        .unwrap_or_default();
    Some(format!("{example:?}{place}, similarity {similarity:.2}"))
}

/// How `eval` reports.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub json: bool,
    /// List the misclassified rows with their scores.
    pub errors: bool,
    /// Write plots and a threshold sweep here.
    pub report: Option<std::path::PathBuf>,
}

pub fn run(set: &IntentSet, rows: &[LabelledRow], output: &Output) -> anyhow::Result<u8> {
    let refs: Vec<&LabelledRow> = rows.iter().collect();
    // Labels that are not intent ids themselves but became one through
    // `kefu import` ("Refund_not_showing_up" → `refund_not_showing_up`)
    // are the same intent: predictions are named by the file's label.
    let labels: HashMap<String, String> = super::import::label_ids(
        rows.iter()
            .map(|r| r.label.as_str())
            .filter(|l| !l.eq_ignore_ascii_case(OUT_OF_SCOPE_LABEL)),
    )
    .into_iter()
    .filter(|(label, id)| set.find(label).is_none() && set.find(id).is_some())
    .map(|(label, id)| (id, label.to_string()))
    .collect();
    let mut predictions = predict(set, &refs, Some(&labels));
    if output.errors {
        for p in predictions.iter_mut().filter(|p| p.gold != p.predicted) {
            p.nearest = nearest_example(set, &p.text);
        }
    }
    let known = |label: &str| {
        set.find(label).is_some() || labels.values().any(|original| original == label)
    };
    let metrics = evaluate(&predictions, &known);
    if let Some(dir) = &output.report {
        super::report::write(dir, &metrics, &predictions, &set.settings())?;
    }
    print(&metrics, &predictions, output.json, output.errors)?;
    if let Some(dir) = &output.report {
        if !output.json {
            println!("\nreport written to {}", dir.display());
        }
    }
    Ok(0)
}

/// Splits rows into `k` folds, stratified by label (round-robin within each
/// label), deterministically.
pub fn folds(rows: &[LabelledRow], k: usize) -> Vec<usize> {
    let mut next: HashMap<&str, usize> = HashMap::new();
    let mut label_offset: HashMap<&str, usize> = HashMap::new();
    rows.iter()
        .map(|row| {
            let offset = label_offset.len();
            let offset = *label_offset.entry(&row.label).or_insert(offset);
            let counter = next.entry(&row.label).or_default();
            let fold = (*counter + offset) % k;
            *counter += 1;
            fold
        })
        .collect()
}

/// K-fold cross-validation: for each fold, import the other folds into a pack
/// (in memory), classify the fold, and pool all predictions.
pub fn cross_validate(
    rows: &[LabelledRow],
    k: usize,
    options: &CompileOptions,
) -> anyhow::Result<(Metrics, Vec<Prediction>)> {
    anyhow::ensure!(k >= 2, "--cv needs at least 2 folds");
    anyhow::ensure!(rows.len() >= k, "--cv {k} needs at least {k} rows");
    let assignment = folds(rows, k);
    let mut predictions = Vec::with_capacity(rows.len());
    let mut known: std::collections::HashSet<String> = Default::default();
    for fold in 0..k {
        let train: Vec<LabelledRow> = rows
            .iter()
            .zip(&assignment)
            .filter(|(_, f)| **f != fold)
            .map(|(row, _)| row.clone())
            .collect();
        let test: Vec<&LabelledRow> = rows
            .iter()
            .zip(&assignment)
            .filter(|(_, f)| **f == fold)
            .map(|(r, _)| r)
            .collect();
        let (sources, summary) = import_pack(&train, "cv");
        let compiled = compile(&sources, options).map_err(|problems| {
            anyhow::anyhow!(
                "fold {fold} did not compile: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .take(5)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?;
        known.extend(summary.labels.values().cloned());
        predictions.extend(predict(&compiled.set, &test, Some(&summary.labels)));
    }
    let mut metrics = evaluate(&predictions, &|label| known.contains(label));
    metrics.folds = Some(k);
    Ok((metrics, predictions))
}

pub fn run_cross_validation(
    rows: &[LabelledRow],
    k: usize,
    options: &CompileOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    let (metrics, predictions) = cross_validate(rows, k, options)?;
    if let Some(dir) = &output.report {
        super::report::write(dir, &metrics, &predictions, &options.settings)?;
    }
    print(&metrics, &predictions, output.json, output.errors)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(gold: &str, predicted: &str) -> Prediction {
        Prediction {
            text: String::new(),
            gold: gold.into(),
            predicted: predicted.into(),
            ambiguous: false,
            micros: 1.0,
            ..Prediction::default()
        }
    }

    #[test]
    fn metrics_count_out_of_scope_apart() {
        let predictions = [
            p("a", "a"),
            p("a", "b"),
            p("b", "b"),
            p("oos", "oos"),
            p("oos", "a"),
            p("a", "oos"),
        ];
        let m = evaluate(&predictions, &|l| l == "a" || l == "b");
        assert_eq!(m.n, 6);
        assert!((m.accuracy - 0.5).abs() < 1e-9);
        assert!((m.in_scope_accuracy.unwrap() - 0.5).abs() < 1e-9);
        assert!((m.oos_recall.unwrap() - 0.5).abs() < 1e-9);
        assert!((m.oos_precision.unwrap() - 0.5).abs() < 1e-9);
        let a = &m.per_intent["a"];
        assert_eq!(a.support, 3);
        assert!((a.precision - 0.5).abs() < 1e-9);
        assert!((a.recall - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(m.confusions.len(), 3);
    }

    #[test]
    fn folds_are_stratified() {
        let rows: Vec<LabelledRow> = (0..20)
            .map(|i| LabelledRow {
                text: format!("t{i}"),
                label: if i % 2 == 0 { "a".into() } else { "b".into() },
            })
            .collect();
        let assignment = folds(&rows, 5);
        for fold in 0..5 {
            let a = rows
                .iter()
                .zip(&assignment)
                .filter(|(r, f)| **f == fold && r.label == "a")
                .count();
            assert_eq!(a, 2);
        }
    }
}
