//! Normalisation: one canonical spelling for everything users type.

use std::borrow::Cow;

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Matching cost must stay bounded for any input: a message is cut to this many
/// characters before anything else happens. Real support questions are far
/// shorter; a 1 MB paste is almost certainly a log or an accident, and its
/// first thousand characters say what it is about.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// True for CJK unified ideographs (including extensions and compatibility
/// ideographs): the characters jieba segments.
pub fn is_han(ch: char) -> bool {
    matches!(ch as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2EBEF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

/// Characters that carry no meaning and must vanish without leaving a gap:
/// zero-width spaces and joiners, bidi marks (right-to-left text), variation
/// selectors (emoji presentation), the BOM and soft hyphens. Removing rather
/// than replacing them keeps "with\u{200b}draw" one word.
fn is_invisible(ch: char) -> bool {
    matches!(ch as u32,
        0x00AD
        | 0x034F
        | 0x061C
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x206F
        | 0xFE00..=0xFE0F
        | 0xFEFF
        | 0xE0000..=0xE007F)
}

/// Punctuation that separates words but is worth keeping once, because
/// operators' regex patterns may use it (`?`, `:`) and it marks sentence ends.
fn is_punctuation(ch: char) -> bool {
    ch.is_ascii_punctuation()
        || matches!(ch as u32,
            0x2010..=0x2027   // dashes, quotes, ellipsis
            | 0x2030..=0x205E // per mille, primes, misc punctuation
            | 0x3001..=0x3003 // 、。〃
            | 0x3008..=0x3011 // 《》「」【】
            | 0x3014..=0x301F
            | 0x00A1 | 0x00BF | 0x00B7)
}

/// Returns the canonical form of a message:
///
/// - cut to [`MAX_MESSAGE_CHARS`];
/// - Unicode NFKC, which folds full-width forms to half-width (`ＵＳＤＴ` →
///   `usdt`, `１２３` → `123`) and compatibility characters to plain ones;
/// - lower case;
/// - Traditional → Simplified Chinese (`帳號凍結` → `账号冻结`);
/// - zero-width, bidi and other invisible characters removed;
/// - control characters, line breaks and tabs become one space;
/// - emoji and other symbols become a space;
/// - runs of the same punctuation mark collapse to one (`???` → `?`);
/// - runs of spaces collapse to one, and the ends are trimmed.
///
/// The result is what intent patterns are matched against.
pub fn normalize(input: &str) -> String {
    // Cut first, by characters, so a huge input costs nothing more.
    let cut_end = input
        .char_indices()
        .nth(MAX_MESSAGE_CHARS)
        .map_or(input.len(), |(index, _)| index);
    let simplified = fold(&input[..cut_end]);
    let mut out = String::with_capacity(simplified.len());
    let mut previous: Option<char> = None;
    for ch in simplified.chars() {
        if is_invisible(ch) {
            continue;
        }
        // Cheap tests first: is_han is a range check, is_alphanumeric a
        // table search for anything beyond ASCII.
        let mapped = if is_han(ch) || ch.is_alphanumeric() {
            ch
        } else if ch == '\'' || ch == '\u{2019}' {
            // "don't" and "don’t" → "dont": an apostrophe never splits a word.
            continue;
        } else if is_punctuation(ch) {
            ch
        } else {
            // whitespace, control characters, emoji and other symbols
            ' '
        };
        if mapped == ' ' && (previous.is_none() || previous == Some(' ')) {
            continue;
        }
        if previous == Some(mapped) && !mapped.is_alphanumeric() {
            continue;
        }
        out.push(mapped);
        previous = Some(mapped);
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// NFKC, lower case, Traditional → Simplified: the same as
/// `fast2s::convert(&text.nfkc().collect::<String>().to_lowercase())`, but
/// each step borrows when it would change nothing. Most messages are plain
/// ASCII, or Chinese that is NFKC already but for full-width punctuation.
/// Unlike [`normalize`] it keeps the whole text and its spacing (the guard
/// reads agents' replies through it).
pub fn fold(text: &str) -> Cow<'_, str> {
    let folded = lowercase(nfkc(text));
    // fast2s only ever rewrites three-byte characters.
    if folded.chars().any(|c| c.len_utf8() == 3) {
        Cow::Owned(fast2s::convert(&folded))
    } else {
        folded
    }
}

/// Unicode NFKC. Full-width ASCII forms (U+FF01–FF5E: `，？！：`) and the
/// ideographic space, common in Chinese messages, decompose to one ASCII
/// character each; replacing them first changes nothing in the result (NFKC
/// starts by decomposing them anyway), and what is left usually passes the
/// quick check, which skips the full normalisation.
fn nfkc(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let width_folded: Cow<str> = if text.chars().any(is_full_width) {
        Cow::Owned(text.chars().map(fold_full_width).collect())
    } else {
        Cow::Borrowed(text)
    };
    // ASCII and the common CJK ideographs and marks are NFKC whatever
    // surrounds them (starters with no decomposition that never compose),
    // and the library's quick check is a table search per character.
    let plainly_normal = |ch: char| {
        ch.is_ascii()
            || matches!(ch, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{3001}' | '\u{3002}')
    };
    if width_folded.chars().all(plainly_normal)
        || is_nfkc_quick(width_folded.chars()) == IsNormalized::Yes
    {
        width_folded
    } else {
        Cow::Owned(width_folded.nfkc().collect())
    }
}

fn is_full_width(ch: char) -> bool {
    matches!(ch, '\u{FF01}'..='\u{FF5E}' | '\u{3000}')
}

/// The NFKC decomposition of a full-width form or the ideographic space.
fn fold_full_width(ch: char) -> char {
    match ch {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFF01 + 0x21).unwrap_or(ch),
        '\u{3000}' => ' ',
        _ => ch,
    }
}

/// Lower case, as `str::to_lowercase`, borrowing when no character changes.
fn lowercase(text: Cow<'_, str>) -> Cow<'_, str> {
    let unchanged = |ch: char| {
        if ch.is_ascii() {
            !ch.is_ascii_uppercase()
        } else if is_han(ch) {
            true
        } else {
            let mut lower = ch.to_lowercase();
            lower.next() == Some(ch) && lower.next().is_none()
        }
    };
    if text.chars().all(unchanged) {
        return text;
    }
    if text.is_ascii() {
        let mut owned = text.into_owned();
        owned.make_ascii_lowercase();
        return Cow::Owned(owned);
    }
    Cow::Owned(text.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_and_case() {
        assert_eq!(normalize("ＵＳＤＴ ＴＲＣ２０"), "usdt trc20");
        assert_eq!(normalize("Withdrawal PENDING"), "withdrawal pending");
    }

    #[test]
    fn converts_traditional_to_simplified() {
        // 帳號 becomes 帐号, itself a valid simplified spelling (the synonyms file
        // maps it to 账号).
        assert_eq!(normalize("帳號被凍結了"), "帐号被冻结了");
        assert_eq!(normalize("提幣還沒到賬"), "提币还没到账");
    }

    #[test]
    fn removes_invisible_and_control_characters() {
        assert_eq!(normalize("with\u{200b}draw\u{feff}al"), "withdrawal");
        assert_eq!(normalize("line1\nline2\t\u{7}end"), "line1 line2 end");
        assert_eq!(normalize("\u{202e}abc\u{202c}"), "abc");
    }

    #[test]
    fn drops_emoji_and_repeated_punctuation() {
        assert_eq!(
            normalize("help!!!😭😭 where is my money???"),
            "help! where is my money?"
        );
        assert_eq!(normalize("急！！！"), "急!");
        assert_eq!(normalize("👍🏻❤️"), "");
        assert_eq!(normalize("don't"), "dont");
    }

    #[test]
    fn trims_and_collapses_spaces() {
        assert_eq!(normalize("   a    b   "), "a b");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" \t\r\n "), "");
    }

    #[test]
    fn cuts_huge_input() {
        let huge = "提币".repeat(500_000);
        let normalized = normalize(&huge);
        assert_eq!(normalized.chars().count(), MAX_MESSAGE_CHARS);
        let huge_latin = "a".repeat(2_000_000);
        assert_eq!(normalize(&huge_latin).len(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn keeps_right_to_left_letters() {
        assert_eq!(normalize("مرحبا"), "مرحبا");
    }

    #[test]
    fn detects_han() {
        assert!(is_han('提'));
        assert!(!is_han('a'));
        assert!(!is_han('。'));
    }

    fn reference_fold(text: &str) -> String {
        fast2s::convert(&text.nfkc().collect::<String>().to_lowercase())
    }

    #[test]
    fn fold_borrows_yet_equals_nfkc_lowercase_simplified() {
        let texts = [
            "",
            "plain ascii",
            "MiXeD Case 123",
            "我的ＵＳＤＴ提幣，還沒到賬？！",
            "帳號被凍結了　怎麼辦",
            "Ａ\u{301} e\u{301} ﬁ ① ㎏ ＡＢＣ",
            "ΣΑΣ ΟΔΟΣ",
            "İstanbul ǅ",
            "\u{F900}\u{2F800} 兀",
            "カタカナ ｶﾀｶﾅ",
            "😀 ❤️ 👍🏻",
            "مرحبا",
            "\u{301}leading mark",
        ];
        for text in texts {
            assert_eq!(fold(text), reference_fold(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fold_matches_reference(text in "[a-zA-Z0-9 ,.!?，？！：（）、。　ＡＺａｚ０９提幣帳號還没到账冻結ΣσςİǅﬁÅ\u{301}\u{308}\u{3099}ｶﾞ①㎏\u{F900}😀]{0,24}") {
            proptest::prop_assert_eq!(fold(&text).into_owned(), reference_fold(&text));
        }
    }
}
