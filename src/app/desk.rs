//! The agents' desk: ticket cards, `/queue`, `/take`, `/reply`, `/note`,
//! `/resolve`, `/reassign`, `/mine`, and the SLA sweep. Agents' words reach
//! users only through the bot, after the guard has checked them; anyone not
//! on the allow-list is refused.
//!
//! Agent-facing text is English: one working language for the team.

use super::{push_line, App, Handled, Outgoing};
use crate::brain::Choice;
use crate::config::{Agent, Role};
use crate::guard;
use crate::store::{ChatId, StoreError};
use crate::ticket::{self, Status, Ticket};

/// What an agent did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentInput<'a> {
    /// A command line: `/take 12`, `/reply T-000012 hello`.
    Command(&'a str),
    /// A button under a card: `take:12`.
    Button(&'a str),
    /// A reply (in Telegram, to a card or a relayed message) about a ticket.
    Reply { ticket: u64, text: &'a str },
}

const HELP: &str = "Agent commands:\n/queue — queued tickets (priority, then age)\n/take N — take a ticket\n/reply N text — answer the user (or reply to a card or relayed message)\n/note N text — internal note\n/resolve N — mark resolved; the user is asked for a rating\n/reassign N @name — give a ticket to another agent (supervisors)\n/mine — your open tickets\n/reload — load intents and dialogs again (supervisors; in Telegram)";

fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 60 => "just now".to_string(),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

fn due(ticket: &Ticket, now: i64) -> String {
    let left = ticket.due_at - now;
    if left < 0 {
        format!("OVERDUE by {}", ago(-left).trim_end_matches(" ago"))
    } else {
        format!("due in {}", ago(left).trim_end_matches(" ago"))
    }
}

/// The card agents see for a ticket, with a Take button.
pub fn card(group: ChatId, ticket: &Ticket, now: i64, overdue: bool) -> Outgoing {
    let mut text = format!(
        "{} {} · {} · {} · {}",
        if overdue { "⏰ OVERDUE" } else { "🆕" },
        ticket.label(),
        ticket.priority.name().to_uppercase(),
        ticket.intent.as_deref().unwrap_or("(no intent)"),
        ticket.lang.code(),
    );
    if !ticket.values.is_empty() {
        let values: Vec<String> = ticket
            .values
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        text.push('\n');
        text.push_str(&values.join(" · "));
    }
    let said: Vec<&str> = ticket
        .transcript
        .iter()
        .filter(|l| l.user)
        .map(|l| &*l.text)
        .collect();
    if !said.is_empty() {
        text.push_str("\nThe user said:");
        for line in &said[said.len().saturating_sub(5)..] {
            let short: String = line.chars().take(160).collect();
            text.push_str(&format!("\n> {short}"));
        }
    }
    text.push_str(&format!(
        "\n{} · opened {}",
        due(ticket, now),
        ago(now - ticket.created_at)
    ));
    Outgoing {
        chat: group,
        text,
        choices: vec![Choice::new(
            format!("Take {}", ticket.label()),
            format!("take:{}", ticket.number),
        )],
        ticket: Some(ticket.number),
    }
}

fn summary_line(ticket: &Ticket, now: i64) -> String {
    format!(
        "{} {:<7} {:<22} {} · {}{}",
        ticket.label(),
        ticket.priority.name(),
        ticket.intent.as_deref().unwrap_or("-"),
        ticket.status.name(),
        ago(now - ticket.created_at),
        if ticket.overdue || (ticket.status == Status::Queued && ticket.due_at < now) {
            " · OVERDUE"
        } else {
            ""
        }
    )
}

impl App<'_> {
    fn agent_of(&self, user: i64) -> Option<&Agent> {
        self.desk.agents.iter().find(|a| a.id == user)
    }

    /// Handles an agent's action. `chat` is where it came from (the
    /// agents' group, or the agent's private chat); answers go there.
    pub fn agent(
        &self,
        chat: ChatId,
        user: i64,
        input: AgentInput<'_>,
        now: i64,
    ) -> Result<Handled, StoreError> {
        let mut handled = Handled::default();
        let Some(agent) = self.agent_of(user).cloned() else {
            handled.refused = Some(user);
            handled.messages.push(Outgoing::text(
                chat,
                "Sorry, only the support team's agents can use the desk. This attempt has been logged.",
            ));
            return Ok(handled);
        };
        let say =
            |handled: &mut Handled, text: String| handled.messages.push(Outgoing::text(chat, text));
        match input {
            AgentInput::Button(value) => {
                match value.strip_prefix("take:").and_then(|n| n.parse().ok()) {
                    Some(number) => self.take(chat, &agent, number, now, &mut handled)?,
                    None => say(&mut handled, "That button is no longer valid.".into()),
                }
            }
            AgentInput::Reply { ticket, text } => {
                self.reply(chat, &agent, ticket, text, now, &mut handled)?
            }
            AgentInput::Command(line) => {
                let line = line.trim();
                let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let command = crate::brain::command_name(command);
                let rest = rest.trim();
                let (first, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let number = ticket::parse_label(first);
                match (command.as_str(), number) {
                    ("queue", _) => self.queue(chat, &agent, now, &mut handled)?,
                    ("mine", _) => {
                        let mine: Vec<String> = self
                            .store
                            .tickets()?
                            .iter()
                            .filter(|t| {
                                t.status.is_open()
                                    && t.agent.as_ref().is_some_and(|(id, _)| *id == agent.id)
                            })
                            .map(|t| summary_line(t, now))
                            .collect();
                        say(
                            &mut handled,
                            if mine.is_empty() {
                                "You have no open tickets.".into()
                            } else {
                                format!("Your tickets:\n{}", mine.join("\n"))
                            },
                        );
                    }
                    ("take", Some(n)) => self.take(chat, &agent, n, now, &mut handled)?,
                    ("reply", Some(n)) if !text.trim().is_empty() => {
                        self.reply(chat, &agent, n, text.trim(), now, &mut handled)?
                    }
                    ("note", Some(n)) if !text.trim().is_empty() => {
                        self.note(chat, &agent, n, text.trim(), now, &mut handled)?
                    }
                    ("resolve", Some(n)) => self.resolve(chat, &agent, n, now, &mut handled)?,
                    ("reassign", Some(n)) => {
                        self.reassign(chat, &agent, n, text.trim(), now, &mut handled)?
                    }
                    ("help" | "start", _) => say(&mut handled, HELP.into()),
                    ("take" | "reply" | "note" | "resolve" | "reassign", _) => say(
                        &mut handled,
                        format!(
                            "Usage: /{command} N{}",
                            match command.as_str() {
                                "reply" | "note" => " text",
                                "reassign" => " @name",
                                _ => "",
                            }
                        ),
                    ),
                    _ => say(&mut handled, format!("Unknown command. {HELP}")),
                }
            }
        }
        self.store.flush()?;
        Ok(handled)
    }

    fn ticket_or_say(
        &self,
        chat: ChatId,
        number: u64,
        handled: &mut Handled,
    ) -> Result<Option<Ticket>, StoreError> {
        let found = self.store.ticket(number)?;
        if found.is_none() {
            handled.messages.push(Outgoing::text(
                chat,
                format!("No ticket {}.", ticket::label(number)),
            ));
        }
        Ok(found)
    }

    /// The ticket, if it exists and is still open; otherwise says why not.
    fn open_ticket_or_say(
        &self,
        chat: ChatId,
        number: u64,
        handled: &mut Handled,
    ) -> Result<Option<Ticket>, StoreError> {
        let Some(t) = self.ticket_or_say(chat, number, handled)? else {
            return Ok(None);
        };
        if t.status.is_open() {
            return Ok(Some(t));
        }
        handled.messages.push(Outgoing::text(
            chat,
            format!("{} is already {}.", t.label(), t.status.name()),
        ));
        Ok(None)
    }

    fn queue(
        &self,
        chat: ChatId,
        agent: &Agent,
        now: i64,
        handled: &mut Handled,
    ) -> Result<(), StoreError> {
        let mut queue = self.store.queue()?;
        if agent.role == Role::Supervisor {
            // Overdue first, then the usual order (a stable sort keeps it).
            queue.sort_by_key(|t| !(t.overdue || t.due_at < now));
        }
        let text = if queue.is_empty() {
            "The queue is empty.".to_string()
        } else {
            let lines: Vec<String> = queue
                .iter()
                .take(30)
                .map(|t| summary_line(t, now))
                .collect();
            format!("Queue ({} waiting):\n{}", queue.len(), lines.join("\n"))
        };
        handled.messages.push(Outgoing::text(chat, text));
        Ok(())
    }

    fn take(
        &self,
        chat: ChatId,
        agent: &Agent,
        number: u64,
        now: i64,
        handled: &mut Handled,
    ) -> Result<(), StoreError> {
        let Some(mut t) = self.ticket_or_say(chat, number, handled)? else {
            return Ok(());
        };
        match (&t.status, &t.agent) {
            (Status::Queued, _) => {}
            (status, Some((id, _))) if status.is_open() && *id == agent.id => {
                handled.messages.push(Outgoing::text(
                    chat,
                    format!("{} is already yours.", t.label()),
                ));
                return Ok(());
            }
            (status, Some((_, name))) if status.is_open() => {
                handled.messages.push(Outgoing::text(
                    chat,
                    format!(
                        "{} is already taken by {name}. A supervisor can /reassign it.",
                        t.label()
                    ),
                ));
                return Ok(());
            }
            (status, _) => {
                handled.messages.push(Outgoing::text(
                    chat,
                    format!("{} is {}.", t.label(), status.name()),
                ));
                return Ok(());
            }
        }
        self.assign(&mut t, agent, now)?;
        t.updated_at = now;
        self.store.save_ticket(&t)?;
        handled.messages.push(
            Outgoing::text(
                chat,
                format!(
                    "✅ {} taken by {}. Reply to this message or use /reply {} text.",
                    t.label(),
                    agent.name,
                    t.number
                ),
            )
            .about(t.number),
        );
        handled
            .messages
            .push(Outgoing::text(t.chat, ticket::taken_text(&t, &agent.name)).about(t.number));
        Ok(())
    }

    fn reply(
        &self,
        chat: ChatId,
        agent: &Agent,
        number: u64,
        text: &str,
        now: i64,
        handled: &mut Handled,
    ) -> Result<(), StoreError> {
        let Some(mut t) = self.open_ticket_or_say(chat, number, handled)? else {
            return Ok(());
        };
        if let Some((id, name)) = &t.agent {
            if *id != agent.id && agent.role != Role::Supervisor {
                handled.messages.push(Outgoing::text(
                    chat,
                    format!("{} belongs to {name}.", t.label()),
                ));
                return Ok(());
            }
        }
        // The phishing screen: every reply to a user goes through it.
        let problems = guard::check_agent_reply_with(
            text,
            &guard::AgentReplyPolicy {
                official_domains: &self.desk.official_domains,
                staff_handles: &self.desk.staff_handles,
            },
        );
        if !problems.is_empty() {
            self.blocked(chat, agent, &mut t, &problems, now, handled)?;
            return Ok(());
        }
        if t.agent.is_none() {
            // Answering a queued ticket takes it.
            self.assign(&mut t, agent, now)?;
        }
        t.status = Status::WaitingOnUser;
        t.updated_at = now;
        push_line(
            &mut t.transcript,
            false,
            &format!("[{}] {text}", agent.name),
        );
        self.store.save_ticket(&t)?;
        handled.messages.push(
            Outgoing::text(t.chat, ticket::agent_says(&t, &agent.name, text)).about(t.number),
        );
        Ok(())
    }

    /// A reply the screen stopped: the agent is told why (every time), the
    /// attempt is noted on the ticket (kinds only, never the text), and
    /// from the second blocked reply by the same agent on the same ticket
    /// the supervisors are alerted. The count lives on the ticket, so it
    /// survives restarts.
    fn blocked(
        &self,
        chat: ChatId,
        agent: &Agent,
        t: &mut Ticket,
        problems: &[guard::AgentReplyProblem],
        now: i64,
        handled: &mut Handled,
    ) -> Result<(), StoreError> {
        let kinds: Vec<String> = problems.iter().map(|p| p.kind.name()).collect();
        t.blocked_replies.push(ticket::BlockedReply {
            agent: agent.id,
            at: now,
            kinds: kinds.clone(),
        });
        let attempts = t
            .blocked_replies
            .iter()
            .filter(|b| b.agent == agent.id)
            .count();
        t.notes.push(ticket::Note {
            author: "guard".into(),
            text: format!(
                "blocked agent reply from {} (attempt {attempts}): {}",
                agent.name,
                kinds.join(", ")
            ),
            at: now,
        });
        t.updated_at = now;
        self.store.save_ticket(t)?;
        let why: Vec<String> = problems.iter().map(|p| format!("• {}", p.detail)).collect();
        handled.messages.push(
            Outgoing::text(
                chat,
                format!(
                    "⛔ Not sent to the user of {}:\n{}\nRephrase and send again. This attempt is noted on the ticket{}.",
                    t.label(),
                    why.join("\n"),
                    if attempts >= 2 { " and the supervisors have been alerted" } else { "" }
                ),
            )
            .about(t.number),
        );
        if attempts >= 2 {
            let alert = format!(
                "🚨 {} ({}) has had {attempts} replies blocked on {} as phishing; the last: {}. Please review the ticket.",
                agent.name,
                agent.id,
                t.label(),
                kinds.join(", ")
            );
            let supervisors: Vec<ChatId> = self
                .desk
                .agents
                .iter()
                .filter(|a| a.role == Role::Supervisor && a.id != agent.id)
                .map(|a| a.id)
                .collect();
            if supervisors.is_empty() {
                if let Some(group) = self.desk.group {
                    handled
                        .messages
                        .push(Outgoing::text(group, alert.clone()).about(t.number));
                }
            }
            for id in supervisors {
                handled
                    .messages
                    .push(Outgoing::text(id, alert.clone()).about(t.number));
            }
        }
        Ok(())
    }

    fn note(
        &self,
        chat: ChatId,
        agent: &Agent,
        number: u64,
        text: &str,
        now: i64,
        handled: &mut Handled,
    ) -> Result<(), StoreError> {
        let Some(mut t) = self.ticket_or_say(chat, number, handled)? else {
            return Ok(());
        };
        let redacted = guard::redact(text, &guard::ScanContext::default(), t.lang).text;
        t.notes.push(ticket::Note {
            author: agent.name.clone(),
            text: redacted,
            at: now,
        });
        t.updated_at = now;
        self.store.save_ticket(&t)?;
        handled
            .messages
            .push(Outgoing::text(chat, format!("📝 Note added to {}.", t.label())).about(t.number));
        Ok(())
    }

    fn resolve(
        &self,
        chat: ChatId,
        agent: &Agent,
        number: u64,
        now: i64,
        handled: &mut Handled,
    ) -> Result<(), StoreError> {
        let Some(mut t) = self.open_ticket_or_say(chat, number, handled)? else {
            return Ok(());
        };
        t.status = Status::Resolved;
        t.resolved_at = Some(now);
        t.updated_at = now;
        if t.agent.is_none() {
            t.agent = Some((agent.id, agent.name.clone()));
        }
        self.store.save_ticket(&t)?;
        handled.messages.push(
            Outgoing::text(
                chat,
                format!("✔️ {} resolved by {}.", t.label(), agent.name),
            )
            .about(t.number),
        );
        handled.messages.push(Outgoing {
            chat: t.chat,
            text: ticket::resolved_text(&t),
            choices: ticket::rating_choices(&t),
            ticket: Some(t.number),
        });
        Ok(())
    }

    fn reassign(
        &self,
        chat: ChatId,
        agent: &Agent,
        number: u64,
        to: &str,
        now: i64,
        handled: &mut Handled,
    ) -> Result<(), StoreError> {
        if agent.role != Role::Supervisor {
            handled.messages.push(Outgoing::text(
                chat,
                "Only supervisors can reassign tickets.".to_string(),
            ));
            return Ok(());
        }
        let wanted = to.trim().trim_start_matches('@').to_lowercase();
        let Some(target) = self
            .desk
            .agents
            .iter()
            .find(|a| a.name.to_lowercase() == wanted || a.id.to_string() == wanted)
        else {
            let names: Vec<&str> = self.desk.agents.iter().map(|a| a.name.as_str()).collect();
            handled.messages.push(Outgoing::text(
                chat,
                format!("No agent `{to}`. Agents: {}", names.join(", ")),
            ));
            return Ok(());
        };
        let Some(mut t) = self.open_ticket_or_say(chat, number, handled)? else {
            return Ok(());
        };
        self.assign(&mut t, target, now)?;
        t.updated_at = now;
        self.store.save_ticket(&t)?;
        handled.messages.push(
            Outgoing::text(
                chat,
                format!(
                    "🔁 {} reassigned to {} by {}.",
                    t.label(),
                    target.name,
                    agent.name
                ),
            )
            .about(t.number),
        );
        handled
            .messages
            .push(Outgoing::text(t.chat, ticket::taken_text(&t, &target.name)).about(t.number));
        Ok(())
    }

    /// Gives `t` to `agent`. A queued ticket becomes assigned, and how long
    /// it waited is recorded for users' expected waits.
    fn assign(&self, t: &mut Ticket, agent: &Agent, now: i64) -> Result<(), StoreError> {
        t.agent = Some((agent.id, agent.name.clone()));
        if t.status == Status::Queued {
            t.status = Status::Assigned;
            t.taken_at = Some(now);
            self.store.record_wait(now - t.created_at)?;
        }
        Ok(())
    }

    /// The SLA sweep: queued tickets past their due time are flagged
    /// overdue and announced to the agents' group again (once).
    pub fn tick(&self, now: i64) -> Result<Handled, StoreError> {
        let mut handled = Handled::default();
        for mut t in self.store.queue()? {
            if t.overdue || t.due_at > now {
                continue;
            }
            t.overdue = true;
            self.store.save_ticket(&t)?;
            if let Some(group) = self.desk.group {
                handled.messages.push(card(group, &t, now, true));
            }
        }
        self.store.flush()?;
        Ok(handled)
    }
}
