//! kefu (客服, "customer service"): a rule-based, bilingual customer-service
//! bot for a cryptocurrency exchange.
//!
//! A pure, synchronous core decides everything; thin adapters do IO.
//!
//! # Layout
//!
//! - [`lang`] — the reply language (zh, en) and its detection.
//! - [`text`] — normalisation and segmentation (jieba for Chinese), by character.
//! - [`diag`] — diagnostics with `file:line:column` for operator-edited files.
//! - [`guard`] — secret detection and redaction, agent-reply checks, phishing-link checks. Pure.
//! - [`intent`] — intent files, their compilation into an `IntentSet`, and the matcher.
//! - [`pack`] — reads a pack's files from disk (an adapter; the core never touches the file system).
//! - [`brain`] — the conversation: message → reply effects. Pure.
//! - [`console`] — the terminal chat over the brain.
//! - [`cli`] — operator tools: `check`, `match`, `eval`, `import`.

pub mod brain;
pub mod cli;
pub mod console;
pub mod diag;
pub mod guard;
pub mod intent;
pub mod lang;
pub mod pack;
pub mod text;
