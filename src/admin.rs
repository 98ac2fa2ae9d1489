//! The admin endpoint of `kefu serve`: `/healthz`, Prometheus `/metrics`
//! and a read-only ticket API (`/tickets`, `/tickets/N`, the same JSON as
//! `kefu tickets --json` and `kefu ticket N --json`).
//!
//! `/healthz` and `/metrics` carry no user data and are open (a Prometheus
//! scraper on loopback needs no secret). The ticket API holds transcripts,
//! Telegram ids and whatever users told the bot: it is served only when an
//! admin token is configured, and every request must carry it as
//! `Authorization: Bearer …` (compared in constant time). Binding beyond
//! loopback without a token is refused at start.
//!
//! The metrics are a handful of atomics written out in Prometheus' text
//! format by hand: a registry crate would add more code than it saves.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::store::Store;
use crate::ticket::Status;

/// Upper bounds (seconds) of the reply-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// What `kefu serve` counts. Cheap to update from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Updates received (messages, button presses, others).
    pub updates: AtomicU64,
    /// User messages and button presses handled by the brain.
    pub messages_in: AtomicU64,
    /// Messages delivered to Telegram.
    pub messages_out: AtomicU64,
    /// Redelivered updates recognised and skipped.
    pub duplicates: AtomicU64,
    /// Messages not processed because the user flooded.
    pub flood_dropped: AtomicU64,
    /// Tickets opened.
    pub handoffs: AtomicU64,
    /// 429 answers waited out.
    pub retries_429: AtomicU64,
    /// Messages held back by Telegram's rate limits (they waited).
    pub rate_limited: AtomicU64,
    /// Messages Telegram refused for good (blocked bot, deleted chat).
    pub send_failures: AtomicU64,
    /// `sendMessage` tries that failed and were tried again (network
    /// failures, server errors, unreadable answers).
    pub send_retries: AtomicU64,
    /// Updates skipped because they could not be read (or panicked the
    /// parser).
    pub unreadable_updates: AtomicU64,
    /// Polled batches whose ids restarted below the last one handled.
    pub update_id_restarts: AtomicU64,
    /// `getUpdates` answers with nothing new (waited before asking again).
    pub repeated_batches: AtomicU64,
    /// Successful and failed pack reloads.
    pub reloads: AtomicU64,
    pub reload_errors: AtomicU64,
    /// Free-text messages the classifier found ambiguous (the user was
    /// offered a choice) or did not understand (a fallback).
    pub ambiguous: AtomicU64,
    pub fallbacks: AtomicU64,
    /// Messages matched, by intent id.
    matched: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros_sum: AtomicU64,
    /// Why the store stopped taking writes, once it has: `/healthz` fails
    /// and `kefu serve` stops (exit non-zero) instead of hanging on.
    store_failure: std::sync::Mutex<Option<String>>,
    store_failed: tokio::sync::Notify,
}

pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// The store could not write (full disk, IO error): nothing more can
    /// be made durable, so the server must stop.
    pub fn fail_store(&self, error: &str) {
        let mut failure = self.store_failure.lock().unwrap_or_else(|e| e.into_inner());
        if failure.is_none() {
            tracing::error!(error, "the store cannot write: stopping");
            *failure = Some(error.to_string());
        }
        self.store_failed.notify_waiters();
        self.store_failed.notify_one();
    }

    /// Why the store failed, if it has.
    pub fn store_failure(&self) -> Option<String> {
        self.store_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Completes once the store has failed; returns why.
    pub async fn store_failed(&self) -> String {
        loop {
            let notified = self.store_failed.notified();
            if let Some(failure) = self.store_failure() {
                return failure;
            }
            notified.await;
        }
    }

    /// Counts what the classifier made of a message.
    pub fn count_verdict(&self, outcome: &crate::brain::Outcome) {
        use crate::brain::Outcome;
        match outcome {
            Outcome::Matched(intent) => {
                let mut matched = self.matched.lock().unwrap_or_else(|e| e.into_inner());
                *matched.entry(intent.clone()).or_default() += 1;
            }
            Outcome::Ambiguous => bump(&self.ambiguous),
            Outcome::Fallback => bump(&self.fallbacks),
        }
    }

    /// Records the time from receiving an update to its first reply sent.
    pub fn observe_latency(&self, latency: Duration) {
        let secs = latency.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        bump(&self.latency_count);
        self.latency_micros_sum
            .fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition; ticket counts come from the store.
    pub fn render(&self, store: &dyn Store) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64); 17] = [
            (
                "kefu_updates_total",
                "Telegram updates received",
                &self.updates,
            ),
            (
                "kefu_messages_in_total",
                "User messages and button presses handled",
                &self.messages_in,
            ),
            (
                "kefu_messages_out_total",
                "Messages delivered to Telegram",
                &self.messages_out,
            ),
            (
                "kefu_duplicate_updates_total",
                "Redelivered updates skipped",
                &self.duplicates,
            ),
            (
                "kefu_flood_dropped_total",
                "Messages dropped by flood control",
                &self.flood_dropped,
            ),
            ("kefu_handoffs_total", "Tickets opened", &self.handoffs),
            (
                "kefu_retry_after_total",
                "429 answers waited out",
                &self.retries_429,
            ),
            (
                "kefu_rate_limited_total",
                "Messages that waited for Telegram's rate limits",
                &self.rate_limited,
            ),
            (
                "kefu_send_failures_total",
                "Messages Telegram refused for good",
                &self.send_failures,
            ),
            (
                "kefu_send_retries_total",
                "sendMessage tries retried after a network failure, a server error or an unreadable answer",
                &self.send_retries,
            ),
            (
                "kefu_unreadable_updates_total",
                "Updates skipped because they could not be read",
                &self.unreadable_updates,
            ),
            (
                "kefu_update_id_restarts_total",
                "Batches whose update ids restarted below the last one handled",
                &self.update_id_restarts,
            ),
            (
                "kefu_repeated_batches_total",
                "getUpdates answers with no new update (waited before asking again)",
                &self.repeated_batches,
            ),
            (
                "kefu_reloads_total",
                "Successful pack reloads",
                &self.reloads,
            ),
            (
                "kefu_reload_errors_total",
                "Refused pack reloads",
                &self.reload_errors,
            ),
            (
                "kefu_ambiguous_total",
                "Messages that matched several intents (the user was asked which)",
                &self.ambiguous,
            ),
            (
                "kefu_fallbacks_total",
                "Messages not understood (the bot asked again or offered topics)",
                &self.fallbacks,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kefu_matched_total Messages matched, by intent\n# TYPE kefu_matched_total counter"
        );
        let matched = self.matched.lock().unwrap_or_else(|e| e.into_inner());
        for (intent, count) in matched.iter() {
            let _ = writeln!(out, "kefu_matched_total{{intent=\"{intent}\"}} {count}");
        }
        drop(matched);
        let _ = writeln!(
            out,
            "# HELP kefu_tickets Tickets by status\n# TYPE kefu_tickets gauge"
        );
        let tickets = store.tickets().unwrap_or_default();
        for status in [
            Status::Queued,
            Status::Assigned,
            Status::WaitingOnUser,
            Status::Resolved,
            Status::Closed,
        ] {
            let count = tickets.iter().filter(|t| t.status == status).count();
            let _ = writeln!(out, "kefu_tickets{{status=\"{}\"}} {count}", status.name());
        }
        let name = "kefu_reply_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} From receiving an update to its first reply delivered\n# TYPE {name} histogram"
        );
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.latency_micros_sum.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
        let _ = writeln!(
            out,
            "# HELP kefu_store_failed 1 once the store could not write (the server stops)\n# TYPE kefu_store_failed gauge\nkefu_store_failed {}",
            u8::from(self.store_failure().is_some())
        );
        out
    }
}

#[derive(Clone)]
struct AdminState {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

/// The token routes with user data require.
#[derive(Clone)]
struct Token(Arc<crate::config::Secret>);

/// Whether `headers` carry `Authorization: Bearer <token>`. The comparison
/// takes the same time wherever the first wrong byte is (`subtle`), so the
/// token cannot be found a byte at a time by timing answers.
fn authorized(headers: &axum::http::HeaderMap, token: &crate::config::Secret) -> bool {
    use subtle::ConstantTimeEq;
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return false;
    };
    let value = value.as_bytes();
    let given = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => value[7..].trim_ascii(),
        _ => return false,
    };
    bool::from(given.ct_eq(token.0.as_bytes()))
}

/// Refuses a request without the token: 401 with the scheme to use.
async fn require_token(
    State(token): State<Token>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if authorized(request.headers(), &token.0) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "an admin request without the token was refused");
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        "this endpoint needs `Authorization: Bearer <admin token>` (KEFU_ADMIN_TOKEN)",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    response
}

/// What the ticket API says when no token is configured.
async fn no_token() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "the ticket API is off: it holds user data and needs an admin token (KEFU_ADMIN_TOKEN or [serve] admin_token)",
    )
}

#[derive(serde::Deserialize)]
struct ListQuery {
    status: Option<String>,
}

fn json_response(value: &serde_json::Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string_pretty(value).unwrap_or_default(),
    )
        .into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into() });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn list(State(state): State<AdminState>, Query(query): Query<ListQuery>) -> Response {
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || {
        crate::cli::tickets_json(&*store, query.status.as_deref())
    })
    .await;
    match result {
        Ok(Ok(value)) => json_response(&value),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, format!("{e:#}")),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the request failed"),
    }
}

async fn show(State(state): State<AdminState>, Path(number): Path<String>) -> Response {
    let Some(n) = crate::ticket::parse_label(&number) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`{number}` is not a ticket number"),
        );
    };
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.ticket(n)).await {
        Ok(Ok(Some(ticket))) => json_response(&serde_json::to_value(&ticket).unwrap_or_default()),
        Ok(Ok(None)) => error(
            StatusCode::NOT_FOUND,
            format!("no ticket {}", crate::ticket::label(n)),
        ),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the request failed"),
    }
}

/// "ok", or 503 once the store cannot write.
async fn healthz(State(state): State<AdminState>) -> Response {
    match state.metrics.store_failure() {
        None => "ok\n".into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store failed: {why}\n"),
        )
            .into_response(),
    }
}

async fn metrics_text(State(state): State<AdminState>) -> Response {
    let AdminState { store, metrics } = state;
    let text = tokio::task::spawn_blocking(move || metrics.render(&*store))
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The admin routes over a store and the metrics. Routes with user data
/// exist only behind `token`.
pub fn router(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    token: Option<crate::config::Secret>,
) -> Router {
    let open = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text));
    let private = match token {
        Some(token) => Router::new()
            .route("/tickets", get(list))
            .route("/tickets/{number}", get(show))
            .route_layer(axum::middleware::from_fn_with_state(
                Token(Arc::new(token)),
                require_token,
            )),
        None => Router::new()
            .route("/tickets", get(no_token))
            .route("/tickets/{number}", get(no_token)),
    };
    open.merge(private)
        .with_state(AdminState { store, metrics })
}

/// Binds `address`; the server runs until `shutdown` completes. An address
/// beyond loopback is refused unless `token` guards the user data.
pub async fn serve(
    address: &str,
    token: Option<crate::config::Secret>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("admin address {address}: {e}"))?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() && token.is_none() {
        anyhow::bail!(
            "admin address {address}: not a loopback address, and no admin token is set; \
             set KEFU_ADMIN_TOKEN (or [serve] admin_token) or listen on 127.0.0.1"
        );
    }
    tracing::info!(%local, tickets = token.is_some(), "admin endpoint listening");
    let app = router(store, metrics, token);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "admin endpoint failed");
        }
    }))
}
