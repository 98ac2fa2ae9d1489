//! Scripted dialogs: the files operators write (`dialogs/*.toml`), compiled
//! and validated into an immutable [`Dialogs`], and the engine that walks
//! them one user turn at a time.
//!
//! A dialog is a small graph of nodes. Nodes that wait for the user
//! (`choose`, `ask`, `resolve`) end a turn; the others (`say`, `branch`,
//! `goto`, `handoff`) are passed through at once.

mod compile;
pub mod engine;
pub mod model;
pub mod values;

use std::collections::HashMap;

pub use compile::{compile, DialogSources};
pub use values::Kind;

use crate::lang::Lang;
use crate::ticket::Priority;

/// Text in both languages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.zh.is_empty() && self.en.is_empty()
    }
}

/// What an `ask` node accepts.
#[derive(Clone, Debug)]
pub enum Check {
    Kind(Kind),
    /// An operator's regular expression; the first match is the value.
    Regex(regex::Regex),
}

/// One option of a `choose` node.
#[derive(Clone, Debug)]
pub struct Choice {
    pub label: Text,
    pub leads_to: Leads,
    pub value: String,
}

/// Where a choice leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leads {
    /// A node of the same dialog.
    Node(usize),
    /// An intent (by id): its dialog, or its answer.
    Intent(String),
}

/// How a `branch` case tests a value.
#[derive(Clone, Debug)]
pub enum Test {
    Equals(Vec<String>),
    Matches(regex::Regex),
    Present(bool),
}

impl Test {
    pub fn holds(&self, value: Option<&str>) -> bool {
        match self {
            Test::Equals(options) => {
                value.is_some_and(|v| options.iter().any(|o| o.eq_ignore_ascii_case(v.trim())))
            }
            Test::Matches(regex) => value.is_some_and(|v| regex.is_match(v)),
            Test::Present(wanted) => value.is_some() == *wanted,
        }
    }
}

/// What a node does.
#[derive(Clone, Debug)]
pub enum NodeKind {
    Say {
        next: usize,
    },
    Choose {
        options: Vec<Choice>,
        save_as: Option<String>,
    },
    Ask {
        value: String,
        check: Check,
        hint: Text,
        max_tries: u32,
        optional: bool,
        next: usize,
    },
    Branch {
        on: String,
        cases: Vec<(Test, usize)>,
        otherwise: usize,
    },
    Handoff {
        priority: Priority,
    },
    /// "Did this help?": yes ends the dialog, no hands off.
    Resolve {
        priority: Priority,
    },
    Goto {
        dialog: usize,
    },
}

/// One node of a dialog.
#[derive(Clone, Debug)]
pub struct Node {
    pub id: String,
    pub text: Text,
    pub kind: NodeKind,
}

/// One compiled dialog; node 0 is the start.
#[derive(Clone, Debug)]
pub struct Dialog {
    pub id: String,
    pub nodes: Vec<Node>,
    by_id: HashMap<String, usize>,
}

impl Dialog {
    pub fn node(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    pub fn find(&self, node: &str) -> Option<usize> {
        self.by_id.get(node).copied()
    }
}

/// All dialogs of a pack: immutable, replaced whole on reload.
#[derive(Clone, Debug, Default)]
pub struct Dialogs {
    dialogs: Vec<Dialog>,
    by_id: HashMap<String, usize>,
}

impl Dialogs {
    pub fn find(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn get(&self, index: usize) -> &Dialog {
        &self.dialogs[index]
    }

    pub fn by_id(&self, id: &str) -> Option<&Dialog> {
        self.find(id).map(|i| &self.dialogs[i])
    }

    pub fn all(&self) -> &[Dialog] {
        &self.dialogs
    }

    pub fn len(&self) -> usize {
        self.dialogs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dialogs.is_empty()
    }
}
