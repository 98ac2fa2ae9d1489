//! Pack sources → [`IntentSet`], collecting every diagnostic.

use std::collections::{HashMap, HashSet};

use toml::Spanned;

use super::lexicon::{LexiconBuilder, PhraseTarget};
use super::linear::{LinearModel, Sample, TrainSettings, Vectorizer};
use super::matcher::features;
use super::model::{IntentFile, Keyword, LangSection, OutOfScopeFile, SynonymsFile};
use super::{Example, Intent, IntentSet, IntentText, MatchSettings};
use crate::diag::{has_errors, Diagnostic, SourceFile};
use crate::lang::Lang;
use crate::text::normalize;

/// The files of a pack, read by the caller.
#[derive(Clone, Debug, Default)]
pub struct PackSources {
    /// `intents/<id>.toml`, one intent each.
    pub intents: Vec<SourceFile>,
    /// `intents/_synonyms.toml`.
    pub synonyms: Option<SourceFile>,
    /// `intents/_out_of_scope.toml`.
    pub out_of_scope: Option<SourceFile>,
}

/// How to compile.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// Dialog ids that exist; `None` skips the check of `dialog = "…"`.
    pub dialogs: Option<HashSet<String>>,
    pub settings: MatchSettings,
    pub train: TrainSettings,
}

/// A compiled pack and the warnings found on the way.
#[derive(Debug)]
pub struct Compiled {
    pub set: IntentSet,
    pub warnings: Vec<Diagnostic>,
}

/// Keyword weights outside this range are almost certainly mistakes.
const KEYWORD_WEIGHT_RANGE: std::ops::RangeInclusive<f32> = 0.1..=5.0;

fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Compiles a pack. Either every file is valid and the whole pack is
/// returned, or nothing is: the errors (and warnings) come back instead, so a
/// pack is never half-loaded.
pub fn compile(
    sources: &PackSources,
    options: &CompileOptions,
) -> Result<Compiled, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut builder = LexiconBuilder::default();
    let mut concepts: Vec<String> = Vec::new();
    // Where each concept is defined (for the "does nothing" warning).
    let mut concept_places: Vec<usize> = Vec::new();

    // Synonyms first: their concepts are shared by all intents.
    if let Some(file) = &sources.synonyms {
        match file.parse_toml::<SynonymsFile>() {
            Ok(parsed) => {
                let mut word_owner: HashMap<String, String> = HashMap::new();
                let mut concept_seen: HashSet<String> = HashSet::new();
                for group in &parsed.group {
                    let concept = group.concept.get_ref().trim().to_string();
                    if concept.is_empty() {
                        diagnostics
                            .push(file.error(group.concept.span().start, "empty concept name"));
                        continue;
                    }
                    if !concept_seen.insert(concept.clone()) {
                        diagnostics.push(file.error(
                            group.concept.span().start,
                            format!("concept `{concept}` is defined twice"),
                        ));
                        continue;
                    }
                    concepts.push(concept.clone());
                    concept_places.push(group.concept.span().start);
                    let concept_id = (concepts.len() - 1) as u32;
                    if group.words.is_empty() {
                        diagnostics.push(file.warning(
                            group.concept.span().start,
                            format!("concept `{concept}` has no words"),
                        ));
                    }
                    for word in &group.words {
                        let normalized = normalize(word.get_ref());
                        if normalized.is_empty() {
                            diagnostics.push(
                                file.error(
                                    word.span().start,
                                    "synonym is empty after normalisation",
                                ),
                            );
                            continue;
                        }
                        if let Some(owner) = word_owner.get(&normalized) {
                            // The same word twice in one group is harmless
                            // (often two spellings that normalise alike); in
                            // two groups it is a contradiction.
                            diagnostics.push(if *owner == concept {
                                file.warning(
                                    word.span().start,
                                    format!("synonym `{normalized}` is listed twice in `{concept}` (after normalisation)"),
                                )
                            } else {
                                file.error(
                                    word.span().start,
                                    format!("synonym conflict: `{normalized}` is in both `{owner}` and `{concept}`"),
                                )
                            });
                            continue;
                        }
                        word_owner.insert(normalized, concept.clone());
                        builder.add_phrase(word.get_ref(), PhraseTarget::Concept(concept_id));
                    }
                }
            }
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }

    // Intents.
    let mut intents: Vec<Intent> = Vec::new();
    let mut training: Vec<(String, u32, f32)> = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    let mut pattern_intents: Vec<u32> = Vec::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut example_owner: HashMap<String, String> = HashMap::new();
    let mut files: Vec<&SourceFile> = sources.intents.iter().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for file in files {
        let parsed = match file.parse_toml::<IntentFile>() {
            Ok(parsed) => parsed,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        let id = parsed.id.get_ref().clone();
        let id_at = parsed.id.span().start;
        if !is_valid_id(&id) {
            diagnostics.push(file.error(
                id_at,
                format!("invalid id `{id}`: use lower-case letters, digits and `_`, starting with a letter"),
            ));
        } else if id != file.stem() {
            diagnostics.push(file.error(
                id_at,
                format!("id `{id}` must match the file name `{}.toml`", file.stem()),
            ));
        }
        if let Some(first) = ids.get(&id) {
            diagnostics.push(file.error(
                id_at,
                format!("duplicate intent id `{id}` (also in {first})"),
            ));
            continue;
        }
        ids.insert(id.clone(), file.path.clone());
        let index = intents.len() as u32;

        if let (Some(dialog), Some(known)) = (&parsed.dialog, &options.dialogs) {
            if !known.contains(dialog.get_ref()) {
                diagnostics.push(file.error(
                    dialog.span().start,
                    format!(
                        "dialog `{}` does not exist in the dialogs directory",
                        dialog.get_ref()
                    ),
                ));
            }
        }

        let mut intent = Intent {
            id: id.clone(),
            dialog: parsed.dialog.as_ref().map(|d| d.get_ref().clone()),
            urgent: parsed.urgent,
            zh: IntentText::default(),
            en: IntentText::default(),
            examples: Vec::new(),
            keywords: Vec::new(),
            patterns: Vec::new(),
        };
        for (lang, section) in [(Lang::Zh, &parsed.zh), (Lang::En, &parsed.en)] {
            let Some(section) = section else {
                diagnostics.push(file.error(
                    id_at,
                    format!("intent `{id}` has no [{lang}] section: every intent needs zh and en"),
                ));
                continue;
            };
            let at = section.span().start;
            let section: &LangSection = section.get_ref();
            let text = match lang {
                Lang::Zh => &mut intent.zh,
                Lang::En => &mut intent.en,
            };
            text.title = section
                .title
                .as_ref()
                .map(|t| t.get_ref().trim().to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| id.replace('_', " "));
            text.answer = section
                .answer
                .as_ref()
                .map(|a| a.get_ref().trim().to_string())
                .filter(|a| !a.is_empty());
            if text.answer.is_none() && intent.dialog.is_none() {
                diagnostics.push(file.error(
                    at,
                    format!("[{lang}] needs an `answer` (or the intent needs a `dialog`)"),
                ));
            }
            for example in &section.examples {
                let example_text = example.get_ref();
                let normalized = normalize(example_text);
                if normalized.is_empty() {
                    diagnostics.push(
                        file.error(example.span().start, "example is empty after normalisation"),
                    );
                    continue;
                }
                match example_owner.get(&normalized) {
                    Some(owner) if *owner != id => diagnostics.push(file.warning(
                        example.span().start,
                        format!("the same example is also in intent `{owner}`"),
                    )),
                    Some(_) => {
                        diagnostics.push(file.warning(example.span().start, "duplicate example"))
                    }
                    None => {
                        example_owner.insert(normalized, id.clone());
                    }
                }
                let (line, column) = file.position(example.span().start);
                intent.examples.push(Example {
                    text: example_text.clone(),
                    lang,
                    file: file.path.clone(),
                    line,
                    column,
                });
                builder.add_text(example_text);
                training.push((example_text.clone(), index, 1.0));
            }
            for keyword in &section.keywords {
                add_keyword(
                    file,
                    keyword,
                    index,
                    &mut builder,
                    &mut intent,
                    &mut training,
                    &mut diagnostics,
                );
            }
            for pattern in &section.patterns {
                match regex::Regex::new(pattern.get_ref()) {
                    Ok(_) => {
                        patterns.push(pattern.get_ref().clone());
                        pattern_intents.push(index);
                        intent.patterns.push(pattern.get_ref().clone());
                    }
                    Err(error) => diagnostics.push(file.error(
                        pattern.span().start,
                        format!("invalid regex: {}", error.to_string().replace('\n', " ")),
                    )),
                }
            }
            for veto in &section.veto {
                if !builder.add_phrase(veto.get_ref(), PhraseTarget::Veto(index)) {
                    diagnostics.push(
                        file.error(veto.span().start, "veto word is empty after normalisation"),
                    );
                }
            }
        }
        if intent.examples.is_empty() && intent.keywords.is_empty() {
            diagnostics.push(file.error(
                id_at,
                format!("intent `{id}` is empty: give examples or keywords"),
            ));
        }
        intents.push(intent);
    }

    // Out-of-scope examples: a class of their own.
    let mut out_of_scope_examples = 0;
    let out_of_scope_class = intents.len() as u32;
    if let Some(file) = &sources.out_of_scope {
        match file.parse_toml::<OutOfScopeFile>() {
            Ok(parsed) => {
                for section in [&parsed.zh, &parsed.en].into_iter().flatten() {
                    for example in &section.examples {
                        if normalize(example.get_ref()).is_empty() {
                            diagnostics.push(file.error(
                                example.span().start,
                                "example is empty after normalisation",
                            ));
                            continue;
                        }
                        if let Some(owner) = example_owner.get(&normalize(example.get_ref())) {
                            diagnostics.push(file.warning(
                                example.span().start,
                                format!(
                                    "out-of-scope example is also an example of intent `{owner}`"
                                ),
                            ));
                        }
                        builder.add_text(example.get_ref());
                        training.push((example.get_ref().clone(), out_of_scope_class, 1.0));
                        out_of_scope_examples += 1;
                    }
                }
            }
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }

    if intents.is_empty() && !has_errors(&diagnostics) {
        diagnostics.push(Diagnostic {
            file: "intents".into(),
            line: 1,
            column: 1,
            severity: crate::diag::Severity::Error,
            message: "the pack has no intents".into(),
        });
    }
    if has_errors(&diagnostics) {
        diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(diagnostics);
    }

    let lexicon = builder.build();
    let documents: Vec<Vec<(u64, u8)>> = training
        .iter()
        .map(|(text, _, _)| {
            let analysis = lexicon.analyze(text, false);
            features(&analysis, &lexicon, &concepts)
                .into_iter()
                .map(|(key, origin)| (key, origin.group()))
                .collect()
        })
        .collect();
    // A concept none of whose words occurs in any example, keyword or
    // out-of-scope example gets no weight: the model cannot learn what it
    // means, so finding it in a message changes nothing.
    if let Some(file) = &sources.synonyms {
        let used: HashSet<u64> = documents.iter().flatten().map(|(key, _)| *key).collect();
        for (concept, &at) in concepts.iter().zip(&concept_places) {
            if !used.contains(&super::matcher::concept_key(concept)) {
                diagnostics.push(file.warning(
                    at,
                    format!("concept `{concept}` occurs in no example, keyword or out-of-scope example: it does nothing"),
                ));
            }
        }
    }
    let mut vectorizer = Vectorizer::fit(documents.iter().map(Vec::as_slice));
    forget_widespread_features(&mut vectorizer, &documents, &training);
    let samples: Vec<Sample> = documents
        .iter()
        .zip(&training)
        .map(|(keys, (_, class, weight))| Sample {
            vector: vectorizer.vectorize(keys.iter().copied()),
            class: *class,
            weight: *weight,
        })
        .collect();
    let has_out_of_scope = out_of_scope_examples > 0;
    let classes = intents.len() + usize::from(has_out_of_scope);
    let model = LinearModel::train(&samples, classes, vectorizer.len(), options.train);
    let score_scale = score_scale(&model, &samples, intents.len());
    let patterns = match super::patterns::Patterns::new(&patterns) {
        Ok(patterns) => patterns,
        Err(error) => {
            return Err(vec![Diagnostic {
                file: "intents".into(),
                line: 1,
                column: 1,
                severity: crate::diag::Severity::Error,
                message: format!("a pattern failed to compile: {error}"),
            }])
        }
    };
    diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    Ok(Compiled {
        set: IntentSet {
            intents,
            concepts,
            lexicon,
            vectorizer,
            model,
            score_scale,
            out_of_scope_class: has_out_of_scope.then_some(out_of_scope_class),
            out_of_scope_examples,
            patterns,
            pattern_intents,
            settings: options.settings,
        },
        warnings: diagnostics,
    })
}

/// In packs with more intents than this, a feature found in the examples of
/// more than `MAX_INTENTS_PER_FEATURE` intents is ignored (see
/// `forget_widespread_features`).
const LARGE_PACK: usize = 1000;
const MAX_INTENTS_PER_FEATURE: usize = 64;

/// Ignores features shared by the examples of very many intents ("my", "the"
/// and common letter groups in a pack of thousands): they cannot tell intents
/// apart, and training and matching cost grows with the number of intents
/// each feature touches — quadratically in the pack's size if nothing bounds
/// it. Packs of up to `LARGE_PACK` intents lose nothing.
fn forget_widespread_features(
    vectorizer: &mut Vectorizer,
    documents: &[Vec<(u64, u8)>],
    training: &[(String, u32, f32)],
) {
    let intents = training
        .iter()
        .map(|(_, class, _)| *class as usize + 1)
        .max()
        .unwrap_or(0);
    if intents <= LARGE_PACK {
        return;
    }
    let mut last_class: Vec<u32> = vec![u32::MAX; vectorizer.len()];
    let mut spread: Vec<u32> = vec![0; vectorizer.len()];
    let mut order: Vec<usize> = (0..documents.len()).collect();
    order.sort_by_key(|&i| training[i].1);
    for index in order {
        let class = training[index].1;
        for (key, _) in &documents[index] {
            if let Some(id) = vectorizer.id(*key) {
                let id = id as usize;
                if last_class[id] != class {
                    last_class[id] = class;
                    spread[id] += 1;
                }
            }
        }
    }
    let forget: Vec<bool> = spread
        .iter()
        .map(|&n| n as usize > MAX_INTENTS_PER_FEATURE)
        .collect();
    vectorizer.forget(&forget);
}

/// 1 / the median own-intent score of the training examples (see
/// `IntentSet::score_scale`), bounded so a degenerate pack cannot blow
/// scores up.
fn score_scale(model: &LinearModel, samples: &[Sample], intents: usize) -> f32 {
    let mut scores = vec![0.0f32; model.classes()];
    let mut own: Vec<f32> = Vec::with_capacity(samples.len());
    for sample in samples.iter().filter(|s| (s.class as usize) < intents) {
        scores.iter_mut().for_each(|s| *s = 0.0);
        model.score_into(&sample.vector, &mut scores);
        own.push(scores[sample.class as usize]);
    }
    if own.is_empty() {
        return 1.0;
    }
    let middle = own.len() / 2;
    let median = *own.select_nth_unstable_by(middle, f32::total_cmp).1;
    1.0 / median.max(0.05)
}

fn add_keyword(
    file: &SourceFile,
    keyword: &Spanned<Keyword>,
    index: u32,
    builder: &mut LexiconBuilder,
    intent: &mut Intent,
    training: &mut Vec<(String, u32, f32)>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let at = keyword.span().start;
    let text = keyword.get_ref().text();
    let weight = keyword.get_ref().weight();
    if !KEYWORD_WEIGHT_RANGE.contains(&weight) {
        diagnostics.push(file.error(
            at,
            format!(
                "keyword weight {weight} is outside {}..={}",
                KEYWORD_WEIGHT_RANGE.start(),
                KEYWORD_WEIGHT_RANGE.end()
            ),
        ));
        return;
    }
    if !builder.add_phrase(
        text,
        PhraseTarget::Keyword {
            intent: index,
            weight,
        },
    ) {
        diagnostics.push(file.error(at, "keyword is empty after normalisation"));
        return;
    }
    intent.keywords.push((text.to_string(), weight));
    // A keyword is also a (short) training example that counts by its weight:
    // the model learns how decisive it is next to the other intents' words.
    training.push((text.to_string(), index, weight));
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn intent_file(id: &str, zh: &[&str], en: &[&str]) -> SourceFile {
        let list = |xs: &[&str]| {
            xs.iter()
                .map(|x| format!("{x:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        SourceFile::new(
            format!("intents/{id}.toml"),
            format!(
                "id = \"{id}\"\n[zh]\nanswer = \"答{id}\"\nexamples = [{}]\n[en]\nanswer = \"answer {id}\"\nexamples = [{}]\n",
                list(zh),
                list(en)
            ),
        )
    }

    #[test]
    fn reports_all_problems_with_places() {
        let sources = PackSources {
            intents: vec![
                SourceFile::new("intents/a.toml", "id = \"a\"\n[zh]\nanswer = \"x\"\nexamples = [\"提币\"]\n[en]\nanswer = \"y\"\nexamples = [\"w\"]\npatterns = [\"(unclosed\"]\n"),
                SourceFile::new("intents/b.toml", "id = \"b\"\nexmaples = []\n"),
                SourceFile::new("intents/c.toml", "id = \"wrong\"\n[zh]\nanswer = \"x\"\nkeywords = [{ text = \"k\", weight = 99.0 }]\n[en]\nanswer = \"y\"\nexamples = [\"z\"]\n"),
                SourceFile::new("intents/d.toml", "id = \"d\"\n[en]\nanswer = \"y\"\nexamples = [\"z\"]\n"),
                SourceFile::new("intents/e.toml", "id = \"e\"\n[zh\n"),
            ],
            synonyms: Some(SourceFile::new(
                "intents/_synonyms.toml",
                "[[group]]\nconcept = \"w\"\nwords = [\"提币\", \"提现\"]\n[[group]]\nconcept = \"x\"\nwords = [\"提现\"]\n",
            )),
            out_of_scope: None,
        };
        let errors = compile(&sources, &CompileOptions::default()).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let expect = [
            "intents/_synonyms.toml:6:10: error: synonym conflict: `提现` is in both `w` and `x`",
            "intents/a.toml:8:13: error: invalid regex",
            "intents/b.toml:2:1: error: unknown field `exmaples`",
            "intents/c.toml:1:6: error: id `wrong` must match the file name `c.toml`",
            "intents/c.toml:4:13: error: keyword weight 99 is outside",
            "intents/d.toml:1:6: error: intent `d` has no [zh] section",
            "intents/e.toml:2:",
        ];
        for expected in expect {
            assert!(
                text.iter().any(|t| t.starts_with(expected)),
                "missing {expected:?} in {text:#?}"
            );
        }
    }

    #[test]
    fn unknown_dialogs_are_errors() {
        let mut file = intent_file("a", &["提币"], &["withdraw"]);
        file.text = format!("dialog = \"nope\"\n{}", file.text);
        let options = CompileOptions {
            dialogs: Some(HashSet::new()),
            ..CompileOptions::default()
        };
        let errors = compile(
            &PackSources {
                intents: vec![file],
                ..Default::default()
            },
            &options,
        )
        .unwrap_err();
        assert!(
            errors[0]
                .to_string()
                .contains("dialog `nope` does not exist"),
            "{errors:?}"
        );
    }

    #[test]
    fn concepts_without_examples_warn() {
        let sources = PackSources {
            intents: vec![
                intent_file("a", &["提币没到"], &["withdrawal"]),
                intent_file("b", &["充值"], &["top up"]),
            ],
            synonyms: Some(SourceFile::new(
                "intents/_synonyms.toml",
                "[[group]]\nconcept = \"withdraw\"\nwords = [\"提币\", \"withdrawal\"]\n[[group]]\nconcept = \"coupon\"\nwords = [\"红包\", \"voucher\"]\n",
            )),
            out_of_scope: None,
        };
        let compiled = compile(&sources, &CompileOptions::default()).unwrap();
        let text: Vec<String> = compiled.warnings.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|t| t.starts_with(
                "intents/_synonyms.toml:5:11: warning: concept `coupon` occurs in no example"
            )),
            "{text:#?}"
        );
        assert!(!text.iter().any(|t| t.contains("`withdraw`")), "{text:#?}");
    }

    #[test]
    fn duplicate_examples_warn() {
        let sources = PackSources {
            intents: vec![
                intent_file("a", &["提币"], &["same"]),
                intent_file("b", &["充币"], &["same"]),
            ],
            ..Default::default()
        };
        let compiled = compile(&sources, &CompileOptions::default()).unwrap();
        assert!(compiled
            .warnings
            .iter()
            .any(|w| w.message.contains("also in intent `a`")));
    }
}
