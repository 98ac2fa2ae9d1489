//! Reading a pack from disk: the only place intent files are read. Everything
//! after reading is the pure [`crate::intent::compile`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::brain::{Bot, Settings};
use crate::diag::{Diagnostic, Severity, SourceFile};
use crate::dialog::DialogSources;
use crate::intent::{compile, CompileOptions, Compiled, PackSources};

/// The synonyms file inside an intents directory.
pub const SYNONYMS_FILE: &str = "_synonyms.toml";
/// The out-of-scope examples file inside an intents directory.
pub const OUT_OF_SCOPE_FILE: &str = "_out_of_scope.toml";

/// Why a pack could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A directory or file could not be read. The IO error is the source,
    /// not part of this message: `{:#}` prints the chain, and a message
    /// that repeated it printed it twice.
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The files were read but have problems.
    #[error("{} problem(s) in the pack", .0.len())]
    Invalid(Vec<Diagnostic>),
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a file as UTF-8 text; invalid UTF-8 is a diagnostic, not a crash.
fn read_source(
    path: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Option<SourceFile>, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let display = path.display().to_string();
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(SourceFile::new(display, text))),
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let file = SourceFile::new(
                display,
                String::from_utf8_lossy(error.as_bytes()).into_owned(),
            );
            diagnostics.push(file.error(valid, "the file is not valid UTF-8"));
            Ok(None)
        }
    }
}

/// Reads every `*.toml` file of an intents directory.
pub fn read_intents(dir: &Path) -> Result<(PackSources, Vec<Diagnostic>), LoadError> {
    let mut sources = PackSources::default();
    let mut diagnostics = Vec::new();
    for path in toml_files(dir)? {
        let Some(file) = read_source(&path, &mut diagnostics)? else {
            continue;
        };
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        match name {
            SYNONYMS_FILE => sources.synonyms = Some(file),
            OUT_OF_SCOPE_FILE => sources.out_of_scope = Some(file),
            _ if name.starts_with('_') => diagnostics.push(file.error(
                0,
                format!("unknown special file `{name}` (only {SYNONYMS_FILE} and {OUT_OF_SCOPE_FILE} start with `_`)"),
            )),
            _ => sources.intents.push(file),
        }
    }
    Ok((sources, diagnostics))
}

/// Reads every `*.toml` file of a dialogs directory. A missing directory
/// has no dialogs.
pub fn read_dialogs(dir: &Path) -> Result<(DialogSources, Vec<Diagnostic>), LoadError> {
    let mut sources = DialogSources::default();
    let mut diagnostics = Vec::new();
    if !dir.exists() {
        return Ok((sources, diagnostics));
    }
    for path in toml_files(dir)? {
        if let Some(file) = read_source(&path, &mut diagnostics)? {
            sources.files.push(file);
        }
    }
    Ok((sources, diagnostics))
}

/// A loaded pack and the warnings about it.
#[derive(Debug)]
pub struct Loaded {
    pub bot: Bot,
    pub warnings: Vec<Diagnostic>,
}

/// Reads and compiles intents and dialogs together: all or nothing. Every
/// problem in either is reported, even when the other has problems too.
pub fn load_bot(
    intents: &Path,
    dialogs: &Path,
    options: CompileOptions,
    settings: Settings,
) -> Result<Loaded, LoadError> {
    let (dialog_sources, mut problems) = read_dialogs(dialogs)?;
    let compiled = load(intents, dialogs, options);
    // Dialog options may lead to intents: check them against the intents
    // that compiled, or the intent files present if the pack did not.
    let intent_ids: HashSet<String> = match &compiled {
        Ok(c) => c.set.intents().iter().map(|i| i.id.clone()).collect(),
        Err(_) => toml_files(intents)?
            .iter()
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()))
            .filter(|s| !s.starts_with('_'))
            .map(str::to_string)
            .collect(),
    };
    let dialogs = crate::dialog::compile(&dialog_sources, &intent_ids);
    match (compiled, dialogs) {
        (Ok(compiled), Ok((dialogs, mut warnings))) if !crate::diag::has_errors(&problems) => {
            problems.extend(compiled.warnings);
            problems.append(&mut warnings);
            Ok(Loaded {
                bot: Bot {
                    intents: compiled.set,
                    dialogs,
                    settings,
                },
                warnings: problems,
            })
        }
        (compiled, dialogs) => {
            match compiled {
                Ok(c) => problems.extend(c.warnings),
                Err(LoadError::Invalid(mut d)) => problems.append(&mut d),
                Err(io) => return Err(io),
            }
            match dialogs {
                Ok((_, mut warnings)) => problems.append(&mut warnings),
                Err(mut d) => problems.append(&mut d),
            }
            Err(LoadError::Invalid(problems))
        }
    }
}

/// The ids of the dialogs in a dialogs directory (file names without
/// `.toml`). A missing directory has no dialogs.
pub fn dialog_ids(dir: &Path) -> Result<HashSet<String>, LoadError> {
    if !dir.exists() {
        return Ok(HashSet::new());
    }
    Ok(toml_files(dir)?
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect())
}

/// Reads and compiles a pack: all or nothing.
pub fn load(
    intents: &Path,
    dialogs: &Path,
    mut options: CompileOptions,
) -> Result<Compiled, LoadError> {
    let (sources, mut read_problems) = read_intents(intents)?;
    options.dialogs = Some(dialog_ids(dialogs)?);
    match compile(&sources, &options) {
        Ok(mut compiled) => {
            if read_problems.iter().any(|d| d.severity == Severity::Error) {
                read_problems.append(&mut compiled.warnings);
                return Err(LoadError::Invalid(read_problems));
            }
            compiled.warnings.append(&mut read_problems);
            Ok(compiled)
        }
        Err(mut problems) => {
            read_problems.append(&mut problems);
            Err(LoadError::Invalid(read_problems))
        }
    }
}
