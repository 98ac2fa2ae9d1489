//! Diagnostics: problems found in operator-edited files, each with a place.
//!
//! The core never stops at the first problem: it collects every diagnostic so
//! an operator fixes a whole pack in one pass.

use std::fmt;

/// How bad a problem is. Errors keep a pack from loading; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem at `file:line:column` (1-based; the column counts characters).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, severity, self.message
        )
    }
}

/// A file's text with its name, so byte offsets can become `line:column`.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the operator should see it (relative when possible).
    pub path: String,
    pub text: String,
    /// Byte offsets where each line starts, built on the first lookup (so
    /// `text` must not change after a position was asked for): a
    /// pack file of 80,000 examples asks for a position per example, and
    /// counting lines from the start each time made `check` quadratic.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// The file name without directory and `.toml`.
    pub fn stem(&self) -> &str {
        let name = self.path.rsplit(['/', '\\']).next().unwrap_or(&self.path);
        name.strip_suffix(".toml").unwrap_or(name)
    }

    /// 1-based line and character column of a byte offset (clamped).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let starts = self.line_starts();
        // The last line start at or before the offset.
        let line = starts.partition_point(|&start| start <= offset);
        let line_start = starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }

    pub fn diagnostic(
        &self,
        offset: usize,
        severity: Severity,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, column) = self.position(offset);
        Diagnostic {
            file: self.path.clone(),
            line,
            column,
            severity,
            message: message.into(),
        }
    }

    pub fn error(&self, offset: usize, message: impl Into<String>) -> Diagnostic {
        self.diagnostic(offset, Severity::Error, message)
    }

    pub fn warning(&self, offset: usize, message: impl Into<String>) -> Diagnostic {
        self.diagnostic(offset, Severity::Warning, message)
    }

    /// Parses TOML into `T`, turning a syntax or schema error into a
    /// diagnostic at the place the `toml` crate points to.
    pub fn parse_toml<T: serde::de::DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        toml::from_str(&self.text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            let message = error.message().trim().replace('\n', " ");
            self.error(offset, message)
        })
    }
}

/// The candidate closest to a misspelt name, if one is close enough to be
/// worth suggesting ("did you mean `ask_coin`?").
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(distance, c)| *distance <= (c.chars().count() / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// True if any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let file = SourceFile::new("a.toml", "id = \"x\"\nzh = \"提币\" bad");
        assert_eq!(file.position(0), (1, 1));
        let bad = file.text.find("bad").unwrap();
        assert_eq!(file.position(bad), (2, 11));
        assert_eq!(file.stem(), "a");
        // The newline itself ends its line; past the end clamps.
        let newline = file.text.find('\n').unwrap();
        assert_eq!(file.position(newline), (1, 9));
        assert_eq!(file.position(newline + 1), (2, 1));
        assert_eq!(file.position(usize::MAX), (2, 14));
        // Every offset agrees with counting from the start.
        let text = "a\n\nbc\n提币\r\nx\n";
        let file = SourceFile::new("b.toml", text);
        for (offset, _) in text.char_indices() {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[start..].chars().count() + 1;
            assert_eq!(file.position(offset), (line, column), "offset {offset}");
        }
    }

    #[test]
    fn toml_errors_have_places() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Tiny {
            id: String,
        }
        let file = SourceFile::new("dir/t.toml", "id = \"x\"\ncolour = 1\n");
        let diagnostic = file.parse_toml::<Tiny>().unwrap_err();
        assert_eq!((diagnostic.line, diagnostic.column), (2, 1));
        assert!(
            diagnostic.message.contains("colour"),
            "{}",
            diagnostic.message
        );
        assert!(diagnostic.to_string().starts_with("dir/t.toml:2:1: error:"));
    }
}
