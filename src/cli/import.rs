//! `kefu import`: labelled messages → an intent pack.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use anyhow::{bail, Context};

use crate::diag::SourceFile;
use crate::intent::PackSources;
use crate::lang::Lang;
use crate::pack::OUT_OF_SCOPE_FILE;

/// The label meaning "out of scope".
pub const OUT_OF_SCOPE_LABEL: &str = "oos";

/// One labelled message.
#[derive(Clone, Debug)]
pub struct LabelledRow {
    pub text: String,
    pub label: String,
}

/// What an import produced.
#[derive(Clone, Debug, Default)]
pub struct ImportSummary {
    pub intents: usize,
    pub examples: usize,
    pub out_of_scope: usize,
    /// Labels whose id had to differ: (label, id).
    pub renamed: Vec<(String, String)>,
    /// Intent id → original label.
    pub labels: HashMap<String, String>,
}

/// Reads a CSV with a header naming a `text` column and an `intent` (or
/// `category`, or `label`) column.
pub fn read_labelled(path: &Path) -> anyhow::Result<Vec<LabelledRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header", path.display()))?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.trim().to_lowercase().as_str()))
    };
    let Some(text_column) = find(&["text", "message", "utterance"]) else {
        bail!("{}: the header has no `text` column", path.display());
    };
    let Some(label_column) = find(&["intent", "category", "label"]) else {
        bail!(
            "{}: the header has no `intent` (or `category`) column",
            path.display()
        );
    };
    let mut rows = Vec::new();
    for (index, record) in reader.byte_records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), index + 2))?;
        let field = |column: usize| {
            String::from_utf8_lossy(record.get(column).unwrap_or_default())
                .trim()
                .to_string()
        };
        let (text, label) = (field(text_column), field(label_column));
        if text.is_empty() || label.is_empty() {
            continue;
        }
        rows.push(LabelledRow { text, label });
    }
    if rows.is_empty() {
        bail!("{}: no labelled rows", path.display());
    }
    Ok(rows)
}

/// A file-safe intent id for a label: lower-case ASCII letters, digits and
/// `_`, starting with a letter.
fn id_for(label: &str) -> String {
    let mut id = String::new();
    for ch in label.trim().chars() {
        if ch.is_ascii_alphanumeric() {
            id.push(ch.to_ascii_lowercase());
        } else if !id.ends_with('_') {
            id.push('_');
        }
    }
    let id = id.trim_matches('_').to_string();
    if id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id
    } else {
        format!("intent_{id}").trim_end_matches('_').to_string()
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn toml_list(items: &[&str]) -> String {
    if items.is_empty() {
        return "[]".to_string();
    }
    let mut out = String::from("[\n");
    for item in items {
        out.push_str("  ");
        out.push_str(&toml_string(item));
        out.push_str(",\n");
    }
    out.push(']');
    out
}

/// The intent id `import` gives each label: [`id_for`], with `_2`, `_3`…
/// where two labels come out the same, in label order. `eval` uses it too,
/// so a pack imported from one file is measured on another with the same
/// names.
pub fn label_ids<'a>(labels: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, String> {
    let labels: std::collections::BTreeSet<&str> = labels.into_iter().collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut ids = BTreeMap::new();
    for label in labels {
        let base = id_for(label);
        let mut id = base.clone();
        let mut counter = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}_{counter}");
            counter += 1;
        }
        ids.insert(label, id);
    }
    ids
}

/// Builds a pack from labelled rows, in memory. Files are named as if in
/// `dir`. Rows labelled `oos` become out-of-scope examples; every other label
/// an intent whose examples are split by detected language.
pub fn import_pack(rows: &[LabelledRow], dir: &str) -> (PackSources, ImportSummary) {
    let mut by_label: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut out_of_scope: Vec<&str> = Vec::new();
    for row in rows {
        if row.label.eq_ignore_ascii_case(OUT_OF_SCOPE_LABEL) {
            out_of_scope.push(&row.text);
        } else {
            by_label.entry(&row.label).or_default().push(&row.text);
        }
    }
    let mut summary = ImportSummary::default();
    let mut sources = PackSources::default();
    let ids = label_ids(by_label.keys().copied());
    for (label, texts) in &by_label {
        let id = ids[label].clone();
        if id != *label {
            summary.renamed.push((label.to_string(), id.clone()));
        }
        summary.labels.insert(id.clone(), label.to_string());
        let mut seen = HashSet::new();
        let (mut zh, mut en) = (Vec::new(), Vec::new());
        for text in texts {
            if !seen.insert(*text) {
                continue;
            }
            match Lang::detect(text) {
                Some(Lang::Zh) => zh.push(*text),
                _ => en.push(*text),
            }
        }
        summary.examples += zh.len() + en.len();
        let file = format!(
            "# Imported by `kefu import` from label {label}: write the answers before going live.\nid = \"{id}\"\n\n[zh]\nanswer = {}\nexamples = {}\n\n[en]\nanswer = {}\nexamples = {}\n",
            toml_string(&format!("（尚未编写答复：{label}）")),
            toml_list(&zh),
            toml_string(&format!("(No answer written yet for: {label})")),
            toml_list(&en),
        );
        sources
            .intents
            .push(SourceFile::new(format!("{dir}/{id}.toml"), file));
    }
    summary.intents = sources.intents.len();
    if !out_of_scope.is_empty() {
        let mut seen = HashSet::new();
        out_of_scope.retain(|text| seen.insert(*text));
        let (zh, en): (Vec<&str>, Vec<&str>) = out_of_scope
            .iter()
            .partition(|text| Lang::detect(text) == Some(Lang::Zh));
        summary.out_of_scope = zh.len() + en.len();
        let file = format!(
            "# Out-of-scope messages imported by `kefu import`: the bot learns not to answer these.\n[zh]\nexamples = {}\n\n[en]\nexamples = {}\n",
            toml_list(&zh),
            toml_list(&en)
        );
        sources.out_of_scope = Some(SourceFile::new(format!("{dir}/{OUT_OF_SCOPE_FILE}"), file));
    }
    (sources, summary)
}

pub fn run(file: &Path, out: &Path) -> anyhow::Result<u8> {
    let rows = read_labelled(file)?;
    if out.exists() {
        let occupied = std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .filter_map(Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "toml"));
        if occupied {
            bail!(
                "{} already holds .toml files; import into a new directory",
                out.display()
            );
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let (sources, summary) = import_pack(&rows, &out.display().to_string());
    for source in sources.intents.iter().chain(&sources.out_of_scope) {
        std::fs::write(&source.path, &source.text)
            .with_context(|| format!("cannot write {}", source.path))?;
    }
    println!(
        "imported {} rows: {} intents, {} examples, {} out-of-scope examples into {}",
        rows.len(),
        summary.intents,
        summary.examples,
        summary.out_of_scope,
        out.display()
    );
    for (label, id) in summary.renamed.iter().take(20) {
        println!("  label {label:?} → id {id}");
    }
    if summary.renamed.len() > 20 {
        println!("  … and {} more renamed labels", summary.renamed.len() - 20);
    }
    println!(
        "next: write the answers, then `kefu check --intents {}`",
        out.display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_file_safe() {
        assert_eq!(id_for("card_arrival"), "card_arrival");
        assert_eq!(id_for("Card Arrival!"), "card_arrival");
        assert_eq!(id_for("2fa-reset"), "intent_2fa_reset");
        assert_eq!(id_for("提币"), "intent");
        assert_eq!(id_for("../../etc/passwd"), "etc_passwd");
    }

    #[test]
    fn splits_languages_and_out_of_scope() {
        let rows = [
            ("我的提币没到", "withdraw"),
            ("withdrawal pending", "withdraw"),
            ("tell me a joke", "oos"),
            ("提现", "提现"),
            ("提现 2", "提币"),
        ]
        .map(|(text, label)| LabelledRow {
            text: text.into(),
            label: label.into(),
        });
        let (sources, summary) = import_pack(&rows, "out");
        assert_eq!(summary.intents, 3);
        assert_eq!(summary.out_of_scope, 1);
        let ids: Vec<&str> = sources.intents.iter().map(|s| s.stem()).collect();
        assert_eq!(ids, ["withdraw", "intent", "intent_2"]);
        let parsed: toml::Value = toml::from_str(&sources.intents[0].text).unwrap();
        assert_eq!(parsed["zh"]["examples"][0].as_str(), Some("我的提币没到"));
        assert_eq!(
            parsed["en"]["examples"][0].as_str(),
            Some("withdrawal pending")
        );
    }
}
