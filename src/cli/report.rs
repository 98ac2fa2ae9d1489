//! `kefu eval --report DIR`: what an operator looks at before changing a
//! threshold or an intent.
//!
//! - `confusion.svg` and `confusion.csv`: gold label against predicted,
//!   each row shaded by the share of that label's messages;
//! - `confidence.svg`: the top score of every message, right and wrong
//!   stacked, with the `min_score` line;
//! - `thresholds.csv`: the metrics again under other `min_score` and
//!   out-of-scope margins, replayed from the recorded scores (the same
//!   rules as the matcher, so the row of the current settings is the
//!   eval's own figures).
//!
//! Plots are drawn with plotters' SVG backend: no fonts, no bitmaps.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use plotters::prelude::*;

use super::eval::{Metrics, Prediction};
use super::import::OUT_OF_SCOPE_LABEL;
use crate::intent::MatchSettings;

/// Labels beyond this many are left out of the matrix picture (the CSV
/// keeps them all): those with the most errors stay.
const MAX_MATRIX_LABELS: usize = 40;

pub fn write(
    dir: &Path,
    metrics: &Metrics,
    predictions: &[Prediction],
    settings: &MatchSettings,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let save = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    let counts = confusion(predictions);
    save("confusion.csv", confusion_csv(&counts))?;
    save("confusion.svg", confusion_svg(&counts, metrics)?)?;
    save("confidence.svg", confidence_svg(predictions, settings)?)?;
    save("thresholds.csv", thresholds_csv(predictions, settings))?;
    Ok(())
}

/// (gold, predicted) → count.
fn confusion(predictions: &[Prediction]) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for p in predictions {
        *counts
            .entry((p.gold.clone(), p.predicted.clone()))
            .or_default() += 1;
    }
    counts
}

fn confusion_csv(counts: &BTreeMap<(String, String), usize>) -> String {
    let mut out = String::from("gold,predicted,count\n");
    for ((gold, predicted), count) in counts {
        let _ = writeln!(out, "{},{},{count}", csv_field(gold), csv_field(predicted));
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Plotters' errors carry the backend's error type; the report only needs
/// the message.
fn drawing<E: std::fmt::Debug>(error: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the report failed: {error:?}")
}

fn confusion_svg(
    counts: &BTreeMap<(String, String), usize>,
    metrics: &Metrics,
) -> anyhow::Result<String> {
    // Labels by errors (either way), then name; `oos` always shown.
    let mut errors: BTreeMap<&str, usize> = BTreeMap::new();
    for ((gold, predicted), count) in counts {
        errors.entry(gold).or_default();
        errors.entry(predicted).or_default();
        if gold != predicted {
            *errors.entry(gold).or_default() += count;
            *errors.entry(predicted).or_default() += count;
        }
    }
    let mut labels: Vec<&str> = errors.keys().copied().collect();
    labels.sort_by_key(|l| (std::cmp::Reverse(errors[l]), *l));
    labels.truncate(MAX_MATRIX_LABELS);
    if !labels.contains(&OUT_OF_SCOPE_LABEL) && errors.contains_key(OUT_OF_SCOPE_LABEL) {
        labels.pop();
        labels.push(OUT_OF_SCOPE_LABEL);
    }
    labels.sort_unstable();
    let n = labels.len().max(1);
    let index = |label: &str| labels.iter().position(|l| *l == label);
    let mut row_total = vec![0usize; n];
    for ((gold, _), count) in counts {
        if let Some(row) = index(gold) {
            row_total[row] += count;
        }
    }

    let cell = 22u32;
    let margin_left = 230u32;
    let margin_top = 60u32;
    let margin_bottom = 220u32;
    let side = cell * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(
            &mut svg,
            (margin_left + side + 30, margin_top + side + margin_bottom),
        )
        .into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let title = format!(
            "Confusion (rows: gold, columns: predicted) — accuracy {:.1}%",
            metrics.accuracy * 100.0
        );
        root.draw(&Text::new(title, (10, 20), ("sans-serif", 16)))
            .map_err(drawing)?;
        for ((gold, predicted), count) in counts {
            let (Some(row), Some(column)) = (index(gold), index(predicted)) else {
                continue;
            };
            let share = *count as f64 / row_total[row].max(1) as f64;
            let color = if row == column {
                RGBColor(30, 120, 60).mix(0.15 + 0.85 * share)
            } else {
                RGBColor(200, 40, 40).mix(0.15 + 0.85 * share)
            };
            let x = (margin_left + column as u32 * cell) as i32;
            let y = (margin_top + row as u32 * cell) as i32;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell as i32 - 1, y + cell as i32 - 1)],
                color.filled(),
            ))
            .map_err(drawing)?;
            root.draw(&Text::new(
                count.to_string(),
                (x + 3, y + 5),
                ("sans-serif", 10),
            ))
            .map_err(drawing)?;
        }
        for (i, label) in labels.iter().enumerate() {
            let at = (margin_top + i as u32 * cell + 6) as i32;
            root.draw(&Text::new(label.to_string(), (8, at), ("sans-serif", 11)))
                .map_err(drawing)?;
            let x = (margin_left + i as u32 * cell + 6) as i32;
            let style =
                TextStyle::from(("sans-serif", 11).into_font()).transform(FontTransform::Rotate90);
            root.draw(&Text::new(
                label.to_string(),
                (x, (margin_top + side + 6) as i32),
                style,
            ))
            .map_err(drawing)?;
        }
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

fn confidence_svg(predictions: &[Prediction], settings: &MatchSettings) -> anyhow::Result<String> {
    const BIN: f64 = 0.05;
    let top = |p: &Prediction| p.scores.top.as_ref().map_or(0.0, |(_, s)| f64::from(*s));
    let highest = predictions.iter().map(top).fold(1.0f64, f64::max).min(3.0);
    let bins = (highest / BIN).ceil() as usize + 1;
    let (mut right, mut wrong) = (vec![0u32; bins], vec![0u32; bins]);
    for p in predictions {
        let bin = ((top(p).max(0.0) / BIN) as usize).min(bins - 1);
        if p.gold == p.predicted {
            right[bin] += 1;
        } else {
            wrong[bin] += 1;
        }
    }
    let tallest = right
        .iter()
        .zip(&wrong)
        .map(|(a, b)| a + b)
        .max()
        .unwrap_or(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Top score of each message: right (green) and wrong (red)",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..(bins as f64 * BIN), 0u32..(tallest + tallest / 10 + 1))
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("top score")
            .y_desc("messages")
            .draw()
            .map_err(drawing)?;
        let bars = |counts: Vec<u32>, base: Vec<u32>, color: RGBColor| {
            counts
                .into_iter()
                .zip(base)
                .enumerate()
                .filter(|(_, (count, _))| *count > 0)
                .map(move |(i, (count, base))| {
                    let x = i as f64 * BIN;
                    Rectangle::new([(x, base), (x + BIN * 0.9, base + count)], color.filled())
                })
        };
        chart
            .draw_series(bars(right.clone(), vec![0; bins], RGBColor(30, 120, 60)))
            .map_err(drawing)?;
        chart
            .draw_series(bars(wrong, right, RGBColor(200, 40, 40)))
            .map_err(drawing)?;
        let line = f64::from(settings.min_score);
        chart
            .draw_series(LineSeries::new(
                [(line, 0), (line, tallest + tallest / 10)],
                BLACK.stroke_width(2),
            ))
            .map_err(drawing)?
            .label(format!("min_score {line:.2}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

/// Accuracy, in-scope accuracy and out-of-scope recall under `settings`.
pub fn replay(predictions: &[Prediction], settings: &MatchSettings) -> (f64, f64, f64) {
    let (mut right, mut in_scope, mut in_right, mut oos, mut oos_right) = (0, 0, 0, 0, 0);
    for p in predictions {
        let ok = p.scores.decide(settings) == p.gold;
        right += usize::from(ok);
        if p.gold == OUT_OF_SCOPE_LABEL {
            oos += 1;
            oos_right += usize::from(ok);
        } else {
            in_scope += 1;
            in_right += usize::from(ok);
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    (
        ratio(right, predictions.len()),
        ratio(in_right, in_scope),
        ratio(oos_right, oos),
    )
}

fn thresholds_csv(predictions: &[Prediction], settings: &MatchSettings) -> String {
    let mut out = String::from(
        "min_score,out_of_scope_margin,accuracy,in_scope_accuracy,out_of_scope_recall,current\n",
    );
    let mut row = |s: MatchSettings| {
        let (accuracy, in_scope, oos) = replay(predictions, &s);
        let current = (s.min_score - settings.min_score).abs() < 1e-6
            && (s.out_of_scope_margin - settings.out_of_scope_margin).abs() < 1e-6;
        let _ = writeln!(
            out,
            "{:.2},{:.2},{accuracy:.4},{in_scope:.4},{oos:.4},{}",
            s.min_score,
            s.out_of_scope_margin,
            if current { "yes" } else { "" }
        );
    };
    for step in 0..=20 {
        row(MatchSettings {
            min_score: step as f32 * 0.05,
            ..*settings
        });
    }
    for step in 0..=10 {
        row(MatchSettings {
            out_of_scope_margin: step as f32 * 0.05,
            ..*settings
        });
    }
    out
}
