//! Reading a pack from disk: the only place intent files are read. Everything
//! after reading is the pure [`crate::intent::compile`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Severity, SourceFile};
use crate::intent::{compile, CompileOptions, Compiled, PackSources};

/// The synonyms file inside an intents directory.
pub const SYNONYMS_FILE: &str = "_synonyms.toml";
/// The out-of-scope examples file inside an intents directory.
pub const OUT_OF_SCOPE_FILE: &str = "_out_of_scope.toml";

/// Why a pack could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A directory or file could not be read.
    #[error("{path}: {source}")]
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
