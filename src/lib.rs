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
//! - [`dialog`] — dialog files, their validation, and the engine that walks them. Pure.
//! - [`ticket`] — tickets: numbers, states, queue order, SLA, the texts users see. Pure.
//! - [`brain`] — the conversation: session + input + time → new session + effects. Pure.
//! - [`store`] — the `Store` trait and `SledStore`, the only module that imports sled.
//! - [`app`] — the brain with a store: sessions kept, handoffs made tickets. Shared by all adapters.
//! - [`config`] — `kefu.toml` and environment overrides: the only reader of either.
//! - [`console`] — the terminal chat over the app.
//! - [`transcript`] — transcript tests (`kefu test`): user lines and expected bot lines.
//! - [`cli`] — operator tools: `check`, `match`, `eval`, `import`, `test`, `tickets`, `serve`.
//! - [`telegram`] — `kefu serve`: the Telegram adapter, the only module that imports teloxide.
//! - [`admin`] — `kefu serve`'s admin endpoint: health, Prometheus metrics, the read-only ticket API.

pub mod admin;
pub mod app;
pub mod brain;
pub mod cli;
pub mod config;
pub mod console;
pub mod diag;
pub mod dialog;
pub mod guard;
pub mod intent;
pub mod lang;
pub mod pack;
pub mod store;
pub mod telegram;
pub mod text;
pub mod ticket;
pub mod transcript;
