//! Reading updates one by one. A `getUpdates` answer is split into the
//! elements of its `result` array by a scan that only follows strings and
//! brackets, and each element is then read as teloxide's [`Update`] on its
//! own. One update that does not read (bad JSON, a lone surrogate, nesting
//! deeper than serde's limit, an id past `u32`) or that panics teloxide's
//! parser (a `message_reaction` without its actor) is logged by id and
//! kind and skipped; the others are handled, and the offset still moves
//! past it, so it cannot stall `getUpdates`. The webhook's posts go
//! through the same [`read`].

use std::ops::Range;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use teloxide::types::Update;

/// The byte ranges of the elements of the top-level `result` array of a
/// Bot API answer; `None` when there is no such array or it never closes
/// (an answer cut short: asked again). Only strings (with their escapes)
/// and bracket depth are followed, so an element that is not valid JSON
/// stays one element and does not spoil the others.
pub(crate) fn result_elements(body: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut string_start = 0;
    // The last string closed at depth 1 (a key, or a value).
    let mut last_string = 0..0;
    // Inside the result array: where the current element started.
    let mut element: Option<usize> = None;
    let mut in_result = false;
    let mut elements = Vec::new();
    let push = |elements: &mut Vec<Range<usize>>, range: Range<usize>| {
        let text = &body[range.clone()];
        let start = text.iter().position(|b| !b.is_ascii_whitespace());
        let end = text.iter().rposition(|b| !b.is_ascii_whitespace());
        if let (Some(start), Some(end)) = (start, end) {
            elements.push(range.start + start..range.start + end + 1);
        }
    };
    for (i, &byte) in body.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
                if depth == 1 {
                    last_string = string_start..i;
                }
            }
            continue;
        }
        match byte {
            b'"' => {
                in_string = true;
                string_start = i + 1;
            }
            b'{' | b'[' => {
                if depth == 1 && byte == b'[' && &body[last_string.clone()] == b"result" {
                    in_result = true;
                    element = Some(i + 1);
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if in_result && depth == 1 {
                    if let Some(start) = element.take() {
                        push(&mut elements, start..i);
                    }
                    return Some(elements);
                }
            }
            b',' if in_result && depth == 2 => {
                if let Some(start) = element.replace(i + 1) {
                    push(&mut elements, start..i);
                }
            }
            _ => {}
        }
    }
    None
}

/// An update that could not be read: what the log may say of it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unreadable {
    /// Its `update_id`, when one could be found.
    pub id: Option<i64>,
    /// The key beside `update_id` (`message`, `message_reaction`, …), or
    /// `unknown`.
    pub kind: String,
    /// Why: a JSON error's kind and place, or a parser panic. Never the
    /// text (serde's messages can quote it).
    pub why: String,
}

/// Reads one update. A panic inside teloxide's parser is caught here,
/// at the seam, and reported like any unreadable update.
pub(crate) fn read(raw: &[u8]) -> Result<Update, Unreadable> {
    let parsed = std::panic::catch_unwind(|| serde_json::from_slice::<Update>(raw));
    let why = match parsed {
        Ok(Ok(update)) => return Ok(update),
        Ok(Err(e)) => super::json_error(&e),
        Err(_) => "the update parser panicked".to_string(),
    };
    let (id, kind) = head(raw);
    Err(Unreadable { id, kind, why })
}

/// An update's id as the batch counts it: from the update when it was
/// read, else from its raw text. Negative ids are none (an offset below
/// zero means something else to `getUpdates`).
pub(crate) fn id_of(read: &Result<Update, Unreadable>) -> Option<i64> {
    match read {
        Ok(update) => Some(i64::from(update.id.0)),
        Err(unreadable) => unreadable.id.filter(|id| *id >= 0),
    }
}

/// The id and kind of an update that did not read: through serde while
/// its syntax holds (values skipped, without depth limit or string
/// checks), otherwise by looking for `"update_id"` in the text.
fn head(raw: &[u8]) -> (Option<i64>, String) {
    if let Ok(head) = serde_json::from_slice::<Head>(raw) {
        let kind = head.kind.filter(|k| {
            !k.is_empty() && k.len() <= 40 && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        });
        return (head.id, kind.unwrap_or_else(|| "unknown".to_string()));
    }
    (scan_id(raw), "unknown".to_string())
}

/// `"update_id"`, optional spaces, `:`, optional spaces, then digits.
fn scan_id(raw: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"update_id\"";
    let at = raw.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = &raw[at..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    let rest = rest.strip_prefix(b":")?;
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// An update's `update_id` and first other key, every value skipped.
struct Head {
    id: Option<i64>,
    kind: Option<String>,
}

impl<'de> Deserialize<'de> for Head {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Head, D::Error> {
        struct HeadVisitor;
        impl<'de> Visitor<'de> for HeadVisitor {
            type Value = Head;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an update object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
                let mut head = Head {
                    id: None,
                    kind: None,
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key == "update_id" {
                        head.id = match map.next_value::<serde_json::Value>() {
                            Ok(value) => value.as_i64(),
                            Err(e) => return Err(e),
                        };
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        if head.kind.is_none() {
                            head.kind = Some(key);
                        }
                    }
                }
                Ok(head)
            }
        }
        deserializer.deserialize_map(HeadVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: i64, text: &str) -> String {
        format!(
            r#"{{"update_id":{id},"message":{{"message_id":1,"date":1700000000,"chat":{{"id":5,"type":"private","first_name":"U"}},"from":{{"id":5,"is_bot":false,"first_name":"U"}},"text":{text}}}}}"#
        )
    }

    fn elements(body: &str) -> Vec<&str> {
        result_elements(body.as_bytes())
            .unwrap()
            .into_iter()
            .map(|r| &body[r])
            .collect()
    }

    #[test]
    fn the_result_array_is_split_into_its_elements() {
        let body = format!(
            r#"{{"ok":true,"result":[ {} , 42,{{"x":"],[\"}}"}}, {{"update_id":3,"message":{{"text": tru}}}} ]}}"#,
            message(1, r#""a, [b]""#)
        );
        let parts = elements(&body);
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert_eq!(parts[0], message(1, r#""a, [b]""#));
        assert_eq!(parts[1], "42");
        assert_eq!(parts[2], r#"{"x":"],[\"}"}"#);
        assert_eq!(parts[3], r#"{"update_id":3,"message":{"text": tru}}"#);
        assert_eq!(elements(r#"{"ok":true,"result":[]}"#), Vec::<&str>::new());
        // `result` as a value, not a key, is not the array.
        assert_eq!(
            elements(r#"{"description":"result","ok":true,"result":[7]}"#),
            vec!["7"]
        );
    }

    #[test]
    fn answers_without_a_whole_result_array_are_none() {
        for body in [
            r#"{"ok":false,"error_code":409,"description":"Conflict"}"#,
            r#"{"ok":true,"result":[1,2"#,
            "<html>502</html>",
            "",
        ] {
            assert_eq!(result_elements(body.as_bytes()), None, "{body}");
        }
    }

    #[test]
    fn good_updates_read_and_bad_ones_say_their_id_and_kind_only() {
        let good = read(message(7, r#""hello""#).as_bytes()).unwrap();
        assert_eq!(good.id.0, 7);

        let surrogate = read(message(8, r#""my password \ud800""#).as_bytes()).unwrap_err();
        assert_eq!(surrogate.id, Some(8));
        assert_eq!(surrogate.kind, "message");
        assert!(!surrogate.why.contains("password"), "{}", surrogate.why);

        let deep = format!(
            r#"{{"update_id":9,"message":{{"text":{}1{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let deep = read(deep.as_bytes()).unwrap_err();
        assert_eq!((deep.id, deep.kind.as_str()), (Some(9), "message"));

        let broken = read(br#"{"update_id" : 10,"message":{"text": tru}}"#).unwrap_err();
        assert_eq!((broken.id, broken.kind.as_str()), (Some(10), "unknown"));

        let huge = read(message(1 << 33, r#""hi""#).as_bytes()).unwrap_err();
        assert_eq!(huge.id, Some(1 << 33));
        assert_eq!(id_of(&Err(huge)), Some(1 << 33));

        let nothing = read(b"42").unwrap_err();
        assert_eq!((nothing.id, nothing.kind.as_str()), (None, "unknown"));

        let negative = read(br#"{"update_id":-4,"poll":{}}"#);
        assert_eq!(id_of(&negative), None);
    }

    #[test]
    fn a_panic_in_the_parser_is_an_unreadable_update() {
        // teloxide unwraps a reaction's actor: neither `user` nor
        // `actor_chat` panics inside its parser.
        let poison = r#"{"update_id":11,"message_reaction":{"chat":{"id":5,"type":"private","first_name":"U"},"message_id":3,"date":1700000000,"old_reaction":[],"new_reaction":[]}}"#;
        let skipped = read(poison.as_bytes()).unwrap_err();
        assert_eq!(skipped.id, Some(11));
        assert_eq!(skipped.kind, "message_reaction");
        assert!(skipped.why.contains("panicked"), "{}", skipped.why);
    }
}
