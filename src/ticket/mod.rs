//! Tickets: what a handoff becomes. Pure: numbers and times are passed in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::brain::{Handoff, Line};
use crate::dialog::engine::HandoffReason;
use crate::lang::Lang;

/// How soon a human must look. Ordered: `Urgent` sorts first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Security: a compromised account, funds leaving without consent.
    Urgent,
    High,
    Normal,
}

impl Priority {
    pub fn parse(text: &str) -> Option<Priority> {
        match text.trim().to_ascii_lowercase().as_str() {
            "urgent" => Some(Priority::Urgent),
            "high" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Priority::Urgent => lang.pick("紧急", "urgent"),
            Priority::High => lang.pick("高", "high"),
            Priority::Normal => lang.pick("普通", "normal"),
        }
    }
}

/// Where a ticket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Assigned,
    WaitingOnUser,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Queued,
        Status::Assigned,
        Status::WaitingOnUser,
        Status::Resolved,
        Status::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Assigned => "assigned",
            Status::WaitingOnUser => "waiting_on_user",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == text.trim())
    }

    /// Still needs a human (or the user).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Queued | Status::Assigned | Status::WaitingOnUser
        )
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::Queued => lang.pick("排队中", "queued"),
            Status::Assigned => lang.pick("处理中（已有客服接手）", "with an agent"),
            Status::WaitingOnUser => lang.pick("等待您的回复", "waiting for your reply"),
            Status::Resolved => lang.pick("已解决", "resolved"),
            Status::Closed => lang.pick("已关闭", "closed"),
        }
    }
}

/// How long each priority may wait before a human takes it (seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    pub urgent_secs: i64,
    pub high_secs: i64,
    pub normal_secs: i64,
}

impl Default for Sla {
    fn default() -> Self {
        Sla {
            urgent_secs: 15 * 60,
            high_secs: 60 * 60,
            normal_secs: 4 * 60 * 60,
        }
    }
}

impl Sla {
    pub fn due(&self, priority: Priority, created_at: i64) -> i64 {
        created_at
            + match priority {
                Priority::Urgent => self.urgent_secs,
                Priority::High => self.high_secs,
                Priority::Normal => self.normal_secs,
            }
    }
}

/// An internal note by an agent; never shown to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub author: String,
    pub text: String,
    pub at: i64,
}

/// A handoff, numbered and tracked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: u64,
    /// The user's chat.
    pub chat: i64,
    pub lang: Lang,
    pub intent: Option<String>,
    pub dialog: Option<String>,
    pub priority: Priority,
    pub reason: HandoffReason,
    /// What the dialog collected.
    pub values: BTreeMap<String, String>,
    /// The conversation, redacted.
    pub transcript: Vec<Line>,
    pub status: Status,
    /// The agent's user id and display name.
    pub agent: Option<(i64, String)>,
    pub created_at: i64,
    pub updated_at: i64,
    pub due_at: i64,
    pub taken_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub notes: Vec<Note>,
    pub rating: Option<u8>,
    /// Set once the ticket has been re-announced as overdue.
    pub overdue: bool,
    /// Agents' replies the phishing screen stopped (added in v1 without a
    /// version bump: older tickets read as none).
    #[serde(default)]
    pub blocked_replies: Vec<BlockedReply>,
}

/// An agent's reply that was not sent: who, when and why (never the text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedReply {
    pub agent: i64,
    pub at: i64,
    pub kinds: Vec<String>,
}

impl Ticket {
    /// A new, queued ticket from a handoff. `number` is allocated by the
    /// store.
    pub fn from_handoff(number: u64, chat: i64, handoff: &Handoff, now: i64, sla: &Sla) -> Ticket {
        Ticket {
            number,
            chat,
            lang: handoff.lang,
            intent: handoff.intent.clone(),
            dialog: handoff.dialog.clone(),
            priority: handoff.priority,
            reason: handoff.reason,
            values: handoff.values.clone(),
            transcript: handoff.transcript.clone(),
            status: Status::Queued,
            agent: None,
            created_at: now,
            updated_at: now,
            due_at: sla.due(handoff.priority, now),
            taken_at: None,
            resolved_at: None,
            notes: Vec::new(),
            rating: None,
            overdue: false,
            blocked_replies: Vec::new(),
        }
    }

    /// `T-000123`.
    pub fn label(&self) -> String {
        label(self.number)
    }
}

/// `T-000123`.
pub fn label(number: u64) -> String {
    format!("T-{number:06}")
}

/// Reads `T-000123`, `t-123`, `#123` or `123`.
pub fn parse_label(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .strip_prefix("T-")
        .or_else(|| text.strip_prefix("t-"))
        .or_else(|| text.strip_prefix('#'))
        .unwrap_or(text);
    digits.parse().ok().filter(|n| *n > 0)
}

/// The order agents take tickets in: priority, then age.
pub fn queue_order(a: &Ticket, b: &Ticket) -> std::cmp::Ordering {
    (a.priority, a.created_at, a.number).cmp(&(b.priority, b.created_at, b.number))
}

/// 1-based position of `ticket` among the queued tickets, if it is queued.
pub fn position(ticket: &Ticket, queued: &[Ticket]) -> Option<usize> {
    if ticket.status != Status::Queued {
        return None;
    }
    Some(
        queued
            .iter()
            .filter(|t| t.status == Status::Queued && t.number != ticket.number)
            .filter(|t| queue_order(t, ticket).is_lt())
            .count()
            + 1,
    )
}

/// Expected wait (seconds) at `position`, from how long recent tickets
/// waited to be taken (the median); with no history, the SLA.
pub fn estimated_wait(position: usize, recent_waits: &[i64], sla_secs: i64) -> i64 {
    if recent_waits.is_empty() {
        return sla_secs;
    }
    let mut waits = recent_waits.to_vec();
    waits.sort_unstable();
    let median = waits[waits.len() / 2].max(60);
    median * position.max(1) as i64
}

/// "about 25 minutes" / "约 25 分钟".
pub fn duration_text(secs: i64, lang: Lang) -> String {
    if secs < 60 {
        return lang.pick("不到 1 分钟", "less than a minute").to_string();
    }
    let minutes = (secs + 59) / 60;
    match (lang, minutes) {
        (Lang::Zh, m) if m < 90 => format!("约 {m} 分钟"),
        (Lang::Zh, m) => format!("约 {} 小时", (m + 30) / 60),
        (Lang::En, m) if m < 90 => format!("about {m} minute{}", if m == 1 { "" } else { "s" }),
        (Lang::En, m) => format!("about {} hours", (m + 30) / 60),
    }
}

/// What the user is told when their ticket is opened.
pub fn opened_text(ticket: &Ticket, position: usize, wait_secs: i64) -> String {
    let wait = duration_text(wait_secs, ticket.lang);
    match ticket.lang {
        Lang::Zh => format!(
            "已为您创建工单 {}（优先级：{}）。您目前排在第 {position} 位，预计等待{wait}。客服接手后会在这里直接回复您，输入 /status 可随时查看进度。",
            ticket.label(),
            ticket.priority.label(Lang::Zh)
        ),
        Lang::En => format!(
            "Your ticket is {} (priority: {}). You are number {position} in the queue; the expected wait is {wait}. An agent will reply right here; type /status any time to see where it stands.",
            ticket.label(),
            ticket.priority.label(Lang::En)
        ),
    }
}

/// `/status`: each of the user's tickets with its state.
pub fn status_text(tickets: &[(Ticket, Option<usize>)], lang: Lang, now: i64) -> String {
    if tickets.is_empty() {
        return lang
            .pick(
                "您目前没有进行中的工单。需要人工帮助请输入 /human。",
                "You have no open tickets. Type /human if you need a person.",
            )
            .to_string();
    }
    let mut out = String::from(lang.pick("您的工单：", "Your tickets:"));
    for (ticket, position) in tickets {
        let ago = duration_text(now - ticket.updated_at, lang);
        let place = match (position, lang) {
            (Some(p), Lang::Zh) => format!("，排在第 {p} 位"),
            (Some(p), Lang::En) => format!(", number {p} in the queue"),
            (None, _) => String::new(),
        };
        let line = match lang {
            Lang::Zh => format!(
                "\n{}：{}{place}（最近更新：{ago}前）",
                ticket.label(),
                ticket.status.label(lang)
            ),
            Lang::En => format!(
                "\n{}: {}{place} (last update {ago} ago)",
                ticket.label(),
                ticket.status.label(lang)
            ),
        };
        out.push_str(&line);
    }
    out
}

/// The user's ticket was taken by an agent.
pub fn taken_text(ticket: &Ticket, agent: &str) -> String {
    match ticket.lang {
        Lang::Zh => format!(
            "客服 {agent} 已接手您的工单 {}，会在这里直接回复您。您在这里发送的消息都会转给 {agent}。",
            ticket.label()
        ),
        Lang::En => format!(
            "{agent} from our support team has taken your ticket {} and will reply right here. Anything you write here now goes to {agent}.",
            ticket.label()
        ),
    }
}

/// An agent's reply, relayed by the bot.
pub fn agent_says(ticket: &Ticket, agent: &str, text: &str) -> String {
    match ticket.lang {
        Lang::Zh => format!("💬 客服 {agent}（{}）：\n{text}", ticket.label()),
        Lang::En => format!("💬 {agent} (support, {}):\n{text}", ticket.label()),
    }
}

/// The ticket was resolved: the user is asked for a rating.
pub fn resolved_text(ticket: &Ticket) -> String {
    match ticket.lang {
        Lang::Zh => format!(
            "您的工单 {} 已处理完毕。请为本次服务打分（1 = 很差，5 = 很好）。如果问题还没解决，直接告诉我或输入 /human。",
            ticket.label()
        ),
        Lang::En => format!(
            "Your ticket {} has been resolved. How did we do? Rate us from 1 (poor) to 5 (great). If it isn't solved, just tell me or type /human.",
            ticket.label()
        ),
    }
}

/// The buttons under [`resolved_text`]: values `rate:<number>:<stars>`.
pub fn rating_choices(ticket: &Ticket) -> Vec<crate::brain::Choice> {
    (1..=5)
        .map(|stars| {
            crate::brain::Choice::new(
                "⭐".repeat(stars),
                format!("rate:{}:{stars}", ticket.number),
            )
        })
        .collect()
}

pub fn rating_thanks(lang: Lang) -> &'static str {
    lang.pick(
        "感谢您的评价！还有问题随时找我。",
        "Thank you for the rating! I'm here if anything else comes up.",
    )
}

/// A handoff while a ticket is already open: it goes into that ticket.
pub fn added_to_open(ticket: &Ticket) -> String {
    match ticket.lang {
        Lang::Zh => format!(
            "您已有进行中的工单 {}，我已把这次的信息补充进去，不会重复排队。输入 /status 查看进度。",
            ticket.label()
        ),
        Lang::En => format!(
            "You already have ticket {} open, so I've added this to it rather than queueing you again. Type /status to see where it stands.",
            ticket.label()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(number: u64, priority: Priority, created_at: i64) -> Ticket {
        let handoff = Handoff {
            priority,
            reason: HandoffReason::Requested,
            lang: Lang::En,
            intent: None,
            dialog: None,
            values: BTreeMap::new(),
            transcript: Vec::new(),
        };
        Ticket::from_handoff(number, 1, &handoff, created_at, &Sla::default())
    }

    #[test]
    fn labels_round_trip() {
        assert_eq!(label(123), "T-000123");
        assert_eq!(parse_label("T-000123"), Some(123));
        assert_eq!(parse_label("#7"), Some(7));
        assert_eq!(parse_label("x"), None);
        assert_eq!(parse_label("0"), None);
    }

    #[test]
    fn queue_positions_put_urgent_first_then_age() {
        let queued = vec![
            ticket(1, Priority::Normal, 10),
            ticket(2, Priority::Normal, 20),
            ticket(3, Priority::Urgent, 30),
            ticket(4, Priority::High, 40),
        ];
        let positions: Vec<_> = queued.iter().map(|t| position(t, &queued)).collect();
        assert_eq!(positions, vec![Some(3), Some(4), Some(1), Some(2)]);
    }

    #[test]
    fn waits_follow_recent_history() {
        assert_eq!(estimated_wait(1, &[], 900), 900);
        assert_eq!(estimated_wait(2, &[300, 600, 60_000], 900), 1200);
        assert_eq!(duration_text(1200, Lang::En), "about 20 minutes");
        assert_eq!(duration_text(3 * 3600, Lang::Zh), "约 3 小时");
    }
}
