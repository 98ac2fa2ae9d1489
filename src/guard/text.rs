//! Text plumbing shared by the guard detectors.
//!
//! Detectors run on a *folded* copy of the input in which every original
//! character is replaced by exactly one character. Keeping the mapping 1:1
//! means a character index found in the folded copy is also the character
//! index in the original text, so findings can be reported (and redacted)
//! against the original without any offset translation tables.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use bip39::Language;
use regex::Regex;

/// Traditional BIP-39 list character → the Simplified list's character at
/// the same index (773 of the 2048 differ; none of those is itself in the
/// Simplified list).
static TRAD_SEED: LazyLock<HashMap<char, char>> = LazyLock::new(|| {
    let trad = Language::TraditionalChinese.word_list();
    let simp = Language::SimplifiedChinese.word_list();
    trad.iter()
        .zip(simp.iter())
        .filter_map(|(t, s)| Some((t.chars().next()?, s.chars().next()?)))
        .filter(|(t, s)| t != s)
        .collect()
});

static SIMP_SEED: LazyLock<HashSet<char>> = LazyLock::new(|| {
    Language::SimplifiedChinese
        .word_list()
        .iter()
        .filter_map(|w| w.chars().next())
        .collect()
});

fn trad_seed_char(c: char) -> Option<char> {
    if c.len_utf8() != 3 {
        return None;
    }
    TRAD_SEED.get(&c).copied()
}

fn is_simplified_seed_char(c: char) -> bool {
    c.len_utf8() == 3 && SIMP_SEED.contains(&c)
}

/// Folds one character so detectors see what the user meant.
///
/// Chinese IMEs often produce full-width digits, letters and punctuation
/// (`１２３４５６`, `：`), and some clients insert odd spaces. Those are folded to
/// their ASCII twins. Zero-width characters become a plain space: we cannot
/// drop them (that would break the 1:1 mapping), and a space is the safest
/// stand-in for "separates two tokens".
pub(crate) fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' | '\u{2000}'..='\u{200D}' | '\u{202F}' | '\u{205F}' => ' ',
        '\u{2060}' | '\u{FEFF}' => ' ',
        _ => c,
    }
}

/// The folded text plus a char-index ↔ byte-offset map.
pub(crate) struct Prepared {
    /// One folded char per original char.
    pub folded: String,
    /// Byte offset in `folded` of each char, plus `folded.len()` at the end.
    starts: Vec<usize>,
}

impl Prepared {
    pub fn new(text: &str) -> Self {
        let mut starts = Vec::with_capacity(text.len() + 1);
        // Han text is folded Traditional → Simplified (one char for one:
        // `fast2s` maps characters, never phrases), so `密碼`, `驗證碼`,
        // `私鑰`, `助記詞` meet the same labels as their Simplified forms,
        // and a seed in the Traditional BIP-39 list becomes the same seed
        // in the Simplified list (the two lists share their indexes).
        if text.chars().any(|c| c.len_utf8() == 3) {
            let mut folded = String::with_capacity(text.len());
            for c in text.chars() {
                folded.push(trad_seed_char(c).unwrap_or_else(|| fold_char(c)));
            }
            let converted = fast2s::convert(&folded);
            // Keep the list's own mapping where fast2s would pick another
            // Simplified form (and never let it touch a Simplified list
            // character).
            let mut out = String::with_capacity(converted.len());
            for (c, (f, o)) in converted.chars().zip(folded.chars().zip(text.chars())) {
                starts.push(out.len());
                out.push(
                    if trad_seed_char(o).is_some() || is_simplified_seed_char(f) {
                        f
                    } else {
                        c
                    },
                );
            }
            starts.push(out.len());
            debug_assert_eq!(starts.len(), text.chars().count() + 1);
            return Prepared {
                folded: out,
                starts,
            };
        }
        // Most messages need no folding: copy them as they are.
        if text.chars().all(|c| fold_char(c) == c) {
            starts.extend(text.char_indices().map(|(b, _)| b));
            starts.push(text.len());
            return Prepared {
                folded: text.to_string(),
                starts,
            };
        }
        let mut folded = String::with_capacity(text.len());
        for c in text.chars() {
            starts.push(folded.len());
            folded.push(fold_char(c));
        }
        starts.push(folded.len());
        Prepared { folded, starts }
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Char index of a byte offset (which must be a char boundary of `folded`).
    pub fn to_char(&self, byte: usize) -> usize {
        self.starts.partition_point(|&s| s < byte)
    }

    /// Byte offset in `folded` of a char index (clamped to the end).
    pub fn byte(&self, ch: usize) -> usize {
        self.starts[ch.min(self.len())]
    }

    /// The folded text between two char indices.
    pub fn slice(&self, s: usize, e: usize) -> &str {
        &self.folded[self.byte(s)..self.byte(e.max(s))]
    }

    /// Char at a char index, if any.
    pub fn char_at(&self, i: usize) -> Option<char> {
        if i >= self.len() {
            return None;
        }
        self.folded[self.byte(i)..].chars().next()
    }

    /// Char spans (start, end) of all matches of `re`.
    pub fn spans(&self, re: &Regex) -> Vec<(usize, usize)> {
        re.find_iter(&self.folded)
            .map(|m| (self.to_char(m.start()), self.to_char(m.end())))
            .collect()
    }

    /// The folded text that follows char `e`, at most `max_chars` long.
    pub fn after(&self, e: usize, max_chars: usize) -> &str {
        self.slice(e, (e + max_chars).min(self.len()))
    }

    /// The folded text that precedes char `s`, at most `max_chars` long.
    pub fn before(&self, s: usize, max_chars: usize) -> &str {
        self.slice(s.saturating_sub(max_chars), s)
    }
}

/// Label hits of one category, sorted by position (regex matches never overlap
/// within one category, so ends are sorted too).
pub(crate) struct Hits<L: Copy> {
    pub label: L,
    pub spans: Vec<(usize, usize)>,
    /// Tighter "before" window for weak labels (a bare `key` only counts
    /// right in front of the token).
    pub max_before: Option<usize>,
}

impl<L: Copy> Hits<L> {
    /// Distance from the nearest hit that ends at or before `pos`. A hit that
    /// overlaps `pos` counts as distance 0 (e.g. `api-key-XXXX` tokens).
    fn dist_before(&self, pos: usize) -> Option<usize> {
        let i = self.spans.partition_point(|&(s, _)| s < pos);
        if i == 0 {
            return None;
        }
        let (_, e) = self.spans[i - 1];
        Some(pos.saturating_sub(e))
    }

    /// Distance to the nearest hit that starts at or after `pos`.
    fn dist_after(&self, pos: usize) -> Option<usize> {
        let i = self.spans.partition_point(|&(s, _)| s < pos);
        self.spans.get(i).map(|&(s, _)| s - pos)
    }

    /// Does a hit end exactly at `pos`?
    pub fn ends_at(&self, pos: usize) -> bool {
        let i = self.spans.partition_point(|&(_, e)| e < pos);
        self.spans.get(i).is_some_and(|&(_, e)| e == pos)
    }

    /// Is there a hit anywhere in `[from, to)` (by overlap)?
    pub fn any_in(&self, from: usize, to: usize) -> bool {
        let i = self.spans.partition_point(|&(_, e)| e <= from);
        self.spans.get(i).is_some_and(|&(s, _)| s < to)
    }
}

/// Which label governs the token at `[s, e)`?
///
/// Why "nearest label wins": in a message like `UID 12345678 谷歌验证码 482913`
/// both numbers are near an OTP word, but each is *labelled* by the word right
/// before it. So the closest label before the token decides; only if there is
/// none within `before` chars do we look for a label after it (`482913 is my
/// 2fa code`). On a distance tie the category listed first wins, which lets
/// `error code` (negative) beat `code` (OTP) that ends at the same place.
pub(crate) fn nearest_label<L: Copy>(
    cats: &[&Hits<L>],
    s: usize,
    e: usize,
    before: usize,
    after: usize,
) -> Option<L> {
    let mut best: Option<(usize, L)> = None;
    for h in cats {
        if let Some(d) = h.dist_before(s) {
            if d <= h.max_before.unwrap_or(before).min(before) && best.is_none_or(|(bd, _)| d < bd)
            {
                best = Some((d, h.label));
            }
        }
    }
    if let Some((_, l)) = best {
        return Some(l);
    }
    for h in cats {
        if let Some(d) = h.dist_after(e) {
            if d <= after && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, h.label));
            }
        }
    }
    best.map(|(_, l)| l)
}

/// Is `c` a CJK ideograph (the script of the Chinese BIP-39 list)?
pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Chinese/Japanese punctuation block and general punctuation.
pub(crate) fn is_wide_punct(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{2010}'..='\u{205E}' | '\u{FF00}'..='\u{FF65}' | '·')
}
