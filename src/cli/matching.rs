//! `kefu match`: one message, its verdict and the evidence behind it.

use serde_json::json;

use crate::intent::{Explanation, IntentSet, Verdict};
use crate::text::TokenKind;

/// The verdict as JSON: `{"kind": "matched", "intents": ["id"]}`.
pub fn verdict_json(set: &IntentSet, verdict: &Verdict) -> serde_json::Value {
    let ids = |intents: &[usize]| {
        intents
            .iter()
            .map(|&i| set.intent(i).id.clone())
            .collect::<Vec<_>>()
    };
    match verdict {
        Verdict::Matched(intent) => json!({"kind": "matched", "intents": ids(&[*intent])}),
        Verdict::Ambiguous(intents) => json!({"kind": "ambiguous", "intents": ids(intents)}),
        Verdict::NoMatch => json!({"kind": "no_match", "intents": []}),
    }
}

fn explanation_json(set: &IntentSet, message: &str, e: &Explanation) -> serde_json::Value {
    let analysis = &e.analysis;
    json!({
        "message": message,
        "normalized": analysis.normalized,
        "tokens": analysis.tokens.iter().zip(&analysis.terms).map(|(t, term)| json!({
            "text": t.text,
            "kind": match t.kind { TokenKind::Han => "han", TokenKind::Word => "word", TokenKind::Number => "number" },
            "start": t.start,
            "end": t.end,
            "term": term,
        })).collect::<Vec<_>>(),
        "corrections": analysis.corrections.iter().flatten().collect::<Vec<_>>(),
        "synonyms": e.synonyms.iter().map(|(concept, found)| json!({"concept": concept, "text": found})).collect::<Vec<_>>(),
        "keywords": e.keywords.iter().map(|(intent, keyword, weight)| json!({"intent": set.intent(*intent).id, "keyword": keyword, "weight": weight})).collect::<Vec<_>>(),
        "patterns": e.patterns.iter().map(|(intent, pattern)| json!({"intent": set.intent(*intent).id, "pattern": pattern})).collect::<Vec<_>>(),
        "vetoes": e.vetoes.iter().map(|(intent, word)| json!({"intent": set.intent(*intent).id, "word": word})).collect::<Vec<_>>(),
        "verdict": verdict_json(set, &e.classification.verdict),
        "candidates": e.classification.candidates.iter().zip(&e.contributions).map(|(c, parts)| json!({
            "intent": set.intent(c.intent).id,
            "score": c.score,
            "contributions": parts,
        })).collect::<Vec<_>>(),
        "out_of_scope_score": e.classification.out_of_scope,
        "thresholds": {"min_score": set.settings().min_score, "min_margin": set.settings().min_margin, "out_of_scope_margin": set.settings().out_of_scope_margin},
        "nearest_example": e.nearest_example.as_ref().map(|(text, similarity)| json!({"text": text, "similarity": similarity})),
    })
}

pub fn run(set: &IntentSet, message: &str, as_json: bool) -> anyhow::Result<u8> {
    let e = set.explain(message);
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&explanation_json(set, message, &e))?
        );
        return Ok(0);
    }
    let analysis = &e.analysis;
    println!("normalised:  {}", analysis.normalized);
    let tokens: Vec<&str> = analysis.tokens.iter().map(|t| t.text.as_str()).collect();
    println!("tokens:      {}", tokens.join(" | "));
    for correction in analysis.corrections.iter().flatten() {
        println!(
            "corrected:   {} → {} (distance {})",
            correction.from, correction.to, correction.distance
        );
    }
    for (concept, found) in &e.synonyms {
        println!("synonym:     {found} → ~{concept}");
    }
    for (intent, keyword, weight) in &e.keywords {
        println!(
            "keyword:     {keyword} (weight {weight}) of {}",
            set.intent(*intent).id
        );
    }
    for (intent, pattern) in &e.patterns {
        println!("pattern:     /{pattern}/ of {}", set.intent(*intent).id);
    }
    for (intent, word) in &e.vetoes {
        println!("veto:        {word} rules out {}", set.intent(*intent).id);
    }
    let settings = set.settings();
    let verdict = match &e.classification.verdict {
        Verdict::Matched(intent) => format!("MATCHED {}", set.intent(*intent).id),
        Verdict::Ambiguous(intents) => format!(
            "AMBIGUOUS between {} (scores closer than {})",
            intents
                .iter()
                .map(|&i| set.intent(i).id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            settings.min_margin
        ),
        Verdict::NoMatch => {
            let why = if e.classification.no_evidence {
                "nothing in the message is known to the pack".to_string()
            } else if e
                .classification
                .out_of_scope
                .zip(e.classification.candidates.first())
                .is_some_and(|(oos, best)| oos + settings.out_of_scope_margin > best.score)
            {
                format!(
                    "the out-of-scope examples score within {} of the best intent",
                    settings.out_of_scope_margin
                )
            } else {
                format!("best score below {}", settings.min_score)
            };
            format!("NO MATCH ({why})")
        }
    };
    println!("verdict:     {verdict}");
    if let Some(oos) = e.classification.out_of_scope {
        println!("out-of-scope score: {oos:.3}");
    }
    println!("candidates:");
    for (rank, (candidate, parts)) in e
        .classification
        .candidates
        .iter()
        .zip(&e.contributions)
        .enumerate()
        .take(3)
    {
        println!(
            "  {}. {:<24} {:>7.3}",
            rank + 1,
            set.intent(candidate.intent).id,
            candidate.score
        );
        for part in parts.iter().take(8) {
            println!("       {:+.3}  {:<7} {}", part.score, part.kind, part.text);
        }
    }
    if let Some((text, similarity)) = &e.nearest_example {
        println!("nearest example: {text:?} (similarity {similarity:.2})");
    }
    Ok(0)
}
