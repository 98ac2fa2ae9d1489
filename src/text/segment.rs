//! Segmentation: normalised text → words, with character positions.

use jieba_rs::Jieba;

use super::is_han;

/// What a token is made of; features and typo correction treat them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A Chinese word found by jieba (one or more Han characters).
    Han,
    /// A run of letters, possibly with digits (`usdt`, `trc20`, `2fa`).
    Word,
    /// Digits only (`123456`).
    Number,
}

/// One word of a normalised message. `start..end` is a *character* range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// Splits normalised text into words: jieba for Han runs, letter/digit runs
/// for everything else. Mixed messages ("我的usdt没到账") come out as one
/// token stream.
#[derive(Clone)]
pub struct Segmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Segmenter")
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new(std::iter::empty::<&str>())
    }
}

impl Segmenter {
    /// Builds a segmenter whose dictionary also knows `words` (synonyms and
    /// intent keywords), so "谷歌验证器" or "提币" stay whole instead of being
    /// split by jieba's general-purpose dictionary. Words without Han
    /// characters are ignored: they never reach jieba.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        // Not jieba's general dictionary: loading its 350,000 words took
        // about 150 ms and 30 MB, most of the bot's start-up and memory,
        // and bought no accuracy. With only the pack's words, unknown Han
        // text falls to single characters, whose pairs are features anyway.
        // Measured on tests/data/default_pack_eval.csv: accuracy 96.6%
        // either way; out-of-scope recall 97.8% → 98.9%. (Adding ~50
        // everyday words such as 怎么办 for readability cost 0.5 points.)
        let mut jieba = Jieba::empty();
        for word in words {
            if !word.is_empty() && word.chars().all(is_han) {
                // A high frequency makes jieba prefer the whole word over any
                // split of it; the figure is what jieba's own docs use for
                // "must keep".
                jieba.add_word(word, Some(100_000), None);
            }
        }
        Segmenter { jieba }
    }

    /// True if jieba's dictionary holds `word`.
    pub fn knows(&self, word: &str) -> bool {
        self.jieba.has_word(word)
    }

    /// Segments normalised text (see [`super::normalize`]).
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut run_start_byte = 0;
        let mut run_start_char = 0;
        let mut run: Option<RunKind> = None;
        for (char_index, (byte_index, ch)) in text.char_indices().enumerate() {
            let kind = run_kind(ch);
            if kind != run {
                if let Some(previous) = run {
                    self.push_run(
                        &mut tokens,
                        previous,
                        &text[run_start_byte..byte_index],
                        run_start_char,
                    );
                }
                run = kind;
                run_start_byte = byte_index;
                run_start_char = char_index;
            }
        }
        if let Some(previous) = run {
            self.push_run(
                &mut tokens,
                previous,
                &text[run_start_byte..],
                run_start_char,
            );
        }
        tokens
    }

    fn push_run(&self, tokens: &mut Vec<Token>, kind: RunKind, run: &str, start: usize) {
        match kind {
            RunKind::Han => {
                // Without HMM: unknown words fall apart into single characters,
                // which the matcher's character bigrams cover; with HMM,
                // segmentation costs about three times as much.
                for word in self.jieba.cut(run, false) {
                    tokens.push(Token {
                        text: word.word.to_string(),
                        kind: TokenKind::Han,
                        start: start + word.start,
                        end: start + word.end,
                    });
                }
            }
            RunKind::Alnum => {
                let kind = if run.chars().all(|c| c.is_ascii_digit()) {
                    TokenKind::Number
                } else {
                    TokenKind::Word
                };
                tokens.push(Token {
                    text: run.to_string(),
                    kind,
                    start,
                    end: start + run.chars().count(),
                });
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunKind {
    Han,
    Alnum,
}

fn run_kind(ch: char) -> Option<RunKind> {
    if is_han(ch) {
        Some(RunKind::Han)
    } else if ch.is_alphanumeric() {
        Some(RunKind::Alnum)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn words(segmenter: &Segmenter, text: &str) -> Vec<String> {
        segmenter
            .tokens(&normalize(text))
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn splits_mixed_scripts_with_char_positions() {
        let segmenter = Segmenter::new(["提币"]);
        let tokens = segmenter.tokens(&normalize("我的USDT提币没到"));
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["我", "的", "usdt", "提币", "没", "到"]);
        let usdt = &tokens[2];
        assert_eq!((usdt.start, usdt.end, usdt.kind), (2, 6, TokenKind::Word));
        let withdraw = &tokens[3];
        assert_eq!(
            (withdraw.start, withdraw.end, withdraw.kind),
            (6, 8, TokenKind::Han)
        );
    }

    #[test]
    fn custom_words_stay_whole() {
        let plain = Segmenter::default();
        let custom = Segmenter::new(["谷歌验证器"]);
        assert!(
            words(&plain, "我的谷歌验证器丢了").len() > words(&custom, "我的谷歌验证器丢了").len()
        );
        assert!(words(&custom, "我的谷歌验证器丢了").contains(&"谷歌验证器".to_string()));
    }

    #[test]
    fn numbers_and_words() {
        let segmenter = Segmenter::default();
        let tokens = segmenter.tokens(&normalize("order 123456 on trc20, 2fa lost"));
        let kinds: Vec<TokenKind> = tokens.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                TokenKind::Word,
                TokenKind::Number,
                TokenKind::Word,
                TokenKind::Word,
                TokenKind::Word,
                TokenKind::Word
            ]
        );
    }

    #[test]
    fn empty_and_symbol_only_input() {
        let segmenter = Segmenter::default();
        assert!(segmenter.tokens("").is_empty());
        assert!(segmenter.tokens(&normalize("🙂🙂 ??? ...")).is_empty());
    }
}
