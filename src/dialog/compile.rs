//! Dialog files → [`Dialogs`], reporting every problem at once with
//! `file:line:column`. Pure: the caller reads the files.

use std::collections::{HashMap, HashSet};

use toml::Spanned;

use super::model::{CaseFile, DialogFile, NodeFile, OptionFile, TextFile};
use super::{Check, Choice, Dialog, Dialogs, Kind, Leads, Node, NodeKind, Test, Text};
use crate::diag::{Diagnostic, SourceFile};
use crate::ticket::Priority;

/// The dialog files of a pack, as read from disk.
#[derive(Clone, Debug, Default)]
pub struct DialogSources {
    pub files: Vec<SourceFile>,
}

/// Default number of invalid answers to an `ask` node before a handoff.
pub const DEFAULT_MAX_TRIES: u32 = 3;

const KINDS: &str = "say, choose, ask, branch, handoff, resolve, goto";

/// Compiles and validates all dialogs. `intents` are the ids of the pack's
/// intents, for options that lead to an intent. On success, returns the
/// dialogs and the warnings; on failure, every problem found.
pub fn compile(
    sources: &DialogSources,
    intents: &HashSet<String>,
) -> Result<(Dialogs, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut parsed: Vec<(&SourceFile, DialogFile)> = Vec::new();
    for file in &sources.files {
        match file.parse_toml::<DialogFile>() {
            Ok(dialog) => parsed.push((file, dialog)),
            Err(d) => problems.push(d),
        }
    }

    // Dialog ids first: `goto` may point at any of them.
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (index, (file, dialog)) in parsed.iter().enumerate() {
        let id = dialog.id.get_ref();
        if id != file.stem() {
            problems.push(file.error(
                dialog.id.span().start,
                format!(
                    "the dialog id `{id}` must equal the file name `{}`",
                    file.stem()
                ),
            ));
        }
        if by_id.insert(id.clone(), index).is_some() {
            problems.push(file.error(
                dialog.id.span().start,
                format!("duplicate dialog id `{id}`"),
            ));
        }
    }

    let mut dialogs = Vec::new();
    let mut warnings = Vec::new();
    let mut clean = Vec::new();
    for (file, dialog) in &parsed {
        let before = problems.len();
        let mut c = NodeCompiler {
            file,
            problems: &mut problems,
            warnings: &mut warnings,
            dialogs: &by_id,
            intents,
            nodes: HashMap::new(),
        };
        dialogs.push(c.dialog(dialog));
        clean.push(problems.len() == before);
    }
    let dialogs = Dialogs {
        by_id: dialogs
            .iter()
            .enumerate()
            .map(|(i, d): (usize, &Dialog)| (d.id.clone(), i))
            .collect(),
        dialogs,
    };
    // Loops are looked for in files without other errors: an unknown
    // target would point at the start node and look like a loop.
    problems.extend(loops(&dialogs, &parsed, &clean));
    if problems.is_empty() {
        Ok((dialogs, warnings))
    } else {
        problems.append(&mut warnings);
        Err(problems)
    }
}

struct NodeCompiler<'a> {
    file: &'a SourceFile,
    problems: &'a mut Vec<Diagnostic>,
    warnings: &'a mut Vec<Diagnostic>,
    dialogs: &'a HashMap<String, usize>,
    intents: &'a HashSet<String>,
    nodes: HashMap<String, usize>,
}

impl NodeCompiler<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        self.problems.push(self.file.error(span.start, message));
    }

    fn dialog(&mut self, dialog: &DialogFile) -> Dialog {
        let id = dialog.id.get_ref().clone();
        if dialog.node.is_empty() {
            self.error(
                dialog.id.span(),
                format!("dialog `{id}` has no nodes (add [[node]] tables)"),
            );
        }
        for (index, node) in dialog.node.iter().enumerate() {
            let node_id = node.get_ref().id.get_ref();
            if node_id.trim().is_empty() {
                self.error(node.get_ref().id.span(), "a node id must not be empty");
            }
            if self.nodes.insert(node_id.clone(), index).is_some() {
                self.error(
                    node.get_ref().id.span(),
                    format!("duplicate node id `{node_id}`"),
                );
            }
        }
        let nodes: Vec<Node> = dialog.node.iter().map(|n| self.node(n.get_ref())).collect();
        self.unreachable(&dialog.node, &nodes);
        Dialog {
            by_id: self.nodes.clone(),
            id,
            nodes,
        }
    }

    /// A reference to a node of this dialog; unknown targets are reported
    /// and resolve to 0 so compilation can go on collecting problems.
    fn target(&mut self, name: &Spanned<String>) -> usize {
        match self.nodes.get(name.get_ref()) {
            Some(&i) => i,
            None => {
                let known: Vec<&str> = self.nodes.keys().map(String::as_str).collect();
                let hint = crate::diag::closest(name.get_ref(), known.iter().copied())
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                self.error(
                    name.span(),
                    format!("no node `{}` in this dialog{hint}", name.get_ref()),
                );
                0
            }
        }
    }

    fn required_target(&mut self, node: &NodeFile, what: &str) -> usize {
        match &node.next {
            Some(next) => self.target(next),
            None => {
                self.error(
                    node.kind.span(),
                    format!(
                        "dead end: a `{what}` node needs `next` (every path must end in `resolve`, `handoff` or `goto`)"
                    ),
                );
                0
            }
        }
    }

    fn text(
        &mut self,
        zh: &Option<Spanned<String>>,
        en: &Option<Spanned<String>>,
        at: std::ops::Range<usize>,
        required: bool,
        what: &str,
    ) -> Text {
        let get = |t: &Option<Spanned<String>>| {
            t.as_ref()
                .map(|s| s.get_ref().trim().to_string())
                .unwrap_or_default()
        };
        let text = Text {
            zh: get(zh),
            en: get(en),
        };
        if required || !text.is_empty() {
            if text.zh.is_empty() {
                self.error(at.clone(), format!("{what} has no zh text"));
            }
            if text.en.is_empty() {
                self.error(at, format!("{what} has no en text"));
            }
        }
        text
    }

    fn bilingual(
        &mut self,
        text: &Option<Spanned<TextFile>>,
        at: std::ops::Range<usize>,
        what: &str,
    ) -> Text {
        match text {
            Some(t) => {
                let span = t.span();
                let t = t.get_ref();
                self.text(&t.zh, &t.en, span, true, what)
            }
            None => {
                let _ = at;
                Text::default()
            }
        }
    }

    fn priority(&mut self, node: &NodeFile, default: Priority) -> Priority {
        match &node.priority {
            None => default,
            Some(p) => Priority::parse(p.get_ref()).unwrap_or_else(|| {
                self.error(
                    p.span(),
                    format!(
                        "unknown priority `{}` (urgent, high or normal)",
                        p.get_ref()
                    ),
                );
                default
            }),
        }
    }

    fn regex(&mut self, pattern: &Spanned<String>) -> Option<regex::Regex> {
        match regex::RegexBuilder::new(pattern.get_ref())
            .size_limit(1 << 20)
            .build()
        {
            Ok(r) => Some(r),
            Err(e) => {
                let message = e.to_string().replace('\n', " ");
                self.error(pattern.span(), format!("invalid regex: {message}"));
                None
            }
        }
    }

    /// Fields that do nothing for this kind of node are mistakes.
    fn unused(&mut self, node: &NodeFile, kind: &str, allowed: &[&str]) {
        let present: [(&str, Option<std::ops::Range<usize>>); 12] = [
            ("next", node.next.as_ref().map(|s| s.span())),
            ("options", node.options.first().map(|s| s.span())),
            ("value", node.value.as_ref().map(|s| s.span())),
            ("check", node.check.as_ref().map(|s| s.span())),
            ("regex", node.regex.as_ref().map(|s| s.span())),
            ("hint", node.hint.as_ref().map(|s| s.span())),
            ("max_tries", node.max_tries.as_ref().map(|s| s.span())),
            ("on", node.on.as_ref().map(|s| s.span())),
            ("cases", node.cases.first().map(|s| s.span())),
            ("else", node.otherwise.as_ref().map(|s| s.span())),
            ("priority", node.priority.as_ref().map(|s| s.span())),
            ("dialog", node.dialog.as_ref().map(|s| s.span())),
        ];
        for (name, span) in present {
            if let Some(span) = span {
                if !allowed.contains(&name) {
                    self.error(span, format!("`{name}` does nothing in a `{kind}` node"));
                }
            }
        }
        if node.optional && kind != "ask" {
            self.error(
                node.kind.span(),
                format!("`optional` does nothing in a `{kind}` node"),
            );
        }
    }

    fn node(&mut self, node: &NodeFile) -> Node {
        let kind_name = node.kind.get_ref().as_str();
        let what = format!("node `{}`", node.id.get_ref());
        let at = node.kind.span();
        let text_required = matches!(kind_name, "say" | "choose" | "ask");
        let text = self.text(&node.zh, &node.en, node.id.span(), text_required, &what);
        let kind = match kind_name {
            "say" => {
                self.unused(node, "say", &["next"]);
                NodeKind::Say {
                    next: self.required_target(node, "say"),
                }
            }
            "choose" => {
                self.unused(node, "choose", &["options", "value"]);
                if node.options.len() < 2 {
                    self.error(
                        at.clone(),
                        format!("{what}: a `choose` node needs at least 2 options"),
                    );
                }
                let options = node.options.iter().map(|o| self.option(o)).collect();
                NodeKind::Choose {
                    options,
                    save_as: node.value.as_ref().map(|v| v.get_ref().clone()),
                }
            }
            "ask" => {
                self.unused(
                    node,
                    "ask",
                    &["next", "value", "check", "regex", "hint", "max_tries"],
                );
                let value = match &node.value {
                    Some(v) => v.get_ref().clone(),
                    None => {
                        self.error(at.clone(), format!("{what}: an `ask` node needs `value` (the name the answer is kept under)"));
                        String::new()
                    }
                };
                let check = match (&node.check, &node.regex) {
                    (Some(c), None) => match Kind::parse(c.get_ref()) {
                        Some(kind) => Check::Kind(kind),
                        None => {
                            let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                            self.error(
                                c.span(),
                                format!(
                                    "unknown check `{}` (one of: {})",
                                    c.get_ref(),
                                    kinds.join(", ")
                                ),
                            );
                            Check::Kind(Kind::Text)
                        }
                    },
                    (None, Some(r)) => self.regex(r).map_or(Check::Kind(Kind::Text), Check::Regex),
                    (Some(c), Some(_)) => {
                        self.error(
                            c.span(),
                            format!("{what}: give `check` or `regex`, not both"),
                        );
                        Check::Kind(Kind::Text)
                    }
                    (None, None) => Check::Kind(Kind::Text),
                };
                let hint = self.bilingual(&node.hint, at.clone(), &format!("{what}'s hint"));
                let max_tries = node.max_tries.as_ref().map_or(DEFAULT_MAX_TRIES, |m| {
                    if !(1..=10).contains(m.get_ref()) {
                        self.error(m.span(), "max_tries must be between 1 and 10");
                    }
                    *m.get_ref()
                });
                NodeKind::Ask {
                    value,
                    check,
                    hint,
                    max_tries,
                    optional: node.optional,
                    next: self.required_target(node, "ask"),
                }
            }
            "branch" => {
                self.unused(node, "branch", &["on", "cases", "else"]);
                let on = match &node.on {
                    Some(on) => on.get_ref().clone(),
                    None => {
                        self.error(
                            at.clone(),
                            format!("{what}: a `branch` node needs `on` (the value to look at)"),
                        );
                        String::new()
                    }
                };
                if node.cases.is_empty() {
                    self.error(
                        at.clone(),
                        format!("{what}: a `branch` node needs at least one [[node.cases]]"),
                    );
                }
                let cases = node.cases.iter().map(|c| self.case(c)).collect();
                let otherwise = match &node.otherwise {
                    Some(t) => self.target(t),
                    None => {
                        self.error(
                            at.clone(),
                            format!("dead end: {what} needs `else` for when no case applies"),
                        );
                        0
                    }
                };
                NodeKind::Branch {
                    on,
                    cases,
                    otherwise,
                }
            }
            "handoff" => {
                self.unused(node, "handoff", &["priority"]);
                NodeKind::Handoff {
                    priority: self.priority(node, Priority::Normal),
                }
            }
            "resolve" => {
                self.unused(node, "resolve", &["priority"]);
                NodeKind::Resolve {
                    priority: self.priority(node, Priority::Normal),
                }
            }
            "goto" => {
                self.unused(node, "goto", &["dialog"]);
                let dialog = match &node.dialog {
                    Some(d) => match self.dialogs.get(d.get_ref()) {
                        Some(&i) => i,
                        None => {
                            self.error(
                                d.span(),
                                format!("no dialog `{}` in the dialogs directory", d.get_ref()),
                            );
                            0
                        }
                    },
                    None => {
                        self.error(at.clone(), format!("{what}: a `goto` node needs `dialog`"));
                        0
                    }
                };
                NodeKind::Goto { dialog }
            }
            other => {
                self.error(
                    at.clone(),
                    format!("unknown node type `{other}` (one of: {KINDS})"),
                );
                NodeKind::Handoff {
                    priority: Priority::Normal,
                }
            }
        };
        Node {
            id: node.id.get_ref().clone(),
            text,
            kind,
        }
    }

    fn option(&mut self, option: &Spanned<OptionFile>) -> Choice {
        let span = option.span();
        let o = option.get_ref();
        let label = self.text(&o.zh, &o.en, span.clone(), true, "an option");
        let leads_to = match (&o.next, &o.intent) {
            (Some(next), None) => Leads::Node(self.target(next)),
            (None, Some(intent)) => {
                if !self.intents.contains(intent.get_ref()) {
                    self.error(
                        intent.span(),
                        format!("no intent `{}` in the intents directory", intent.get_ref()),
                    );
                }
                Leads::Intent(intent.get_ref().clone())
            }
            (Some(next), Some(_)) => {
                self.error(
                    next.span(),
                    "an option leads to `next` or to an `intent`, not both",
                );
                Leads::Node(0)
            }
            (None, None) => {
                self.error(span, "an option needs `next` (a node) or `intent`");
                Leads::Node(0)
            }
        };
        Choice {
            value: o
                .value
                .as_ref()
                .map(|v| v.get_ref().clone())
                .unwrap_or_else(|| label.en.clone()),
            label,
            leads_to,
        }
    }

    fn case(&mut self, case: &Spanned<CaseFile>) -> (Test, usize) {
        let c = case.get_ref();
        let tests = [
            c.equals.is_some(),
            c.one_of.is_some(),
            c.matches.is_some(),
            c.present.is_some(),
        ];
        let count = tests.iter().filter(|t| **t).count();
        if count != 1 {
            self.error(
                case.span(),
                "a case needs exactly one of `equals`, `one_of`, `matches`, `present`",
            );
        }
        let test = if let Some(e) = &c.equals {
            Test::Equals(vec![e.get_ref().clone()])
        } else if let Some(o) = &c.one_of {
            Test::Equals(o.get_ref().clone())
        } else if let Some(m) = &c.matches {
            self.regex(m).map_or(Test::Present(true), Test::Matches)
        } else {
            Test::Present(c.present.as_ref().is_none_or(|p| *p.get_ref()))
        };
        (test, self.target(&c.next))
    }

    fn unreachable(&mut self, files: &[Spanned<NodeFile>], nodes: &[Node]) {
        if nodes.is_empty() {
            return;
        }
        let mut seen = vec![false; nodes.len()];
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            stack.extend(successors(&nodes[i]));
        }
        for (i, reached) in seen.iter().enumerate() {
            if !reached {
                self.warnings.push(self.file.warning(
                    files[i].get_ref().id.span().start,
                    format!("node `{}` is unreachable from the start node", nodes[i].id),
                ));
            }
        }
    }
}

/// Nodes of the same dialog that may follow `node`.
fn successors(node: &Node) -> Vec<usize> {
    match &node.kind {
        NodeKind::Say { next } | NodeKind::Ask { next, .. } => vec![*next],
        NodeKind::Choose { options, .. } => options
            .iter()
            .filter_map(|o| match o.leads_to {
                Leads::Node(n) => Some(n),
                Leads::Intent(_) => None,
            })
            .collect(),
        NodeKind::Branch {
            cases, otherwise, ..
        } => cases.iter().map(|(_, n)| *n).chain([*otherwise]).collect(),
        NodeKind::Handoff { .. } | NodeKind::Resolve { .. } | NodeKind::Goto { .. } => Vec::new(),
    }
}

/// Cycles the engine would run around without waiting for the user
/// (`say` → `goto` → `say` …). Nodes that wait (`ask`, `choose`,
/// `resolve`) or end (`handoff`) break a cycle.
fn loops(
    dialogs: &Dialogs,
    parsed: &[(&SourceFile, DialogFile)],
    clean: &[bool],
) -> Vec<Diagnostic> {
    // Pass-through edges over (dialog, node).
    let edges = |(d, n): (usize, usize)| -> Vec<(usize, usize)> {
        let node = &dialogs.dialogs[d].nodes[n];
        match &node.kind {
            NodeKind::Say { .. } | NodeKind::Branch { .. } => {
                successors(node).into_iter().map(|m| (d, m)).collect()
            }
            NodeKind::Goto { dialog } => vec![(*dialog, 0)],
            _ => Vec::new(),
        }
    };
    // Iterative three-colour depth-first search.
    let mut colour: HashMap<(usize, usize), u8> = HashMap::new();
    let mut problems = Vec::new();
    for (d, dialog) in dialogs.dialogs.iter().enumerate() {
        for n in 0..dialog.nodes.len() {
            if colour.contains_key(&(d, n)) {
                continue;
            }
            let mut stack = vec![((d, n), 0usize)];
            colour.insert((d, n), 1);
            while let Some((at, next_edge)) = stack.pop() {
                let out = edges(at);
                if next_edge < out.len() {
                    stack.push((at, next_edge + 1));
                    let to = out[next_edge];
                    match colour.get(&to) {
                        None => {
                            colour.insert(to, 1);
                            stack.push((to, 0));
                        }
                        Some(1) if clean[to.0] => {
                            let (file, dialog_file) = &parsed[to.0];
                            let node = &dialog_file.node[to.1];
                            problems.push(file.error(
                                node.get_ref().id.span().start,
                                format!(
                                    "node `{}` is part of a loop that never waits for the user (say/branch/goto only)",
                                    node.get_ref().id.get_ref()
                                ),
                            ));
                        }
                        Some(_) => {}
                    }
                } else {
                    colour.insert(at, 2);
                }
            }
        }
    }
    problems
}
