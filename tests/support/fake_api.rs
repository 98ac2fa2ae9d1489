//! A fake Telegram Bot API server on 127.0.0.1:0 for tests and the load
//! bench: just what teloxide calls for `kefu serve` (getMe, getUpdates
//! with offsets and long polling, sendMessage, answerCallbackQuery,
//! editMessageText/ReplyMarkup, setMyCommands, deleteWebhook,
//! deleteMessage, leaveChat). It records every call and can answer 429
//! with `retry_after` (for a method, or for one chat's messages), a
//! proxy's 502 page (a number of times, or for a while), or a 200 whose
//! body cannot be read. Updates are queued by the test (as JSON values, or
//! as raw text that need not be valid JSON) and served to getUpdates until
//! an offset confirms them, as Telegram does; after
//! [`FakeApi::restart_update_ids`], an offset past the last id is ignored,
//! as Telegram's server does with an offset "in the future".

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

/// The token the fake accepts; any other is Unauthorized.
pub const TOKEN: &str = "123456:TEST-token";
pub const BOT_ID: i64 = 123456;

/// One recorded API call.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub body: Value,
    pub at: Instant,
    /// Answered with 429.
    pub refused: bool,
}

#[derive(Default)]
struct Inner {
    /// Queued updates not yet confirmed by an offset: id, raw JSON text.
    updates: VecDeque<(i64, String)>,
    /// An offset past the last update id is ignored (updates are served
    /// from the first unconfirmed one).
    ignore_future_offsets: bool,
    /// Chat → (sendMessage answers still to fail with 429, retry_after).
    fail_chat: HashMap<i64, (u32, u32)>,
    /// Method → answers still to be a 200 with an unreadable body.
    garbled: HashMap<String, u32>,
    /// Method → answered with a 502 page until then.
    outage: HashMap<String, Instant>,
    next_update: i64,
    next_message: i64,
    calls: Vec<Call>,
    /// Method → (answers still to fail with 429, retry_after seconds).
    fail: HashMap<String, (u32, u32)>,
    /// Method → answers still to fail with a proxy's 502 page.
    bad_gateway: HashMap<String, u32>,
    /// Messages the bot sent, by message id (for callback queries).
    sent: HashMap<i64, Value>,
    /// Chat → a watcher told of every message sent there (the bench).
    watchers: HashMap<i64, mpsc::UnboundedSender<Instant>>,
}

pub struct FakeState {
    inner: Mutex<Inner>,
    new_updates: Notify,
}

/// A running fake server.
pub struct FakeApi {
    pub url: String,
    pub state: Arc<FakeState>,
    _runtime: Option<tokio::runtime::Runtime>,
}

fn ok(result: Value) -> Response {
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn chat_json(id: i64) -> Value {
    if id < 0 {
        json!({ "id": id, "type": "supergroup", "title": "Group" })
    } else {
        json!({ "id": id, "type": "private", "first_name": "User" })
    }
}

fn bot_user() -> Value {
    json!({ "id": BOT_ID, "is_bot": true, "first_name": "kefu", "username": "kefu_test_bot" })
}

/// The fields of a multipart form (teloxide sends `setWebhook` so, as it
/// may carry a certificate) as a JSON object of strings.
fn form_fields(body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split("\r\n--") {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let value = value.trim_end_matches("\r\n").trim_end_matches("--");
        fields.insert(name.to_string(), Value::String(value.to_string()));
    }
    if fields.is_empty() {
        Value::Null
    } else {
        Value::Object(fields)
    }
}

pub fn user_json(id: i64, lang: &str) -> Value {
    json!({ "id": id, "is_bot": false, "first_name": "User", "language_code": lang })
}

async fn api(
    State(state): State<Arc<FakeState>>,
    Path((token, method)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| form_fields(&body));
    // teloxide writes `SendMessage`; Telegram ignores the case.
    let mut chars = method.chars();
    let method: String = chars
        .next()
        .map(|c| c.to_ascii_lowercase())
        .into_iter()
        .chain(chars)
        .collect();
    if token != format!("bot{TOKEN}") {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "ok": false, "error_code": 401, "description": "Unauthorized" })),
        )
            .into_response();
    }
    {
        let mut inner = state.inner.lock().unwrap();
        let down = inner
            .outage
            .get(&method)
            .is_some_and(|until| Instant::now() < *until);
        let gateway = down
            || match inner.bad_gateway.get_mut(&method) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    true
                }
                _ => false,
            };
        let chat = body["chat_id"].as_i64();
        let garbled = match inner.garbled.get_mut(&method) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        };
        let refusal = if gateway {
            Some(Refusal::BadGateway)
        } else if garbled {
            Some(Refusal::Garbled)
        } else {
            let per_chat = match (method.as_str(), chat) {
                ("sendMessage", Some(chat)) => match inner.fail_chat.get_mut(&chat) {
                    Some((left, after)) if *left > 0 => {
                        *left -= 1;
                        Some(Refusal::TooMany(*after))
                    }
                    _ => None,
                },
                _ => None,
            };
            per_chat.or_else(|| match inner.fail.get_mut(&method) {
                Some((left, after)) if *left > 0 => {
                    *left -= 1;
                    Some(Refusal::TooMany(*after))
                }
                _ => None,
            })
        };
        inner.calls.push(Call {
            method: method.clone(),
            body: body.clone(),
            at: Instant::now(),
            refused: refusal.is_some(),
        });
        match refusal {
            Some(Refusal::BadGateway) => {
                return (
                    axum::http::StatusCode::BAD_GATEWAY,
                    "<html><body><h1>502 Bad Gateway</h1></body></html>",
                )
                    .into_response();
            }
            Some(Refusal::Garbled) => {
                // Cut short: what a broken proxy or connection leaves.
                return (
                    axum::http::StatusCode::OK,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"ok":true,"result":{"message_id":"#,
                )
                    .into_response();
            }
            Some(Refusal::TooMany(after)) => {
                return (
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    axum::Json(json!({
                        "ok": false,
                        "error_code": 429,
                        "description": format!("Too Many Requests: retry after {after}"),
                        "parameters": { "retry_after": after }
                    })),
                )
                    .into_response();
            }
            None => {}
        }
    }
    match method.as_str() {
        "getMe" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "kefu", "username": "kefu_test_bot",
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false
        })),
        "getUpdates" => get_updates(&state, &body).await,
        "sendMessage" => {
            let chat = body["chat_id"].as_i64().unwrap_or_default();
            let mut inner = state.inner.lock().unwrap();
            inner.next_message += 1;
            let mut message = json!({
                "message_id": inner.next_message,
                "date": now_secs(),
                "chat": chat_json(chat),
                "from": bot_user(),
                "text": body["text"].clone(),
            });
            if !body["reply_markup"].is_null() {
                message["reply_markup"] = body["reply_markup"].clone();
            }
            let id = inner.next_message;
            inner.sent.insert(id, message.clone());
            if let Some(watcher) = inner.watchers.get(&chat) {
                let _ = watcher.send(Instant::now());
            }
            ok(message)
        }
        "editMessageText" | "editMessageReplyMarkup" => {
            let id = body["message_id"].as_i64().unwrap_or_default();
            let mut inner = state.inner.lock().unwrap();
            let Some(message) = inner.sent.get_mut(&id) else {
                return axum::Json(json!({ "ok": false, "error_code": 400,
                    "description": "Bad Request: message to edit not found" }))
                .into_response();
            };
            if let Some(text) = body["text"].as_str() {
                message["text"] = json!(text);
            }
            match body.get("reply_markup") {
                Some(markup) if !markup.is_null() => message["reply_markup"] = markup.clone(),
                _ => {
                    message.as_object_mut().unwrap().remove("reply_markup");
                }
            }
            ok(message.clone())
        }
        "answerCallbackQuery"
        | "setMyCommands"
        | "deleteWebhook"
        | "deleteMessage"
        | "leaveChat"
        | "setWebhook" => ok(json!(true)),
        _ => axum::Json(
            json!({ "ok": false, "error_code": 404, "description": "Not Found: method not found" }),
        )
        .into_response(),
    }
}

/// An answer the test asked the fake to give instead of the real one.
enum Refusal {
    /// A proxy's 502 page (HTML, not the Bot API's JSON).
    BadGateway,
    /// HTTP 200 with a body cut short.
    Garbled,
    /// 429 with this `retry_after`.
    TooMany(u32),
}

async fn get_updates(state: &Arc<FakeState>, body: &Value) -> Response {
    let offset = body["offset"].as_i64();
    let timeout = body["timeout"].as_u64().unwrap_or(0).min(30);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = state.new_updates.notified();
        {
            let mut inner = state.inner.lock().unwrap();
            let future = inner.ignore_future_offsets
                && offset.is_some_and(|offset| offset > inner.next_update + 10);
            if let Some(offset) = offset.filter(|_| !future) {
                while inner.updates.front().is_some_and(|(id, _)| *id < offset) {
                    inner.updates.pop_front();
                }
            }
            if !inner.updates.is_empty() || tokio::time::Instant::now() >= deadline {
                let batch: Vec<&str> = inner
                    .updates
                    .iter()
                    .take(100)
                    .map(|(_, raw)| raw.as_str())
                    .collect();
                // Raw text: an update need not be valid JSON.
                let body = format!(r#"{{"ok":true,"result":[{}]}}"#, batch.join(","));
                return (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response();
            }
        }
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

impl FakeApi {
    /// Starts on its own runtime (for synchronous tests).
    pub fn start() -> FakeApi {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut api = runtime.block_on(FakeApi::start_async());
        api._runtime = Some(runtime);
        api
    }

    /// Starts on the current runtime.
    pub async fn start_async() -> FakeApi {
        let state = Arc::new(FakeState {
            inner: Mutex::new(Inner {
                next_update: 1000,
                ..Inner::default()
            }),
            new_updates: Notify::new(),
        });
        let app = Router::new()
            .route("/{token}/{method}", post(api))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeApi {
            url,
            state,
            _runtime: None,
        }
    }

    /// An update a user's message makes, for posting to a webhook (not
    /// queued for getUpdates).
    pub fn message_update(&self, user: i64, lang: &str, text: &str) -> Value {
        let message = self.message(user, user, lang, text);
        let mut inner = self.state.inner.lock().unwrap();
        inner.next_update += 1;
        json!({ "update_id": inner.next_update, "message": message })
    }

    fn push(&self, kind: &str, payload: Value) -> i64 {
        let mut inner = self.state.inner.lock().unwrap();
        inner.next_update += 1;
        let id = inner.next_update;
        let update = json!({ "update_id": id, kind: payload }).to_string();
        inner.updates.push_back((id, update));
        drop(inner);
        self.state.new_updates.notify_waiters();
        id
    }

    /// Queues an update as raw text (any text: it need not be JSON) with
    /// the id getUpdates' offsets confirm it by. Ids must grow.
    pub fn push_raw(&self, id: i64, raw: &str) {
        self.state
            .inner
            .lock()
            .unwrap()
            .updates
            .push_back((id, raw.to_string()));
        self.state.new_updates.notify_waiters();
    }

    /// The next update id; ids given out so far are not touched.
    pub fn next_update_id(&self) -> i64 {
        self.state.inner.lock().unwrap().next_update + 1
    }

    /// Telegram restarts its update ids: the next one is `next`, and from
    /// now on an offset past the last id given out is ignored.
    pub fn restart_update_ids(&self, next: i64) {
        let mut inner = self.state.inner.lock().unwrap();
        inner.next_update = next - 1;
        inner.ignore_future_offsets = true;
    }

    /// A private message as raw JSON text with `text_json` (a JSON string
    /// literal, written as the test likes) as its text.
    pub fn raw_message(&self, id: i64, user: i64, text_json: &str) -> String {
        let mut message = self.message(user, user, "en", "");
        message["text"] = json!("@@TEXT@@");
        json!({ "update_id": id, "message": message })
            .to_string()
            .replace("\"@@TEXT@@\"", text_json)
    }

    fn next_message_id(&self) -> i64 {
        let mut inner = self.state.inner.lock().unwrap();
        inner.next_message += 1;
        inner.next_message
    }

    /// A message `user` writes in `chat` (a private chat's id is the
    /// user's).
    fn message(&self, chat: i64, user: i64, lang: &str, text: &str) -> Value {
        json!({
            "message_id": self.next_message_id(),
            "date": now_secs(),
            "chat": chat_json(chat),
            "from": user_json(user, lang),
            "text": text,
        })
    }

    /// A user writes in a private chat.
    pub fn send_text(&self, user: i64, lang: &str, text: &str) -> i64 {
        self.push("message", self.message(user, user, lang, text))
    }

    /// A user wrote in a private chat at `date` (Unix seconds).
    pub fn send_text_at(&self, user: i64, lang: &str, text: &str, date: i64) -> i64 {
        let mut message = self.message(user, user, lang, text);
        message["date"] = json!(date);
        self.push("message", message)
    }

    /// A user forwards a message from `handle` into their private chat.
    pub fn send_forwarded(&self, user: i64, lang: &str, handle: &str, text: &str) -> i64 {
        let mut message = self.message(user, user, lang, text);
        message["forward_origin"] = json!({
            "type": "user",
            "date": now_secs() - 60,
            "sender_user": { "id": 424242, "is_bot": false, "first_name": "Support", "username": handle },
        });
        self.push("message", message)
    }

    /// Someone writes in a group.
    pub fn send_group_text(&self, group: i64, user: i64, text: &str) -> i64 {
        self.push("message", self.message(group, user, "en", text))
    }

    /// Someone in a group replies to a message the bot sent there.
    pub fn send_group_reply(&self, group: i64, user: i64, to: i64, text: &str) -> i64 {
        let replied = self.state.inner.lock().unwrap().sent[&to].clone();
        let mut message = self.message(group, user, "en", text);
        message["reply_to_message"] = replied;
        self.push("message", message)
    }

    /// A user presses a button of a message the bot sent.
    pub fn press(&self, user: i64, message_id: i64, data: &str) -> i64 {
        let message = self.state.inner.lock().unwrap().sent[&message_id].clone();
        self.push(
            "callback_query",
            json!({
                "id": format!("cb{message_id}-{data}"),
                "from": user_json(user, "en"),
                "chat_instance": "ci",
                "data": data,
                "message": message,
            }),
        )
    }

    /// The next `count` answers to `method` are 429 with `retry_after`.
    pub fn fail_with_429(&self, method: &str, count: u32, retry_after: u32) {
        self.state
            .inner
            .lock()
            .unwrap()
            .fail
            .insert(method.to_string(), (count, retry_after));
    }

    /// The next `count` messages to `chat` are answered 429 with
    /// `retry_after`.
    pub fn fail_chat_with_429(&self, chat: i64, count: u32, retry_after: u32) {
        self.state
            .inner
            .lock()
            .unwrap()
            .fail_chat
            .insert(chat, (count, retry_after));
    }

    /// The next `count` answers to `method` are HTTP 200 with a body cut
    /// short (the call is recorded as refused: nothing is kept).
    pub fn garble(&self, method: &str, count: u32) {
        self.state
            .inner
            .lock()
            .unwrap()
            .garbled
            .insert(method.to_string(), count);
    }

    /// Every answer to `method` is a proxy's 502 page for `how_long`.
    pub fn outage(&self, method: &str, how_long: Duration) {
        self.state
            .inner
            .lock()
            .unwrap()
            .outage
            .insert(method.to_string(), Instant::now() + how_long);
    }

    /// The next `count` answers to `method` are a proxy's 502 page (HTML,
    /// not the Bot API's JSON).
    pub fn fail_with_502(&self, method: &str, count: u32) {
        self.state
            .inner
            .lock()
            .unwrap()
            .bad_gateway
            .insert(method.to_string(), count);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.inner.lock().unwrap().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// The messages the bot sent to `chat`, in order, with their ids.
    pub fn sent_to(&self, chat: i64) -> Vec<(i64, Value)> {
        let inner = self.state.inner.lock().unwrap();
        let mut sent: Vec<(i64, Value)> = inner
            .sent
            .iter()
            .filter(|(_, m)| m["chat"]["id"].as_i64() == Some(chat))
            .map(|(id, m)| (*id, m.clone()))
            .collect();
        sent.sort_by_key(|(id, _)| *id);
        sent
    }

    /// The texts the bot sent to `chat` (as first sent, before edits).
    pub fn texts_to(&self, chat: i64) -> Vec<String> {
        self.calls_to("sendMessage")
            .iter()
            .filter(|c| c.body["chat_id"].as_i64() == Some(chat) && !c.refused)
            .map(|c| c.body["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Updates queued and not yet confirmed by an offset.
    pub fn unconfirmed(&self) -> usize {
        self.state.inner.lock().unwrap().updates.len()
    }

    /// Tells of every message sent to `chat` (async use).
    pub fn watch_chat(&self, chat: i64) -> mpsc::UnboundedReceiver<Instant> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.state.inner.lock().unwrap().watchers.insert(chat, tx);
        rx
    }

    /// Waits (polling) until `done` holds, or panics after `timeout`.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&FakeApi) -> bool,
    ) {
        let start = Instant::now();
        while !done(self) {
            if start.elapsed() > timeout {
                panic!(
                    "timed out waiting for {what}; calls: {:#?}",
                    self.method_counts()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn method_counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for call in self.calls() {
            *counts.entry(call.method).or_default() += 1;
        }
        counts
    }
}
