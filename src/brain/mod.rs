//! The conversation brain: the session, an input and the time in; the new
//! session and the effects out. Pure: no IO, no clock, no globals. The
//! terminal chat and Telegram are adapters around the same [`step`], so they
//! behave identically.
//!
//! One turn, in order: the idle timeout; the guard (secrets are redacted
//! before anything else sees the message, with the session's guard memory:
//! a secret announced in one message is caught in the next); commands, which work in any
//! state; a choice offered last time; the dialog in progress (an answer, a
//! change of subject, or a retry); otherwise the matcher and the fallback
//! policy.

pub mod texts;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::dialog::engine::{self, Answer, DialogState, Flow, HandoffReason};
use crate::dialog::Dialogs;
use crate::guard;
use crate::intent::{IntentSet, Verdict};
use crate::lang::Lang;
use crate::ticket::Priority;

/// A compiled pack: intents and dialogs, with the brain's settings.
/// Immutable; a reload builds a new one and swaps it in whole.
#[derive(Debug)]
pub struct Bot {
    pub intents: IntentSet,
    pub dialogs: Dialogs,
    pub settings: Settings,
}

/// How the brain behaves; from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// A dialog left alone this long is dropped (seconds).
    pub idle_timeout_secs: i64,
    /// The users' local time zone, for dates like "yesterday 8pm".
    pub utc_offset_minutes: i32,
    /// Official staff handles, lower-case without `@`, for `/verify`.
    pub staff_handles: Vec<String>,
    /// Official domains; links elsewhere that imitate them are flagged.
    pub official_domains: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle_timeout_secs: 30 * 60,
            utc_offset_minutes: 8 * 60,
            staff_handles: Vec::new(),
            official_domains: Vec::new(),
        }
    }
}

/// Lines of conversation kept for a handoff (redacted), and their length.
pub const TRANSCRIPT_LINES: usize = 30;
const TRANSCRIPT_LINE_CHARS: usize = 300;

/// One line of the (redacted) conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// True for the user, false for the bot.
    pub user: bool,
    /// Shared: sessions are cloned on every turn, and a bot line may be a
    /// long answer.
    pub text: std::sync::Arc<str>,
}

/// What the bot remembers about one conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    pub lang: Lang,
    /// Set by `/lang` (or a language button): the user chose, so the
    /// script of later messages no longer switches the language.
    pub lang_pinned: bool,
    /// The choices offered in the last reply.
    pub offered: Vec<Choice>,
    /// Consecutive messages the bot did not understand.
    pub misses: u32,
    /// The dialog in progress.
    pub dialog: Option<DialogState>,
    /// An intent the user may switch to, asked about mid-dialog.
    pub pending_switch: Option<String>,
    /// Unix seconds of the last input; 0 before the first.
    pub last_active: i64,
    /// The last lines of the conversation, redacted.
    pub transcript: Vec<Line>,
    /// How many lines were ever added to `transcript` (at least its
    /// length): the store keeps each line once, numbered by this count,
    /// and writes only the new ones.
    pub lines: u64,
    /// What the guard expects next (a secret announced, a seed half
    /// pasted); kinds and counts only, never a secret.
    pub guard: guard::Memory,
}

/// A choice the user can pick (a button in Telegram, a number in the
/// terminal). `value` is what a button sends back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub label: String,
    pub value: String,
}

impl Choice {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Choice {
        Choice {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// A human must take over: everything the bot knows, redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub priority: Priority,
    pub reason: HandoffReason,
    pub lang: Lang,
    pub intent: Option<String>,
    pub dialog: Option<String>,
    pub values: BTreeMap<String, String>,
    pub transcript: Vec<Line>,
}

/// Something the adapter must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Send text, with choices as buttons.
    Reply { text: String, choices: Vec<Choice> },
    /// Open a ticket; the adapter tells the user its number.
    Handoff(Box<Handoff>),
    /// Show the user's tickets (`/status`).
    ShowTickets,
    /// Close the user's open tickets (`/close`).
    CloseTickets,
    /// The user's message held a secret: delete it from the chat where the
    /// adapter can (in Telegram, the bot may delete messages in private
    /// chats).
    DeleteInput,
    /// What the classifier made of a free-text message (outside a dialog),
    /// for the adapters' counts; nothing to show.
    Verdict(Outcome),
}

/// The classifier's verdict on one message, by intent id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Matched(String),
    Ambiguous,
    /// Not understood: the bot fell back to asking again or offering topics.
    Fallback,
}

impl Effect {
    pub fn text(text: impl Into<String>) -> Effect {
        Effect::Reply {
            text: text.into(),
            choices: Vec::new(),
        }
    }
}

/// What the user did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// A message.
    Text(&'a str),
    /// A button pressed: the choice's value.
    Button(&'a str),
}

/// Intents offered when the bot keeps missing: the most common problems.
const COMMON_TOPICS: [&str; 4] = [
    "withdrawal_delayed",
    "deposit_missing",
    "account_locked",
    "password_reset",
];

/// The users' local time for `now` (Unix seconds).
pub fn local_time(settings: &Settings, now: i64) -> NaiveDateTime {
    DateTime::from_timestamp(now + i64::from(settings.utc_offset_minutes) * 60, 0)
        .unwrap_or_default()
        .naive_utc()
}

/// Handles one input. See the module documentation for the order.
pub fn step(bot: &Bot, session: &Session, input: Input<'_>, now: i64) -> (Session, Vec<Effect>) {
    let mut turn = Turn {
        bot,
        session: session.clone(),
        effects: Vec::new(),
        now,
    };
    turn.run(input);
    let Turn {
        mut session,
        effects,
        ..
    } = turn;
    for effect in &effects {
        if let Effect::Reply { text, .. } = effect {
            remember(&mut session, false, text);
        }
    }
    (session, effects)
}

/// Handles one message (a convenience for tests and tools; time stands
/// still at 0, so nothing expires).
pub fn respond(bot: &Bot, session: &Session, message: &str) -> (Session, Vec<Effect>) {
    step(bot, session, Input::Text(message), 0)
}

/// A command's name: `/Take@kefu_bot` → `take` (Telegram appends the
/// bot's name in groups).
pub fn command_name(word: &str) -> String {
    word.trim_start_matches('/')
        .split('@')
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

/// The language of a message that is clearly a sentence in it: two Han
/// characters, or three Latin words and no Han.
fn confident_language(text: &str) -> Option<Lang> {
    let han = text.chars().filter(|&c| crate::text::is_han(c)).count();
    // Words, not the letters of a hash or an order id: whitespace-separated
    // tokens of letters only (trailing punctuation aside).
    let words = text
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation()))
        .filter(|w| w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .count();
    if han >= 2 {
        Some(Lang::Zh)
    } else if han == 0 && words >= 3 {
        Some(Lang::En)
    } else {
        None
    }
}

fn remember(session: &mut Session, user: bool, text: &str) {
    session.lines = session.lines.max(session.transcript.len() as u64) + 1;
    push_line(
        &mut session.transcript,
        user,
        text,
        TRANSCRIPT_LINES,
        TRANSCRIPT_LINE_CHARS,
    );
}

/// Appends a line to a transcript, cutting the line to `max_chars` (with
/// `…`) and dropping the oldest lines beyond `max_lines`.
pub fn push_line(
    transcript: &mut Vec<Line>,
    user: bool,
    text: &str,
    max_lines: usize,
    max_chars: usize,
) {
    // No more characters than bytes: a short text needs no counting.
    let cut = (text.len() > max_chars)
        .then(|| text.char_indices().nth(max_chars))
        .flatten();
    let text: std::sync::Arc<str> = match cut {
        Some((cut, _)) => format!("{}…", &text[..cut]).into(),
        None => text.into(),
    };
    transcript.push(Line { user, text });
    let excess = transcript.len().saturating_sub(max_lines);
    transcript.drain(..excess);
}

struct Turn<'b> {
    bot: &'b Bot,
    session: Session,
    effects: Vec<Effect>,
    now: i64,
}

impl Turn<'_> {
    fn lang(&self) -> Lang {
        self.session.lang
    }

    fn say(&mut self, text: impl Into<String>) {
        self.effects.push(Effect::text(text));
    }

    fn run(&mut self, input: Input<'_>) {
        let idle = self.now - self.session.last_active;
        let busy = self.session.dialog.is_some()
            || !self.session.offered.is_empty()
            || self.session.pending_switch.is_some();
        if self.session.last_active > 0 && idle > self.bot.settings.idle_timeout_secs && busy {
            self.session.dialog = None;
            self.session.offered.clear();
            self.session.pending_switch = None;
            self.session.misses = 0;
            self.say(texts::session_expired(self.lang()));
        }
        self.session.last_active = self.now;
        match input {
            Input::Text(text) => self.text(text),
            Input::Button(value) => {
                if self.session.offered.iter().any(|c| c.value == value) {
                    self.pick(value);
                } else {
                    self.say(texts::stale_button(self.lang()));
                    self.prompt_again();
                }
            }
        }
    }

    fn text(&mut self, message: &str) {
        // Commands are English words in every language: they don't switch.
        if !self.session.lang_pinned && !message.trim_start().starts_with('/') {
            // Mid-dialog, answers are mostly values ("USDT", "TXID 是 0x…"):
            // only a clearly written sentence switches the language there.
            let detected = if self.session.dialog.is_some() {
                confident_language(message)
            } else {
                Lang::detect(message)
            };
            if let Some(lang) = detected {
                self.session.lang = lang;
            }
        }
        let context = guard::ScanContext {
            expecting: self
                .session
                .dialog
                .as_ref()
                .and_then(|state| engine::expecting(&self.bot.dialogs, state)),
        };
        let lang = self.lang();
        let redaction =
            guard::redact_following(message, &context, lang, &mut self.session.guard, self.now);
        if !self.bot.settings.official_domains.is_empty() {
            let links = guard::check_links(&redaction.text, &self.bot.settings.official_domains);
            if !links.is_empty() {
                self.say(guard::link_warning_text(&links, self.lang()));
            }
        }
        if redaction.findings.is_empty() {
            remember(&mut self.session, true, message);
            return self.clean_text(message);
        }
        remember(&mut self.session, true, &redaction.text);
        self.effects.push(Effect::DeleteInput);
        self.say(guard::warning(&redaction.kinds(), self.lang()));
        // What is left once the secrets are gone may still be a question.
        let rest: String = message
            .chars()
            .enumerate()
            .filter(|(at, _)| {
                !redaction
                    .findings
                    .iter()
                    .any(|f| (f.start..f.end).contains(at))
            })
            .map(|(_, ch)| ch)
            .collect();
        let has_question = crate::text::normalize(&rest)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .count()
            >= 4;
        if has_question {
            self.clean_text(&redaction.text);
        } else {
            self.prompt_again();
        }
    }

    fn clean_text(&mut self, message: &str) {
        let trimmed = message.trim();
        if let Some(command) = trimmed.strip_prefix('/') {
            return self.command(command);
        }
        if !self.dialog_still_exists() {
            return;
        }
        if let Some(value) = self.offered_pick(trimmed) {
            return self.pick(&value);
        }
        if self.session.dialog.is_some() {
            return self.dialog_text(trimmed);
        }
        self.session.offered.clear();
        self.session.pending_switch = None;
        let normalized = crate::text::normalize(trimmed);
        if normalized.is_empty() {
            return self.say(texts::empty_message(self.lang()));
        }
        // A bare number ("1" typed after a plain answer) says nothing about
        // the problem; only chat slang like "88" (bye-bye) does.
        if !normalized.chars().any(char::is_alphabetic)
            && !matches!(normalized.trim(), "88" | "886" | "3q")
        {
            self.session.misses += 1;
            self.effects.push(Effect::Verdict(Outcome::Fallback));
            return self.say(texts::not_understood(self.lang()));
        }
        self.classify(trimmed);
    }

    /// After a reload, the node a session waits on may be gone: restart
    /// its dialog politely (keeping what was collected), or drop it.
    fn dialog_still_exists(&mut self) -> bool {
        let Some(state) = &self.session.dialog else {
            return true;
        };
        if engine::is_valid(&self.bot.dialogs, state) {
            return true;
        }
        let state = self.session.dialog.take().expect("checked above");
        self.session.offered.clear();
        self.say(texts::script_changed(self.lang()));
        match self.bot.dialogs.find(&state.dialog) {
            Some(dialog) => {
                let mut effects = Vec::new();
                let flow = engine::start(
                    &self.bot.dialogs,
                    dialog,
                    state.intent.clone(),
                    state.values,
                    None,
                    self.lang(),
                    &mut effects,
                );
                self.effects.extend(effects);
                self.flow(flow);
            }
            None => self.say(texts::nothing_to_cancel(self.lang())),
        }
        false
    }

    fn command(&mut self, command: &str) {
        let lang = self.lang();
        let mut parts = command.split_whitespace();
        let name = command_name(parts.next().unwrap_or_default());
        self.session.pending_switch = None;
        match name.as_str() {
            "start" => {
                self.session.dialog = None;
                self.session.offered.clear();
                self.session.misses = 0;
                self.say(texts::welcome(lang));
            }
            "help" => {
                self.say(texts::help(lang));
                self.prompt_again();
            }
            "lang" | "language" => match parts.next().and_then(Lang::parse) {
                Some(chosen) => {
                    self.session.lang = chosen;
                    self.session.lang_pinned = true;
                    self.say(texts::language_set(chosen));
                    self.prompt_again();
                }
                None => self.say(texts::language_usage(lang)),
            },
            "cancel" => {
                self.session.offered.clear();
                if self.session.dialog.take().is_some() {
                    self.say(texts::cancelled(lang));
                } else {
                    self.say(texts::nothing_to_cancel(lang));
                }
            }
            "human" | "agent" => self.hand_off_now(),
            "verify" => {
                let text = match parts.next() {
                    Some(handle) => {
                        let handle = handle.trim().trim_start_matches('@').to_lowercase();
                        let official = self.bot.settings.staff_handles.contains(&handle);
                        texts::verify(&handle, official, lang)
                    }
                    None => texts::verify_usage(lang).to_string(),
                };
                self.say(text);
                self.prompt_again();
            }
            "status" => self.effects.push(Effect::ShowTickets),
            "close" => self.effects.push(Effect::CloseTickets),
            _ => {
                self.say(texts::unknown_command(lang));
                self.prompt_again();
            }
        }
    }

    /// Shows the question the session waits on again, if any.
    fn prompt_again(&mut self) {
        if let Some(state) = self.session.dialog.take() {
            if !engine::is_valid(&self.bot.dialogs, &state) {
                self.session.dialog = Some(state);
                self.dialog_still_exists();
                return;
            }
            let mut effects = Vec::new();
            let flow = engine::wait(&self.bot.dialogs, state, self.lang(), &mut effects);
            self.effects.extend(effects);
            self.flow(flow);
        } else if !self.session.offered.is_empty() {
            // Keep the earlier choices valid; nothing to repeat.
        }
    }

    /// A choice offered last time, typed as its number or its words.
    fn offered_pick(&self, text: &str) -> Option<String> {
        let offered = &self.session.offered;
        if offered.is_empty() {
            return None;
        }
        // At a question, "2" may be the answer itself: numbers pick only
        // among buttons that are not an `ask` node's "skip".
        let asking = self.session.dialog.is_some() && offered.iter().all(|c| c.value == "skip");
        if let Ok(number) = text.parse::<usize>() {
            if !asking {
                return offered.get(number.checked_sub(1)?).map(|c| c.value.clone());
            }
        }
        let wanted = crate::text::normalize(text);
        if wanted.is_empty() {
            return None;
        }
        offered
            .iter()
            .find(|c| crate::text::normalize(&c.label) == wanted || c.value == text)
            .map(|c| c.value.clone())
    }

    fn pick(&mut self, value: &str) {
        let offered = std::mem::take(&mut self.session.offered);
        if let Some(id) = value.strip_prefix("intent:") {
            self.session.dialog = None;
            return match self.bot.intents.find(id) {
                Some(intent) => self.start_intent(intent),
                None => self.say(texts::stale_button(self.lang())),
            };
        }
        match value {
            "human" => return self.hand_off_now(),
            "switch:yes" => {
                if let Some(intent) = self
                    .session
                    .pending_switch
                    .take()
                    .and_then(|id| self.bot.intents.find(&id))
                {
                    self.session.dialog = None;
                    return self.start_intent(intent);
                }
                return self.prompt_again();
            }
            "switch:no" => {
                self.session.pending_switch = None;
                return self.prompt_again();
            }
            _ => {}
        }
        let Some(state) = self.session.dialog.take() else {
            return self.say(texts::stale_button(self.lang()));
        };
        let mut effects = Vec::new();
        let local = local_time(&self.bot.settings, self.now);
        match engine::answer(
            &self.bot.dialogs,
            state.clone(),
            Answer::Picked(value),
            self.lang(),
            local,
            &mut effects,
        ) {
            Some(flow) => {
                self.effects.extend(effects);
                self.flow(flow);
            }
            None => {
                self.session.offered = offered;
                self.session.dialog = Some(state);
                self.say(texts::stale_button(self.lang()));
                self.prompt_again();
            }
        }
    }

    fn dialog_text(&mut self, text: &str) {
        let state = self.session.dialog.take().expect("a dialog is in progress");
        self.session.offered.clear();
        let local = local_time(&self.bot.settings, self.now);
        let mut effects = Vec::new();
        if let Some(flow) = engine::answer(
            &self.bot.dialogs,
            state.clone(),
            Answer::Text(text),
            self.lang(),
            local,
            &mut effects,
        ) {
            self.effects.extend(effects);
            return self.flow(flow);
        }
        // Not an answer: did the user change the subject? (A bare number,
        // a symbol, or a coin or network name alone says nothing about a
        // subject: "USDT" in reply to "which network?" is a wrong answer.)
        let has_words = crate::text::normalize(text)
            .chars()
            .any(char::is_alphabetic);
        let verdict = if has_words && !crate::dialog::values::is_bare_value(text) {
            self.bot.intents.classify(text).verdict
        } else {
            Verdict::NoMatch
        };
        if let Verdict::Matched(intent) = verdict {
            let candidate = self.bot.intents.intent(intent);
            let same = state.intent.as_deref() == Some(candidate.id.as_str())
                || candidate.dialog.as_deref() == Some(state.dialog.as_str());
            if !same && candidate.urgent {
                return self.start_intent_with(intent, Some(text));
            }
            // A short reply to a question ("no", "3k", "昨天") is a wrong
            // answer to retry, not a new subject.
            if !same && !engine::is_short_answer(text, local) {
                let title = candidate.text(self.lang()).title.clone();
                self.session.pending_switch = Some(candidate.id.clone());
                self.session.dialog = Some(state);
                let lang = self.lang();
                self.session.offered = vec![
                    Choice::new(texts::switch_yes(lang), "switch:yes"),
                    Choice::new(texts::switch_no(lang), "switch:no"),
                ];
                self.effects.push(Effect::Reply {
                    text: texts::switch_topic(&title, lang),
                    choices: self.session.offered.clone(),
                });
                return;
            }
        }
        let flow = engine::retry(&self.bot.dialogs, state, self.lang(), &mut effects);
        self.effects.extend(effects);
        self.flow(flow);
    }

    /// Applies what the dialog engine decided.
    fn flow(&mut self, flow: Flow) {
        match flow {
            Flow::Wait(state, choices) => {
                self.session.dialog = Some(state);
                self.session.offered = choices;
            }
            Flow::Done => {
                self.session.dialog = None;
                self.session.offered.clear();
            }
            Flow::Handoff(state, priority, reason) => {
                self.session.dialog = None;
                self.session.offered.clear();
                let intent = state.intent.clone();
                self.hand_off(priority, reason, intent, Some(state.dialog), state.values);
            }
            Flow::Intent(id) => {
                self.session.dialog = None;
                self.session.offered.clear();
                match self.bot.intents.find(&id) {
                    Some(intent) => self.start_intent(intent),
                    None => self.say(texts::nothing_to_cancel(self.lang())),
                }
            }
        }
    }

    fn hand_off(
        &mut self,
        priority: Priority,
        reason: HandoffReason,
        intent: Option<String>,
        dialog: Option<String>,
        values: BTreeMap<String, String>,
    ) {
        let lang = self.lang();
        self.say(if priority == Priority::Urgent {
            texts::urgent_handoff(lang)
        } else {
            texts::handing_off(lang)
        });
        self.session.misses = 0;
        self.effects.push(Effect::Handoff(Box::new(Handoff {
            priority,
            reason,
            lang,
            intent,
            dialog,
            values,
            transcript: self.session.transcript.clone(),
        })));
    }

    /// `/human` or the "talk to a person" button: hand off with whatever
    /// the dialog in progress collected.
    fn hand_off_now(&mut self) {
        self.session.offered.clear();
        let state = self.session.dialog.take();
        let intent = state.as_ref().and_then(|s| s.intent.clone());
        let urgent = intent
            .as_deref()
            .and_then(|id| self.bot.intents.find(id))
            .is_some_and(|i| self.bot.intents.intent(i).urgent);
        let priority = if urgent {
            Priority::Urgent
        } else {
            Priority::Normal
        };
        let (dialog, values) = match state {
            Some(s) => (Some(s.dialog), s.values),
            None => (None, BTreeMap::new()),
        };
        self.hand_off(priority, HandoffReason::Requested, intent, dialog, values);
    }

    fn classify(&mut self, text: &str) {
        let lang = self.lang();
        let classification = self.bot.intents.classify(text);
        let outcome = match &classification.verdict {
            Verdict::Matched(intent) => {
                Outcome::Matched(self.bot.intents.intent(*intent).id.clone())
            }
            Verdict::Ambiguous(_) => Outcome::Ambiguous,
            Verdict::NoMatch => Outcome::Fallback,
        };
        self.effects.push(Effect::Verdict(outcome));
        match classification.verdict {
            Verdict::Matched(intent) => self.start_intent_with(intent, Some(text)),
            Verdict::Ambiguous(intents) => {
                self.session.misses = 0;
                self.offer(&intents, texts::did_you_mean(lang), false);
            }
            Verdict::NoMatch => {
                self.session.misses += 1;
                if self.session.misses >= 2 {
                    let topics: Vec<usize> = COMMON_TOPICS
                        .iter()
                        .filter_map(|id| self.bot.intents.find(id))
                        .collect();
                    self.offer(&topics, texts::offer_topics(lang), true);
                } else {
                    // Offer the likely topics, if any came close.
                    let likely: Vec<usize> = classification
                        .candidates
                        .iter()
                        .filter(|c| c.score >= self.bot.intents.settings().min_score / 2.0)
                        .take(3)
                        .map(|c| c.intent)
                        .collect();
                    if likely.is_empty() {
                        self.say(texts::not_understood(lang));
                    } else {
                        self.offer(&likely, texts::not_understood_maybe(lang), false);
                    }
                }
            }
        }
    }

    /// Answers an intent: its dialog if it has one, else its answer.
    fn start_intent(&mut self, intent: usize) {
        self.start_intent_with(intent, None);
    }

    /// Answers an intent; `message`, when the user's own words started it,
    /// may already hold values its dialog would ask for.
    fn start_intent_with(&mut self, intent: usize, message: Option<&str>) {
        let lang = self.lang();
        self.session.misses = 0;
        self.session.pending_switch = None;
        self.session.offered.clear();
        let spec = self.bot.intents.intent(intent);
        if let Some(dialog) = spec
            .dialog
            .as_deref()
            .and_then(|d| self.bot.dialogs.find(d))
        {
            let mut effects = Vec::new();
            let local = local_time(&self.bot.settings, self.now);
            let flow = engine::start(
                &self.bot.dialogs,
                dialog,
                Some(spec.id.clone()),
                BTreeMap::new(),
                message.map(|m| (m, local)),
                lang,
                &mut effects,
            );
            self.effects.extend(effects);
            return self.flow(flow);
        }
        let text = spec
            .text(lang)
            .answer
            .clone()
            .or_else(|| spec.text(lang.other()).answer.clone())
            .unwrap_or_else(|| spec.text(lang).title.clone());
        self.say(text);
        if spec.urgent {
            let id = spec.id.clone();
            self.hand_off(
                Priority::Urgent,
                HandoffReason::Scripted,
                Some(id),
                None,
                BTreeMap::new(),
            );
        }
    }

    fn offer(&mut self, intents: &[usize], prompt: &str, with_human: bool) {
        let lang = self.lang();
        let mut choices: Vec<Choice> = intents
            .iter()
            .map(|&i| {
                let intent = self.bot.intents.intent(i);
                Choice::new(
                    intent.text(lang).title.clone(),
                    format!("intent:{}", intent.id),
                )
            })
            .collect();
        if with_human {
            choices.push(Choice::new(texts::talk_to_human(lang), "human"));
        }
        self.session.offered = choices.clone();
        self.effects.push(Effect::Reply {
            text: prompt.to_string(),
            choices,
        });
    }
}
