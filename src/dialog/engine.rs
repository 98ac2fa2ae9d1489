//! Walking a dialog: from a node until one waits for the user, and the
//! user's answer at the node that waits. Pure; the brain decides what
//! happens around it (commands, interruptions, handoffs).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{values, Check, Dialogs, Leads, NodeKind, Text};
use crate::brain::{texts, Choice, Effect};
use crate::lang::Lang;
use crate::ticket::Priority;

/// Where a user is in a dialog. Nodes are kept by id, not index, so a
/// session survives a reload that reorders a file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DialogState {
    pub dialog: String,
    pub node: String,
    /// What the dialog collected, by name.
    pub values: BTreeMap<String, String>,
    /// Invalid answers at the current node.
    pub tries: u32,
    /// The intent that started the dialog, if any.
    pub intent: Option<String>,
    /// Values the user stated before their question came (in the message
    /// that started the dialog, or with another answer): their `ask` nodes
    /// are passed over once.
    #[serde(default)]
    pub prefilled: std::collections::BTreeSet<String>,
}

/// Nodes passed through in one turn before the engine gives up; the
/// compiler refuses loops that never wait, so this only guards against a
/// bug.
const MAX_STEPS: usize = 64;

/// Why a dialog hands off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// A `handoff` node.
    Scripted,
    /// "Did this help?" — no.
    NotResolved,
    /// Too many invalid answers.
    TooManyTries,
    /// The user asked (`/human`, or picked "talk to a human").
    Requested,
    /// Something went wrong in the script.
    Broken,
}

/// What happened after a turn of the dialog.
#[derive(Clone, Debug, PartialEq)]
pub enum Flow {
    /// Waiting for the user at `state.node`; the choices to offer.
    Wait(DialogState, Vec<Choice>),
    /// Finished.
    Done,
    /// A human must take over, with what was collected.
    Handoff(DialogState, Priority, HandoffReason),
    /// An option led to an intent: answer it (or start its dialog).
    Intent(String),
}

/// `{name}` in a dialog's text becomes the collected value.
pub fn fill(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                let name = &after[..close];
                match values.get(name) {
                    Some(value) => out.push_str(value),
                    // The networks of the coin in hand ("XRP Ledger" after
                    // XRP), or the usual ones.
                    None if name == "networks" => out.push_str(
                        &values::networks_for(values.get("coin").map(String::as_str)).join(", "),
                    ),
                    None => out.push('—'),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn say(effects: &mut Vec<Effect>, text: &Text, lang: Lang, values: &BTreeMap<String, String>) {
    let text = text.get(lang);
    if !text.is_empty() {
        effects.push(Effect::text(fill(text, values)));
    }
}

/// The choices a waiting node offers.
fn choices_at(dialogs: &Dialogs, state: &DialogState, lang: Lang) -> Vec<Choice> {
    let Some((_, node)) = locate(dialogs, state) else {
        return Vec::new();
    };
    match &node.kind {
        NodeKind::Choose { options, .. } => options
            .iter()
            .enumerate()
            .map(|(i, o)| Choice::new(o.label.get(lang), format!("opt:{i}")))
            .collect(),
        NodeKind::Ask { optional: true, .. } => {
            vec![Choice::new(texts::skip(lang), "skip")]
        }
        NodeKind::Resolve { .. } => vec![
            Choice::new(texts::yes_helped(lang), "yes"),
            Choice::new(texts::no_helped(lang), "no"),
        ],
        _ => Vec::new(),
    }
}

fn locate<'d>(dialogs: &'d Dialogs, state: &DialogState) -> Option<(usize, &'d super::Node)> {
    let dialog = dialogs.by_id(&state.dialog)?;
    let index = dialog.find(&state.node)?;
    Some((index, dialog.node(index)))
}

/// True if the dialog and node of `state` still exist (they may not after
/// a reload).
pub fn is_valid(dialogs: &Dialogs, state: &DialogState) -> bool {
    locate(dialogs, state).is_some()
}

/// What the guard should expect at the node the dialog waits on.
pub fn expecting(dialogs: &Dialogs, state: &DialogState) -> Option<crate::guard::Expected> {
    match &locate(dialogs, state)?.1.kind {
        NodeKind::Ask {
            check: Check::Kind(kind),
            ..
        } => kind.expected(),
        NodeKind::Ask {
            check: Check::Regex(_),
            ..
        } => Some(crate::guard::Expected::Other),
        _ => None,
    }
}

/// Starts `dialog` at its first node. Values stated in `message` (the
/// one that started the dialog) are taken, so their questions are skipped.
pub fn start(
    dialogs: &Dialogs,
    dialog: usize,
    intent: Option<String>,
    values: BTreeMap<String, String>,
    message: Option<(&str, NaiveDateTime)>,
    lang: Lang,
    effects: &mut Vec<Effect>,
) -> Flow {
    let d = dialogs.get(dialog);
    let mut state = DialogState {
        dialog: d.id.clone(),
        node: d.nodes[0].id.clone(),
        values,
        tries: 0,
        intent,
        prefilled: Default::default(),
    };
    if let Some((message, now)) = message {
        gather(dialogs, &mut state, message, now, None);
    }
    run(dialogs, state, lang, effects)
}

/// Takes the values `message` states for the dialog's questions not yet
/// answered (see [`values::prefill`]): their `ask` nodes are then passed
/// over. `except` is the value the current question asks for, which its
/// own (looser) check reads. True if anything new was found.
pub fn gather(
    dialogs: &Dialogs,
    state: &mut DialogState,
    message: &str,
    now: NaiveDateTime,
    except: Option<&str>,
) -> bool {
    let Some(dialog) = dialogs.by_id(&state.dialog) else {
        return false;
    };
    let mut found_any = false;
    for node in &dialog.nodes {
        if let NodeKind::Ask {
            value,
            check: Check::Kind(kind),
            ..
        } = &node.kind
        {
            if state.values.contains_key(value) || except == Some(value.as_str()) {
                continue;
            }
            if let Some(found) = values::prefill(*kind, message, now) {
                state.values.insert(value.clone(), found);
                state.prefilled.insert(value.clone());
                found_any = true;
            }
        }
    }
    found_any
}

/// Runs from `state.node` through the nodes that do not wait, saying what
/// they say, until a node waits for the user or the dialog ends.
pub fn run(
    dialogs: &Dialogs,
    mut state: DialogState,
    lang: Lang,
    effects: &mut Vec<Effect>,
) -> Flow {
    for _ in 0..MAX_STEPS {
        let Some(dialog) = dialogs.by_id(&state.dialog) else {
            return Flow::Handoff(state, Priority::Normal, HandoffReason::Broken);
        };
        let Some(index) = dialog.find(&state.node) else {
            return Flow::Handoff(state, Priority::Normal, HandoffReason::Broken);
        };
        let node = dialog.node(index);
        let goto = |state: &mut DialogState, target: usize| {
            state.node = dialog.node(target).id.clone();
            state.tries = 0;
        };
        match &node.kind {
            NodeKind::Say { next } => {
                say(effects, &node.text, lang, &state.values);
                goto(&mut state, *next);
            }
            NodeKind::Branch {
                on,
                cases,
                otherwise,
            } => {
                say(effects, &node.text, lang, &state.values);
                let value = state.values.get(on).map(String::as_str);
                let target = cases
                    .iter()
                    .find(|(test, _)| test.holds(value))
                    .map_or(*otherwise, |(_, target)| *target);
                goto(&mut state, target);
            }
            NodeKind::Goto { dialog: target } => {
                say(effects, &node.text, lang, &state.values);
                let target = dialogs.get(*target);
                state.dialog = target.id.clone();
                state.node = target.nodes[0].id.clone();
                state.tries = 0;
            }
            NodeKind::Handoff { priority } => {
                say(effects, &node.text, lang, &state.values);
                return Flow::Handoff(state, *priority, HandoffReason::Scripted);
            }
            NodeKind::Ask { value, next, .. } if state.prefilled.remove(value) => {
                // Already stated in an earlier message.
                goto(&mut state, *next);
            }
            NodeKind::Choose { .. } | NodeKind::Ask { .. } | NodeKind::Resolve { .. } => {
                return wait(dialogs, state, lang, effects);
            }
        }
    }
    Flow::Handoff(state, Priority::Normal, HandoffReason::Broken)
}

/// Asks the question of the node the dialog waits on (again).
pub fn wait(dialogs: &Dialogs, state: DialogState, lang: Lang, effects: &mut Vec<Effect>) -> Flow {
    let Some((_, node)) = locate(dialogs, &state) else {
        return Flow::Handoff(state, Priority::Normal, HandoffReason::Broken);
    };
    let choices = choices_at(dialogs, &state, lang);
    let text = match (&node.kind, node.text.get(lang)) {
        (NodeKind::Resolve { .. }, "") => texts::did_it_help(lang).to_string(),
        (_, text) => fill(text, &state.values),
    };
    effects.push(Effect::Reply {
        text,
        choices: choices.clone(),
    });
    Flow::Wait(state, choices)
}

/// The user's input at a waiting node.
pub enum Answer<'a> {
    /// A choice's value (a button, or a number typed in the terminal).
    Picked(&'a str),
    Text(&'a str),
}

/// Handles the user's answer. `None` means the input is not an answer to
/// this node; the brain then checks whether the user changed the subject,
/// and otherwise calls [`retry`].
///
/// A typed answer is also read for the values of the questions ahead
/// ("500u trc20 昨天晚上" answers coin, network, amount and time at once):
/// those are then not asked. A message that does not answer this question
/// but states such values keeps them, and the question is asked again.
pub fn answer(
    dialogs: &Dialogs,
    mut state: DialogState,
    input: Answer<'_>,
    lang: Lang,
    now: NaiveDateTime,
    effects: &mut Vec<Effect>,
) -> Option<Flow> {
    let mut gathered = false;
    if let Answer::Text(text) = input {
        let asked = match locate(dialogs, &state).map(|(_, node)| &node.kind) {
            Some(NodeKind::Ask { value, .. }) => Some(value.clone()),
            _ => None,
        };
        gathered = gather(dialogs, &mut state, text, now, asked.as_deref());
    }
    let said = effects.len();
    match answer_node(dialogs, state.clone(), input, lang, now, effects) {
        Some(flow) => Some(flow),
        None if gathered => {
            effects.truncate(said);
            Some(wait(dialogs, state, lang, effects))
        }
        None => None,
    }
}

fn answer_node(
    dialogs: &Dialogs,
    mut state: DialogState,
    input: Answer<'_>,
    lang: Lang,
    now: NaiveDateTime,
    effects: &mut Vec<Effect>,
) -> Option<Flow> {
    let (_, node) = locate(dialogs, &state)?;
    let dialog = dialogs.by_id(&state.dialog)?;
    match (&node.kind, input) {
        (NodeKind::Choose { options, save_as }, Answer::Picked(value)) => {
            let index: usize = value.strip_prefix("opt:")?.parse().ok()?;
            let option = options.get(index)?;
            if let Some(name) = save_as {
                state.values.insert(name.clone(), option.value.clone());
            }
            match &option.leads_to {
                Leads::Node(target) => {
                    state.node = dialog.node(*target).id.clone();
                    state.tries = 0;
                    Some(run(dialogs, state, lang, effects))
                }
                Leads::Intent(intent) => Some(Flow::Intent(intent.clone())),
            }
        }
        (NodeKind::Choose { options, .. }, Answer::Text(text)) => {
            // The words of an option, typed rather than tapped.
            let typed = crate::text::normalize(text);
            let index = options.iter().position(|o| {
                crate::text::normalize(&o.label.zh) == typed
                    || crate::text::normalize(&o.label.en) == typed
                    || crate::text::normalize(&o.value) == typed
            })?;
            answer_node(
                dialogs,
                state,
                Answer::Picked(&format!("opt:{index}")),
                lang,
                now,
                effects,
            )
        }
        (
            NodeKind::Ask {
                value,
                check,
                optional,
                next,
                ..
            },
            input,
        ) => {
            let found = match input {
                Answer::Picked("skip") if *optional => None,
                Answer::Picked(_) => return None,
                Answer::Text(text) => {
                    let found = match check {
                        Check::Kind(kind) => values::extract(*kind, text, now),
                        Check::Regex(regex) => regex.find(text).map(|m| m.as_str().to_string()),
                    };
                    if found.is_none() && !(*optional && values::is_skip(text)) {
                        return None;
                    }
                    found
                }
            };
            match found {
                Some(found) => state.values.insert(value.clone(), found),
                None => state.values.remove(value),
            };
            state.node = dialog.node(*next).id.clone();
            state.tries = 0;
            Some(run(dialogs, state, lang, effects))
        }
        (NodeKind::Resolve { priority }, input) => {
            let helped = match input {
                Answer::Picked("yes") => true,
                Answer::Picked("no") => false,
                Answer::Picked(_) => return None,
                Answer::Text(text) => yes_or_no(text)?,
            };
            if helped {
                effects.push(Effect::text(texts::glad_it_helped(lang)));
                Some(Flow::Done)
            } else {
                Some(Flow::Handoff(state, *priority, HandoffReason::NotResolved))
            }
        }
        _ => None,
    }
}

/// After an input that is not an answer: the hint and the question again,
/// or a handoff once the user has tried too often.
pub fn retry(
    dialogs: &Dialogs,
    mut state: DialogState,
    lang: Lang,
    effects: &mut Vec<Effect>,
) -> Flow {
    let Some((_, node)) = locate(dialogs, &state) else {
        return Flow::Handoff(state, Priority::Normal, HandoffReason::Broken);
    };
    state.tries += 1;
    let max_tries = match &node.kind {
        NodeKind::Ask { max_tries, .. } => *max_tries,
        _ => super::compile::DEFAULT_MAX_TRIES,
    };
    if state.tries >= max_tries {
        effects.push(Effect::text(texts::too_many_tries(lang)));
        return Flow::Handoff(state, Priority::Normal, HandoffReason::TooManyTries);
    }
    let hint = match &node.kind {
        NodeKind::Ask { hint, check, .. } => match hint.get(lang) {
            "" => texts::invalid_value(check_name(check), lang),
            hint => fill(hint, &state.values),
        },
        NodeKind::Choose { .. } => texts::pick_an_option(lang).to_string(),
        NodeKind::Resolve { .. } => texts::answer_yes_or_no(lang).to_string(),
        _ => String::new(),
    };
    if !hint.is_empty() {
        effects.push(Effect::text(hint));
    }
    wait(dialogs, state, lang, effects)
}

fn check_name(check: &Check) -> Option<values::Kind> {
    match check {
        Check::Kind(kind) => Some(*kind),
        Check::Regex(_) => None,
    }
}

/// A short reply that reads as an answer to a question rather than a new
/// subject: a "none" form, a yes or a no, or a value of some kind ("usdt",
/// "3k", "昨天", "trc20"). At most 4 words or 8 Han characters.
pub fn is_short_answer(text: &str, now: NaiveDateTime) -> bool {
    let normalized = crate::text::normalize(text);
    let han = normalized
        .chars()
        .filter(|c| crate::text::is_han(*c))
        .count();
    if han > 8 || normalized.split_whitespace().count() > 4 {
        return false;
    }
    use values::Kind;
    values::is_skip(text)
        || yes_or_no(text).is_some()
        || values::prefill(Kind::Coin, text, now).is_some()
        || [
            Kind::Network,
            Kind::Amount,
            Kind::DateTime,
            Kind::Txid,
            Kind::Uid,
        ]
        .into_iter()
        .any(|kind| values::extract(kind, text, now).is_some())
}

/// "yes it helped" / "没有解决" → `Some(true)` / `Some(false)`.
pub fn yes_or_no(text: &str) -> Option<bool> {
    let text: String = crate::text::normalize(text)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = text.as_str();
    const NO: &[&str] = &[
        "no",
        "n",
        "nope",
        "not really",
        "not yet",
        "didn't",
        "did not",
        "doesn't",
        "still",
        "没有",
        "没",
        "不",
        "否",
        "没用",
        "没解决",
        "不行",
        "还是",
        "未解决",
    ];
    const YES: &[&str] = &[
        "yes",
        "y",
        "yeah",
        "yep",
        "ok",
        "okay",
        "sure",
        "solved",
        "helped",
        "thanks",
        "thank you",
        "是",
        "是的",
        "对",
        "有用",
        "好了",
        "解决了",
        "可以了",
        "行",
        "好的",
        "谢谢",
        "嗯",
    ];
    let starts = |w: &&str| {
        text == *w
            || text.starts_with(&format!("{w} "))
            || (w.chars().any(crate::text::is_han) && text.starts_with(*w))
    };
    if NO.iter().any(starts) {
        Some(false)
    } else if YES.iter().any(starts) {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_values_and_leaves_other_braces() {
        let mut values = BTreeMap::new();
        values.insert("coin".to_string(), "USDT".to_string());
        assert_eq!(fill("{coin} on {network}", &values), "USDT on —");
        assert_eq!(fill("json {\"a\": 1} {", &values), "json {\"a\": 1} {");
    }

    #[test]
    fn yes_and_no_in_both_languages() {
        assert_eq!(yes_or_no("yes it did"), Some(true));
        assert_eq!(yes_or_no("No, still stuck"), Some(false));
        assert_eq!(yes_or_no("解决了，谢谢"), Some(true));
        assert_eq!(yes_or_no("没有解决"), Some(false));
        assert_eq!(yes_or_no("不行"), Some(false));
        assert_eq!(yes_or_no("what about my deposit"), None);
        assert_eq!(yes_or_no("no, still can't log in"), Some(false));
        assert_eq!(yes_or_no("Yes!"), Some(true));
    }
}
