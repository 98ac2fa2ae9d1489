//! Telegram's sending limits, kept by kefu itself: about one message a
//! second in a chat, 20 a minute in a group, 30 a second overall. A 429
//! holds the chat it concerns (nothing more is sent there until its
//! `retry_after` has passed) and the other chats go on; only a 429 on a
//! call that concerns no chat holds every chat. `retry_after` is capped at
//! [`MAX_RETRY_AFTER`].
//!
//! Each limit is a sliding window over the instants of the messages sent
//! (Telegram words its limits that way). A message is let through only
//! when every window has room at the same instant, and takes its place in
//! all of them at once, under one lock. Chained rate limiters (governor's,
//! one per quota) would each take their slot when they say yes, so a
//! message waiting on the overall limit would hold a chat's slot it has
//! not used yet, and two of a chat's messages could leave closer than a
//! second apart. teloxide's `Throttle` keeps all three windows together
//! too, but only for its own request types, and those parse every sent
//! message back in full (see [`super::send`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest a 429 holds a chat (or, for a call about no chat, every
/// chat). Telegram asks for up to a minute or more after a burst; past
/// this we try again, and a second 429 only holds the chat again, where
/// waiting the whole `retry_after` would leave a user without an answer
/// for that long on the strength of one answer.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// `retry_after` as kefu waits it: at most [`MAX_RETRY_AFTER`].
pub fn capped(retry_after: Duration) -> Duration {
    retry_after.min(MAX_RETRY_AFTER)
}

/// At most `count` messages in any `span`.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub count: usize,
    pub span: Duration,
}

impl Window {
    /// The earliest instant a message may go, given the instants of the
    /// messages sent (oldest first).
    fn earliest(self, sent: &VecDeque<Instant>) -> Option<Instant> {
        let len = sent.len();
        (len >= self.count).then(|| sent[len - self.count] + self.span)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Quotas {
    /// Any chat.
    pub chat: Window,
    /// Groups, supergroups and channels (negative chat ids) besides.
    pub group: Window,
    pub overall: Window,
}

impl Quotas {
    /// What the Bot API documents.
    pub const TELEGRAM: Quotas = Quotas {
        chat: Window {
            count: 1,
            span: Duration::from_secs(1),
        },
        group: Window {
            count: 20,
            span: Duration::from_secs(60),
        },
        overall: Window {
            count: 30,
            span: Duration::from_secs(1),
        },
    };
}

/// Chats quiet for this long are forgotten (their windows are empty).
fn forget_after(quotas: &Quotas) -> Duration {
    quotas.chat.span.max(quotas.group.span)
}

pub struct Limits {
    quotas: Quotas,
    state: Mutex<State>,
    /// Messages whose chat has room wait here, first come first served,
    /// for the overall window: one waiter polls it, not every chat's task
    /// (after a restart with a full outbox, thousands).
    turnstile: tokio::sync::Mutex<()>,
    /// Calls of `try_take` (to show that waiters do not all poll).
    #[cfg(test)]
    attempts: std::sync::atomic::AtomicUsize,
}

struct State {
    overall: VecDeque<Instant>,
    /// Per chat, the instants of its last messages (as many as its
    /// windows look at).
    chats: HashMap<i64, VecDeque<Instant>>,
    /// Chats a 429 holds, until when.
    held: HashMap<i64, Instant>,
    /// Every chat is held until then (a 429 on a call about no chat).
    frozen_until: Option<Instant>,
    forgotten_at: Instant,
}

fn is_group(chat: i64) -> bool {
    chat < 0
}

fn record(sent: &mut VecDeque<Instant>, keep: usize, now: Instant) {
    if sent.len() >= keep {
        sent.pop_front();
    }
    sent.push_back(now);
}

impl Limits {
    pub fn new(quotas: Quotas) -> Limits {
        Limits {
            quotas,
            state: Mutex::new(State {
                overall: VecDeque::with_capacity(quotas.overall.count),
                chats: HashMap::new(),
                held: HashMap::new(),
                frozen_until: None,
                forgotten_at: Instant::now(),
            }),
            turnstile: tokio::sync::Mutex::new(()),
            #[cfg(test)]
            attempts: Default::default(),
        }
    }

    /// When `chat`'s own windows (its messages `sent`) have room next and
    /// a 429 no longer holds it; None: they always had.
    fn chat_earliest(&self, chat: i64, state: &State) -> Option<Instant> {
        let held = state.held.get(&chat).copied();
        let Some(sent) = state.chats.get(&chat) else {
            return held;
        };
        let group = is_group(chat)
            .then(|| self.quotas.group.earliest(sent))
            .flatten();
        self.quotas.chat.earliest(sent).max(group).max(held)
    }

    /// When `chat`'s own windows next have room and no 429 holds it
    /// (None: now), without taking a place.
    fn chat_ready_at(&self, chat: i64, now: Instant) -> Option<Instant> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.chat_earliest(chat, &state).filter(|at| *at > now)
    }

    /// Takes a place for one message to `chat` at `now` if every limit
    /// allows it; otherwise says when to ask again.
    pub fn try_take(&self, chat: i64, now: Instant) -> Result<(), Instant> {
        #[cfg(test)]
        self.attempts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let quotas = self.quotas;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *state;
        let horizon = forget_after(&quotas);
        if now.saturating_duration_since(state.forgotten_at) >= horizon {
            state.chats.retain(|_, sent| {
                sent.back()
                    .is_some_and(|last| now.saturating_duration_since(*last) < horizon)
            });
            state.held.retain(|_, until| *until > now);
            state.forgotten_at = now;
        }
        let keep = if is_group(chat) {
            quotas.chat.count.max(quotas.group.count)
        } else {
            quotas.chat.count
        };
        let earliest = [
            state.frozen_until,
            quotas.overall.earliest(&state.overall),
            self.chat_earliest(chat, state),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(at) = earliest.filter(|at| *at > now) {
            return Err(at);
        }
        record(&mut state.overall, quotas.overall.count, now);
        record(
            state
                .chats
                .entry(chat)
                .or_insert_with(|| VecDeque::with_capacity(keep)),
            keep,
            now,
        );
        Ok(())
    }

    /// Waits until a message to `chat` may go, and takes its place: first
    /// until the chat's own windows have room, then in turn for the
    /// overall one. Returns whether it had to wait.
    pub async fn take(&self, chat: i64) -> bool {
        let mut waited = false;
        loop {
            if let Some(at) = self.chat_ready_at(chat, Instant::now()) {
                waited = true;
                tokio::time::sleep_until(at.into()).await;
                continue;
            }
            let _turn = self.turnstile.lock().await;
            loop {
                if self.chat_ready_at(chat, Instant::now()).is_some() {
                    // Another task sent to this chat meanwhile (a card to
                    // the agents' group): let the next in line go.
                    break;
                }
                match self.try_take(chat, Instant::now()) {
                    Ok(()) => return waited,
                    Err(at) => {
                        waited = true;
                        tokio::time::sleep_until(at.into()).await;
                    }
                }
            }
        }
    }

    /// Nothing is sent to `chat` before `until` (Telegram answered 429
    /// to a call about that chat).
    pub fn hold(&self, chat: i64, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let held = state.held.entry(chat).or_insert(until);
        *held = (*held).max(until);
    }

    /// Nothing is sent anywhere before `until` (Telegram answered 429 to
    /// a call about no chat).
    pub fn freeze(&self, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.frozen_until = state.frozen_until.max(Some(until));
    }

    /// Chats with messages in their windows.
    #[cfg(test)]
    fn chats_remembered(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .chats
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn limits() -> Limits {
        Limits::new(Quotas::TELEGRAM)
    }

    #[test]
    fn a_chat_gets_one_message_a_second_and_others_are_not_held_up() {
        let limits = limits();
        let t = Instant::now();
        assert_eq!(limits.try_take(1, t), Ok(()));
        assert_eq!(limits.try_take(1, t + SECOND / 2), Err(t + SECOND));
        assert_eq!(limits.try_take(2, t + SECOND / 2), Ok(()));
        assert_eq!(limits.try_take(1, t + SECOND), Ok(()));
        assert_eq!(limits.try_take(1, t + SECOND), Err(t + 2 * SECOND));
    }

    #[test]
    fn a_group_gets_twenty_a_minute() {
        let limits = limits();
        let t = Instant::now();
        let group = -100_123;
        for i in 0..20 {
            assert_eq!(
                limits.try_take(group, t + i * SECOND),
                Ok(()),
                "message {i}"
            );
        }
        // The 21st waits until the first is a minute old, not a second.
        assert_eq!(
            limits.try_take(group, t + 20 * SECOND),
            Err(t + 60 * SECOND)
        );
        assert_eq!(limits.try_take(group, t + 60 * SECOND), Ok(()));
        assert_eq!(
            limits.try_take(group, t + 60 * SECOND + SECOND / 2),
            Err(t + 61 * SECOND),
            "and one a second still"
        );
        // A private chat is not limited to twenty.
        for i in 0..25 {
            assert_eq!(limits.try_take(7, t + 100 * SECOND + i * SECOND), Ok(()));
        }
    }

    #[test]
    fn thirty_a_second_overall() {
        let limits = limits();
        let t = Instant::now();
        for chat in 0..30 {
            let at = t + Duration::from_millis(chat as u64);
            assert_eq!(limits.try_take(chat, at), Ok(()), "chat {chat}");
        }
        let late = t + Duration::from_millis(500);
        assert_eq!(limits.try_take(30, late), Err(t + SECOND));
        assert_eq!(limits.try_take(30, t + SECOND), Ok(()));
        // Refused messages took no place: the window frees one at a time.
        assert_eq!(
            limits.try_take(31, t + SECOND),
            Err(t + SECOND + Duration::from_millis(1))
        );
    }

    #[test]
    fn a_refused_message_takes_no_place_in_its_chat() {
        let limits = limits();
        let t = Instant::now();
        for chat in 0..30 {
            assert_eq!(limits.try_take(chat, t), Ok(()));
        }
        // Chat 99 is refused by the overall window ...
        assert_eq!(limits.try_take(99, t), Err(t + SECOND));
        // ... and once that has room it goes, not held back by a second
        // of its own.
        assert_eq!(limits.try_take(99, t + SECOND), Ok(()));
    }

    #[test]
    fn after_a_429_about_no_chat_nothing_goes_until_retry_after() {
        let limits = limits();
        let t = Instant::now();
        limits.freeze(t + 5 * SECOND);
        limits.freeze(t + 2 * SECOND);
        assert_eq!(limits.try_take(1, t), Err(t + 5 * SECOND));
        assert_eq!(limits.try_take(2, t + 4 * SECOND), Err(t + 5 * SECOND));
        assert_eq!(limits.try_take(2, t + 5 * SECOND), Ok(()));
    }

    #[test]
    fn a_429_holds_its_chat_only() {
        let limits = limits();
        let t = Instant::now();
        limits.hold(1, t + 5 * SECOND);
        limits.hold(1, t + 2 * SECOND);
        assert_eq!(limits.try_take(1, t), Err(t + 5 * SECOND));
        assert_eq!(limits.try_take(2, t), Ok(()), "another chat goes on");
        assert_eq!(limits.chat_ready_at(1, t), Some(t + 5 * SECOND));
        assert_eq!(limits.chat_ready_at(2, t + SECOND), None);
        assert_eq!(limits.try_take(1, t + 5 * SECOND), Ok(()));
        assert_eq!(capped(Duration::from_secs(60)), MAX_RETRY_AFTER);
        assert_eq!(capped(2 * SECOND), 2 * SECOND);
    }

    #[tokio::test]
    async fn a_held_chat_does_not_hold_up_the_others_in_line() {
        let limits = std::sync::Arc::new(limits());
        limits.hold(1, Instant::now() + 60 * SECOND);
        let held = {
            let limits = limits.clone();
            tokio::spawn(async move { limits.take(1).await })
        };
        tokio::task::yield_now().await;
        let start = Instant::now();
        for chat in 2..10 {
            limits.take(chat).await;
        }
        assert!(start.elapsed() < SECOND);
        assert!(!held.is_finished());
        held.abort();
    }

    #[tokio::test]
    async fn waiting_messages_go_in_turn_within_the_limits() {
        let limits = std::sync::Arc::new(Limits::new(Quotas {
            overall: Window {
                count: 5,
                span: Duration::from_millis(50),
            },
            ..Quotas::TELEGRAM
        }));
        let sent = std::sync::Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let mut tasks = Vec::new();
        // Chat 0 writes twice: its second message waits a second for its
        // chat, and the others are not held up meanwhile.
        for chat in [0, 0].into_iter().chain(1..40) {
            let (limits, sent) = (limits.clone(), sent.clone());
            tasks.push(tokio::spawn(async move {
                limits.take(chat).await;
                sent.lock().unwrap().push((chat, Instant::now()));
            }));
            tokio::task::yield_now().await;
        }
        for task in tasks {
            task.await.unwrap();
        }
        let sent = sent.lock().unwrap().clone();
        let order: Vec<i64> = sent.iter().map(|(chat, _)| *chat).collect();
        let expected: Vec<i64> = (0..40).chain([0]).collect();
        assert_eq!(order, expected, "first come, first served");
        for (i, (_, at)) in sent.iter().enumerate().skip(5) {
            assert!(
                *at - sent[i - 5].1 >= Duration::from_millis(50),
                "six messages within 50 ms"
            );
        }
        let zero: Vec<Instant> = sent
            .iter()
            .filter(|(c, _)| *c == 0)
            .map(|(_, at)| *at)
            .collect();
        assert!(zero[1] - zero[0] >= SECOND);
        assert!(start.elapsed() >= SECOND);
        // One waiter at a time watches the overall window: about one
        // attempt per message and one per wait, not one per waiter each
        // time the window frees a place.
        let attempts = limits.attempts.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            attempts <= 3 * sent.len(),
            "{attempts} attempts for {} messages",
            sent.len()
        );
    }

    #[test]
    fn quiet_chats_are_forgotten() {
        let limits = limits();
        let t = Instant::now() + SECOND;
        for chat in 0..1_000 {
            let _ = limits.try_take(chat, t + Duration::from_millis(chat as u64 * 40));
        }
        assert!(limits.chats_remembered() > 100);
        let later = t + 200 * SECOND;
        assert_eq!(limits.try_take(5_000, later), Ok(()));
        assert_eq!(limits.chats_remembered(), 1);
    }
}
