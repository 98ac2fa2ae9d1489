//! `sendMessage`, the call made for every reply, and `getUpdates`, posted
//! with teloxide's own reqwest client but read by kefu.
//!
//! teloxide reads every answer through an untagged enum, so serde first
//! copies the whole answer (here: Telegram's echo of the message sent,
//! its text and keyboard) into a tree of its own and then reads that tree
//! for one number. Here the envelope (`ok`, `result`, `description`,
//! `parameters`) is read straight from the bytes and the echo skipped.
//! The HTTP status is kept, too: a server error (5xx, from Telegram or a
//! proxy in front of it) is retried like a network failure, where
//! teloxide's error could not tell it from a refusal and the reply was
//! dropped. Errors are teloxide's [`RequestError`]s, so callers handle
//! both alike: an [`RequestError::Api`] is a refusal Telegram explained;
//! what it did not explain (an unreadable answer, a server error, an
//! answer without a result or a description) is an I/O error, retried.
//!
//! `getUpdates`' answer is handed back as it came: [`super::parse`] reads
//! its updates one by one, so one unreadable update is skipped instead
//! of failing the whole batch for good. Every other call stays
//! teloxide's.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use teloxide::types::{ChatId, Seconds};
use teloxide::{ApiError, RequestError};

/// The Bot API's answer to any call.
#[derive(Deserialize)]
struct Envelope<R> {
    ok: bool,
    result: Option<R>,
    description: Option<ApiError>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    migrate_to_chat_id: Option<i64>,
    retry_after: Option<u32>,
}

/// The new message's id, the only field of `sendMessage`'s answer kefu uses.
#[derive(Debug, Deserialize)]
struct Sent {
    message_id: i32,
}

/// An answer as it came: its HTTP status and body.
struct Answer {
    status: reqwest::StatusCode,
    body: bytes::Bytes,
}

impl Answer {
    /// The answer's `result`, or the error it stands for.
    ///
    /// A server error (HTTP 5xx, from Telegram or a proxy in front of it)
    /// that carries neither `retry_after` nor a readable body is an I/O
    /// error, which callers retry like a network failure: the request may
    /// well succeed the next time. An unreadable body is reported by kind
    /// and place only, never with its text (it may quote users).
    fn result<R: DeserializeOwned>(&self) -> Result<R, RequestError> {
        let envelope: Envelope<R> = match serde_json::from_slice(&self.body) {
            Ok(envelope) => envelope,
            Err(_) if self.status.is_server_error() => return Err(self.server_error()),
            Err(source) => {
                return Err(RequestError::InvalidJson {
                    source: Arc::new(source),
                    raw: Box::from(""),
                })
            }
        };
        if envelope.ok {
            if let Some(result) = envelope.result {
                return Ok(result);
            }
            return Err(self.unexplained("without a result"));
        }
        if let Some(parameters) = envelope.parameters {
            if let Some(seconds) = parameters.retry_after {
                return Err(RequestError::RetryAfter(Seconds::from_seconds(seconds)));
            }
            if let Some(chat) = parameters.migrate_to_chat_id {
                return Err(RequestError::MigrateToChatId(ChatId(chat)));
            }
        }
        if self.status.is_server_error() {
            return Err(self.server_error());
        }
        match envelope.description {
            Some(description) => Err(RequestError::Api(description)),
            None => Err(self.unexplained("without a description")),
        }
    }

    fn server_error(&self) -> RequestError {
        self.unexplained("")
    }

    /// An answer that explains nothing (retried like a network failure).
    fn unexplained(&self, what: &str) -> RequestError {
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(" {what}")
        };
        RequestError::Io(Arc::new(std::io::Error::other(format!(
            "the Bot API answered HTTP {}{what}",
            self.status
        ))))
    }
}

/// Posts `sendMessage` and `getUpdates`.
pub struct Api {
    client: reqwest::Client,
    /// `{api_url}/bot{token}/sendMessage`, made once (as teloxide makes a
    /// method's URL), not formatted and parsed again for every message.
    send_message: reqwest::Url,
    get_updates: reqwest::Url,
}

/// `{api_url}/bot{token}/{method}`.
fn method_url(bot: &teloxide::Bot, method: &str) -> reqwest::Url {
    let mut url = bot.api_url();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .push(&format!("bot{}", bot.token()))
            .push(method);
    }
    url
}

/// `getUpdates`' parameters.
#[derive(serde::Serialize)]
struct GetUpdates<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<i64>,
    timeout: u32,
    limit: usize,
    allowed_updates: &'a [&'a str],
}

impl Api {
    /// Uses `bot`'s client, API server and token.
    pub fn new(bot: &teloxide::Bot) -> Api {
        Api {
            client: bot.client().clone(),
            send_message: method_url(bot, "sendMessage"),
            get_updates: method_url(bot, "getUpdates"),
        }
    }

    /// Long-polls `getUpdates`; returns a successful answer's body as it
    /// came (its updates are read one by one by [`super::parse`]). The
    /// offset is an i64: an update id past `i32::MAX` still moves it on.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout: u32,
        limit: usize,
        allowed_updates: &[&str],
    ) -> Result<bytes::Bytes, RequestError> {
        let body = serde_json::to_vec(&GetUpdates {
            offset,
            timeout,
            limit,
            allowed_updates,
        })
        .map_err(|e| RequestError::Io(Arc::new(std::io::Error::other(e))))?;
        let answer = self.post(&self.get_updates, body).await?;
        if answer.status.is_success() {
            return Ok(answer.body);
        }
        match answer.result::<serde::de::IgnoredAny>() {
            Err(e) => Err(e),
            Ok(_) => Err(answer.unexplained("")),
        }
    }

    /// Sends a `sendMessage` body (JSON, made once per message, sent again
    /// as it is on a retry); returns the new message's id.
    pub async fn send_message(&self, body: bytes::Bytes) -> Result<i32, RequestError> {
        let answer = self.post(&self.send_message, body).await?;
        answer.result::<Sent>().map(|sent| sent.message_id)
    }

    /// Posts a JSON body to a method's URL; the status and the raw answer.
    async fn post(
        &self,
        url: &reqwest::Url,
        body: impl Into<reqwest::Body>,
    ) -> Result<Answer, RequestError> {
        let response = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        Ok(Answer {
            status: response.status(),
            body: response.bytes().await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn the_url_is_the_api_servers_own_path_then_the_token_and_method() {
        for (server, expected) in [
            (
                "http://127.0.0.1:8081",
                "http://127.0.0.1:8081/bot1:T/sendMessage",
            ),
            (
                "http://127.0.0.1:8081/",
                "http://127.0.0.1:8081/bot1:T/sendMessage",
            ),
            (
                "https://example.com/tg",
                "https://example.com/tg/bot1:T/sendMessage",
            ),
        ] {
            let bot = teloxide::Bot::new("1:T").set_api_url(reqwest::Url::parse(server).unwrap());
            assert_eq!(Api::new(&bot).send_message.as_str(), expected);
        }
    }

    #[test]
    fn answers_and_errors_are_read_like_teloxide_does() {
        let sent = answer(
            200,
            r#"{"ok":true,"result":{"message_id":7,"chat":{"id":1,"type":"private"},"text":"hi"}}"#,
        );
        assert_eq!(sent.result::<Sent>().unwrap().message_id, 7);
        type Expected = fn(&RequestError) -> bool;
        let cases: [(u16, &str, Expected); 8] = [
            (
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
                |e| matches!(e, RequestError::Api(ApiError::InvalidToken)),
            ),
            (
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
                |e| matches!(e, RequestError::Api(ApiError::BotBlocked)),
            ),
            (
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#,
                |e| matches!(e, RequestError::RetryAfter(s) if s.seconds() == 3),
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001}}"#,
                |e| matches!(e, RequestError::MigrateToChatId(ChatId(-1001))),
            ),
            // A proxy's error page: retried like a network failure.
            (502, "<html>Bad Gateway</html>", |e| {
                matches!(e, RequestError::Io(_))
            }),
            // Unreadable, and the text is not kept.
            (
                200,
                r#"{"ok":true,"result":{"message_id":"#,
                |e| matches!(e, RequestError::InvalidJson { raw, .. } if raw.is_empty()),
            ),
            // Readable but explaining nothing: retried, not a refusal.
            (200, r#"{"ok":true}"#, |e| matches!(e, RequestError::Io(_))),
            (400, r#"{"ok":false}"#, |e| matches!(e, RequestError::Io(_))),
        ];
        for (status, body, expected) in cases {
            let error = answer(status, body).result::<Sent>().unwrap_err();
            assert!(expected(&error), "{status} {body}: {error:?}");
        }
        // Telegram's own 5xx with a description is retried too.
        let internal = answer(
            500,
            r#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#,
        );
        assert!(matches!(
            internal.result::<Sent>(),
            Err(RequestError::Io(_))
        ));
    }
}
