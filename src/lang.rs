//! Reply language.
use serde::{Deserialize, Serialize};

/// The two languages kefu answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    #[default]
    En,
}

impl Lang {
    /// Parses `zh`, `en` and common spellings (`中文`, `english`, `cn`).
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_lowercase().as_str() {
            "zh" | "cn" | "zh-cn" | "zh-hans" | "zh-tw" | "zh-hant" | "chinese" | "中文"
            | "汉语" | "简体" | "繁体" => Some(Lang::Zh),
            "en" | "english" | "英文" | "英语" => Some(Lang::En),
            _ => None,
        }
    }

    /// Guesses the language a user wrote in; `None` when the text has no letters
    /// of either script (digits, emoji, punctuation), so the caller keeps the
    /// language it had.
    ///
    /// Any two Han characters make a message Chinese: users who mix scripts
    /// ("我的usdt withdrawal还没到") write in Chinese with English terms, not the
    /// other way round.
    pub fn detect(text: &str) -> Option<Lang> {
        let mut han = 0usize;
        let mut latin = 0usize;
        for ch in text.chars() {
            if crate::text::is_han(ch) {
                han += 1;
            } else if ch.is_ascii_alphabetic() {
                latin += 1;
            }
        }
        if han >= 2 || (han == 1 && latin < 4) {
            Some(Lang::Zh)
        } else if latin > 0 {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The other language.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// Picks the text for this language out of a pair.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_script() {
        assert_eq!(Lang::detect("我的提币还没到"), Some(Lang::Zh));
        assert_eq!(Lang::detect("my withdrawal is stuck"), Some(Lang::En));
        assert_eq!(Lang::detect("我的usdt withdrawal还没到"), Some(Lang::Zh));
        assert_eq!(Lang::detect("12345 !!!"), None);
        assert_eq!(Lang::detect("🙂🙂"), None);
        assert_eq!(Lang::detect("帳號被凍結"), Some(Lang::Zh));
    }

    #[test]
    fn parses_codes() {
        assert_eq!(Lang::parse(" ZH "), Some(Lang::Zh));
        assert_eq!(Lang::parse("english"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
