//! Transcript tests: conversations operators write as plain text, replayed
//! through the app (brain + a throw-away store) by `kefu test` and
//! `cargo test`.
//!
//! ```text
//! === happy path             a new conversation (fresh session)
//! > my withdrawal is late    the user sends a message
//! >> More than 2 hours       the user presses the button with this label
//! < Which coin               a reply of this turn contains this (case-insensitive), in order
//! < /T-\d{6}/                … or matches this regex
//! <! private key             no reply of this turn contains this
//! ? Yes, solved | No         the turn's last choices, exactly, in order (`? -` for none)
//! ! handoff urgent           the turn opened a ticket with this priority (`! handoff` for any)
//! ! no handoff               the turn opened no ticket
//! @ wait 45m                 advance the clock (s, m, h, d)
//! # a comment
//! ```

use std::fmt::Write as _;

use regex::Regex;

use crate::app::App;
use crate::brain::{Choice, Input};
use crate::diag::{Diagnostic, SourceFile};
use crate::store::ChatId;
use crate::ticket::Priority;

/// What a turn's replies must show.
#[derive(Clone, Debug)]
pub enum Expect {
    Contains(String),
    Matches(Regex),
    Absent(String),
    Choices(Vec<String>),
    Handoff(Option<Priority>),
    NoHandoff,
}

/// What the user does.
#[derive(Clone, Debug)]
pub enum Action {
    Say(String),
    Press(String),
}

/// One user action with the expectations that follow it.
#[derive(Clone, Debug)]
pub struct Turn {
    pub line: usize,
    pub action: Action,
    pub expect: Vec<(usize, Expect)>,
    /// Seconds to advance the clock before this turn.
    pub wait: i64,
}

/// A conversation: a fresh session and its turns.
#[derive(Clone, Debug)]
pub struct Conversation {
    pub name: String,
    pub line: usize,
    pub turns: Vec<Turn>,
}

/// A parsed transcript file.
#[derive(Clone, Debug)]
pub struct Transcript {
    pub path: String,
    pub conversations: Vec<Conversation>,
}

fn duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let number: i64 = number.parse().ok()?;
    let unit = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    Some(number * unit)
}

/// Parses a transcript, reporting every malformed line.
pub fn parse(file: &SourceFile) -> Result<Transcript, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut conversations: Vec<Conversation> = Vec::new();
    let mut pending_wait = 0;
    let mut offset = 0;
    for (index, raw) in file.text.split('\n').enumerate() {
        let line_offset = offset;
        offset += raw.len() + 1;
        let number = index + 1;
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let error = |message: String| file.error(line_offset, message);
        if let Some(name) = trimmed.strip_prefix("===") {
            conversations.push(Conversation {
                name: name.trim().to_string(),
                line: number,
                turns: Vec::new(),
            });
            continue;
        }
        if conversations.is_empty() {
            conversations.push(Conversation {
                name: String::new(),
                line: number,
                turns: Vec::new(),
            });
        }
        let conversation = conversations.last_mut().expect("pushed above");
        let rest = |prefix: &str| trimmed[prefix.len()..].trim().to_string();
        if trimmed.starts_with(">>") || trimmed.starts_with('>') {
            let action = if trimmed.starts_with(">>") {
                Action::Press(rest(">>"))
            } else {
                // The user's words are kept as written (leading spaces too).
                Action::Say(line.trim_start()[1..].trim_start().to_string())
            };
            conversation.turns.push(Turn {
                line: number,
                action,
                expect: Vec::new(),
                wait: std::mem::take(&mut pending_wait),
            });
            continue;
        }
        if let Some(wait) = trimmed.strip_prefix('@') {
            match wait.trim().strip_prefix("wait").and_then(duration) {
                Some(seconds) => pending_wait += seconds,
                None => problems.push(error(format!(
                    "`{trimmed}`: expected `@ wait 30m` (units s, m, h, d)"
                ))),
            }
            continue;
        }
        let expect = if trimmed.starts_with("<!") {
            Some(Expect::Absent(rest("<!")))
        } else if trimmed.starts_with('<') {
            let text = rest("<");
            if text.len() >= 2 && text.starts_with('/') && text.ends_with('/') {
                match Regex::new(&text[1..text.len() - 1]) {
                    Ok(regex) => Some(Expect::Matches(regex)),
                    Err(e) => {
                        problems.push(error(format!("invalid regex: {e}")));
                        None
                    }
                }
            } else {
                Some(Expect::Contains(text))
            }
        } else if trimmed.starts_with('?') {
            let text = rest("?");
            Some(Expect::Choices(if text == "-" {
                Vec::new()
            } else {
                text.split('|').map(|c| c.trim().to_string()).collect()
            }))
        } else if trimmed.starts_with('!') {
            let text = rest("!");
            let words: Vec<&str> = text.split_whitespace().collect();
            match words.as_slice() {
                ["no", "handoff"] => Some(Expect::NoHandoff),
                ["handoff"] => Some(Expect::Handoff(None)),
                ["handoff", priority] => match Priority::parse(priority) {
                    Some(p) => Some(Expect::Handoff(Some(p))),
                    None => {
                        problems.push(error(format!(
                            "unknown priority `{priority}` (urgent, high, normal)"
                        )));
                        None
                    }
                },
                _ => {
                    problems.push(error(format!(
                        "`{trimmed}`: expected `! handoff [priority]` or `! no handoff`"
                    )));
                    None
                }
            }
        } else {
            problems.push(error(format!(
                "`{trimmed}`: a line starts with >, >>, <, <!, ?, !, @, === or #"
            )));
            None
        };
        if let Some(expect) = expect {
            match conversation.turns.last_mut() {
                Some(turn) => turn.expect.push((number, expect)),
                None => problems.push(error(
                    "an expectation before the first user line (`> …`)".to_string(),
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(Transcript {
            path: file.path.clone(),
            conversations,
        })
    } else {
        Err(problems)
    }
}

/// A failed expectation, with what the bot really said.
#[derive(Clone, Debug)]
pub struct Failure {
    pub path: String,
    pub line: usize,
    pub conversation: String,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.path, self.line)?;
        if !self.conversation.is_empty() {
            write!(f, "[{}] ", self.conversation)?;
        }
        write!(f, "{}", self.message)
    }
}

/// The time transcripts start at: 2026-01-05 10:00 (UTC+8), a Monday.
pub const START_TIME: i64 = 1_767_578_400;

/// What one turn produced.
struct Seen {
    texts: Vec<String>,
    choices: Vec<Choice>,
    handoffs: Vec<Priority>,
}

impl Seen {
    fn describe(&self) -> String {
        let mut out = String::from("\n    the bot said:");
        if self.texts.is_empty() {
            out.push_str(" (nothing)");
        }
        for text in &self.texts {
            for line in text.lines() {
                let _ = write!(out, "\n    | {line}");
            }
        }
        if !self.choices.is_empty() {
            let labels: Vec<String> = self
                .choices
                .iter()
                .map(|c| format!("[{}]", c.label))
                .collect();
            let _ = write!(out, "\n    choices: {}", labels.join(" "));
        }
        for priority in &self.handoffs {
            let _ = write!(out, "\n    handoff: {}", priority.name());
        }
        out
    }
}

fn check(expect: &Expect, seen: &Seen, cursor: &mut usize) -> Option<String> {
    let lower: Vec<String> = seen.texts.iter().map(|t| t.to_lowercase()).collect();
    match expect {
        Expect::Contains(needle) => {
            let needle = needle.to_lowercase();
            match (*cursor..lower.len()).find(|&i| lower[i].contains(&needle)) {
                Some(i) => {
                    *cursor = i;
                    None
                }
                None => Some(format!("expected a reply containing \"{needle}\"")),
            }
        }
        Expect::Matches(regex) => {
            match (*cursor..seen.texts.len()).find(|&i| regex.is_match(&seen.texts[i])) {
                Some(i) => {
                    *cursor = i;
                    None
                }
                None => Some(format!("expected a reply matching /{}/", regex.as_str())),
            }
        }
        Expect::Absent(needle) => {
            let needle = needle.to_lowercase();
            lower
                .iter()
                .any(|t| t.contains(&needle))
                .then(|| format!("expected no reply containing \"{needle}\""))
        }
        Expect::Choices(labels) => {
            let actual: Vec<&str> = seen.choices.iter().map(|c| c.label.as_str()).collect();
            (actual != labels.iter().map(String::as_str).collect::<Vec<_>>())
                .then(|| format!("expected the choices [{}]", labels.join("] [")))
        }
        Expect::Handoff(priority) => match (priority, seen.handoffs.as_slice()) {
            (_, []) => Some("expected a handoff (a ticket)".to_string()),
            (Some(p), got) if !got.contains(p) => {
                Some(format!("expected a handoff with priority {}", p.name()))
            }
            _ => None,
        },
        Expect::NoHandoff => (!seen.handoffs.is_empty()).then(|| "expected no handoff".to_string()),
    }
}

/// Replays every conversation of `transcript` through `app`, each as a new
/// chat starting at `first_chat`. Returns the failures (at most one per
/// conversation: later turns would only repeat it).
pub fn run(app: &App<'_>, transcript: &Transcript, first_chat: ChatId) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (index, conversation) in transcript.conversations.iter().enumerate() {
        let chat = first_chat + index as ChatId;
        let mut now = START_TIME;
        let mut choices: Vec<Choice> = Vec::new();
        let fail = |line: usize, message: String| Failure {
            path: transcript.path.clone(),
            line,
            conversation: conversation.name.clone(),
            message,
        };
        'turns: for turn in &conversation.turns {
            now += turn.wait;
            let value;
            let input = match &turn.action {
                Action::Say(text) => Input::Text(text),
                Action::Press(label) => {
                    let wanted = label.to_lowercase();
                    let found = choices
                        .iter()
                        .find(|c| c.label.to_lowercase() == wanted)
                        .or_else(|| {
                            choices
                                .iter()
                                .find(|c| c.label.to_lowercase().contains(&wanted))
                        });
                    match found {
                        Some(choice) => {
                            value = choice.value.clone();
                            Input::Button(&value)
                        }
                        None => {
                            let labels: Vec<String> =
                                choices.iter().map(|c| format!("[{}]", c.label)).collect();
                            failures.push(fail(
                                turn.line,
                                format!(
                                    "no button \"{label}\"; the buttons were: {}",
                                    if labels.is_empty() {
                                        "(none)".to_string()
                                    } else {
                                        labels.join(" ")
                                    }
                                ),
                            ));
                            break 'turns;
                        }
                    }
                }
            };
            let handled = match app.handle(chat, input, now) {
                Ok(handled) => handled,
                Err(error) => {
                    failures.push(fail(turn.line, format!("store error: {error}")));
                    break 'turns;
                }
            };
            let seen = Seen {
                texts: handled.messages.iter().map(|m| m.text.clone()).collect(),
                choices: handled
                    .messages
                    .iter()
                    .rev()
                    .find(|m| !m.choices.is_empty())
                    .map(|m| m.choices.clone())
                    .unwrap_or_default(),
                handoffs: handled.opened.iter().map(|t| t.priority).collect(),
            };
            let mut cursor = 0;
            for (line, expect) in &turn.expect {
                if let Some(message) = check(expect, &seen, &mut cursor) {
                    let said = match &turn.action {
                        Action::Say(text) => format!("> {text}"),
                        Action::Press(label) => format!(">> {label}"),
                    };
                    failures.push(fail(
                        *line,
                        format!("{message}\n    after: {said}{}", seen.describe()),
                    ));
                    break 'turns;
                }
            }
            choices = seen.choices;
        }
    }
    failures
}
