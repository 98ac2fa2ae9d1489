//! The application around the brain, shared by every adapter: load the
//! session, run the brain, keep the new session, turn the effects into
//! tickets and outgoing messages. The terminal chat, `kefu test` and
//! Telegram all go through [`App::handle`], so they behave the same.
//!
//! Around the brain sit the parts that need the store: while an agent has
//! a user's ticket, the user's messages go to the agent, not the bot; after
//! a ticket is resolved the user rates it; a handoff while a ticket is open
//! adds to that ticket instead of queueing the user twice. The agents' side
//! is in [`desk`].

pub mod desk;

use crate::brain::{self, Bot, Choice, Effect, Handoff, Input, Line, Session};
use crate::config::Agent;
use crate::guard;
use crate::store::{ChatId, Store, StoreError};
use crate::ticket::{self, Sla, Status, Ticket};

/// A message to send to a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub chat: ChatId,
    pub text: String,
    pub choices: Vec<Choice>,
    /// The ticket this message is about (a card, a relayed message, a
    /// ticket opened): an agent's reply to it goes to that ticket.
    pub ticket: Option<u64>,
}

impl Outgoing {
    pub fn text(chat: ChatId, text: impl Into<String>) -> Outgoing {
        Outgoing {
            chat,
            text: text.into(),
            choices: Vec::new(),
            ticket: None,
        }
    }

    fn about(mut self, ticket: u64) -> Outgoing {
        self.ticket = Some(ticket);
        self
    }
}

/// One turn's result.
#[derive(Debug, Default)]
pub struct Handled {
    pub messages: Vec<Outgoing>,
    /// Tickets opened this turn.
    pub opened: Vec<Ticket>,
    /// The session could not be read and was started afresh.
    pub session_reset: Option<StoreError>,
    /// A user id that tried an agent command without being an agent (for
    /// the log).
    pub refused: Option<i64>,
    /// The user's message held a secret: the adapter deletes it from the
    /// chat where it can.
    pub delete_input: bool,
    /// What the classifier made of the message, when it was asked.
    pub verdict: Option<brain::Outcome>,
}

/// Who handles tickets, from the configuration.
#[derive(Clone, Debug, Default)]
pub struct Desk {
    /// The agents' group: ticket cards go here.
    pub group: Option<ChatId>,
    pub agents: Vec<Agent>,
    pub official_domains: Vec<String>,
    /// Official staff Telegram handles: the only handles replies may name.
    pub staff_handles: Vec<String>,
}

/// Lines of conversation kept on a ticket.
const TICKET_TRANSCRIPT_LINES: usize = 200;

/// The brain, a store and the ticket rules.
pub struct App<'a> {
    pub bot: &'a Bot,
    pub store: &'a dyn Store,
    pub sla: Sla,
    pub desk: Desk,
}

impl<'a> App<'a> {
    /// An app with the configuration's SLA and desk.
    pub fn new(bot: &'a Bot, store: &'a dyn Store, config: &crate::config::Config) -> App<'a> {
        App {
            bot,
            store,
            sla: config.sla,
            desk: Desk {
                group: config.agents_group,
                agents: config.agents.clone(),
                official_domains: config.official_domains.clone(),
                staff_handles: config.staff_handles.clone(),
            },
        }
    }

    /// The stored session of a chat; an unreadable one is replaced by a
    /// fresh session rather than blocking the user forever.
    pub fn session(&self, chat: ChatId) -> Result<(Session, Option<StoreError>), StoreError> {
        match self.store.session(chat) {
            Ok(session) => Ok((session.unwrap_or_default(), None)),
            Err(error @ StoreError::Unreadable { .. }) => Ok((Session::default(), Some(error))),
            Err(error) => Err(error),
        }
    }

    /// Handles one input from a user's chat at `now` (Unix seconds). The
    /// new session and any ticket are durably stored before the messages
    /// are returned, so a crash after this never loses what the user was
    /// told.
    pub fn handle(&self, chat: ChatId, input: Input<'_>, now: i64) -> Result<Handled, StoreError> {
        if let Some(handled) = self.rating(chat, input, now)? {
            self.store.flush()?;
            return Ok(handled);
        }
        if let Input::Text(text) = input {
            if !text.trim_start().starts_with('/') {
                if let Some(ticket) = self.live_ticket(chat)? {
                    let handled = self.relay_to_agent(chat, ticket, text, now)?;
                    self.store.flush()?;
                    return Ok(handled);
                }
            }
        }
        let (session, session_reset) = self.session(chat)?;
        let (session, effects) = brain::step(self.bot, &session, input, now);
        self.store.save_session(chat, &session)?;
        let mut handled = Handled {
            session_reset,
            ..Handled::default()
        };
        let lang = session.lang;
        for effect in effects {
            match effect {
                Effect::Reply { text, choices } => handled.messages.push(Outgoing {
                    chat,
                    text,
                    choices,
                    ticket: None,
                }),
                Effect::Handoff(handoff) => self.open_ticket(chat, &handoff, now, &mut handled)?,
                Effect::ShowTickets => {
                    let text = self.status_text(chat, lang, now)?;
                    handled.messages.push(Outgoing::text(chat, text));
                }
                Effect::CloseTickets => {
                    let text = self.close_tickets(chat, lang, now)?;
                    handled.messages.push(Outgoing::text(chat, text));
                }
                Effect::DeleteInput => handled.delete_input = true,
                Effect::Verdict(outcome) => handled.verdict = Some(outcome),
            }
        }
        self.store.flush()?;
        Ok(handled)
    }

    /// The chat's ticket an agent is working on, if any.
    fn live_ticket(&self, chat: ChatId) -> Result<Option<Ticket>, StoreError> {
        Ok(self
            .store
            .chat_tickets(chat)?
            .into_iter()
            .rev()
            .find(|t| matches!(t.status, Status::Assigned | Status::WaitingOnUser)))
    }

    /// While an agent has the ticket, the user talks to the agent: the
    /// message (redacted) goes to the agents' group and onto the ticket.
    fn relay_to_agent(
        &self,
        chat: ChatId,
        mut ticket: Ticket,
        text: &str,
        now: i64,
    ) -> Result<Handled, StoreError> {
        let mut handled = Handled::default();
        // The same guard memory as the brain's: a password announced to
        // the agent in one message is hidden in the next.
        let (mut session, session_reset) = self.session(chat)?;
        handled.session_reset = session_reset;
        let redaction = guard::redact_following(
            text,
            &guard::ScanContext::default(),
            ticket.lang,
            &mut session.guard,
            now,
        );
        self.store.save_session(chat, &session)?;
        if !redaction.findings.is_empty() {
            handled.delete_input = true;
            handled.messages.push(Outgoing::text(
                chat,
                guard::warning(&redaction.kinds(), ticket.lang),
            ));
        }
        push_line(&mut ticket.transcript, true, &redaction.text);
        ticket.status = Status::Assigned;
        ticket.updated_at = now;
        self.store.save_ticket(&ticket)?;
        if let Some(group) = self.desk.group {
            let agent = ticket.agent.as_ref().map_or("—", |(_, name)| name.as_str());
            handled.messages.push(
                Outgoing::text(
                    group,
                    format!(
                        "💬 {} (for {agent}) user:\n{}",
                        ticket.label(),
                        redaction.text
                    ),
                )
                .about(ticket.number),
            );
        }
        Ok(handled)
    }

    /// A rating for a resolved ticket: a button, or a digit 1–5 typed
    /// while the rating question is the last thing the user saw.
    fn rating(
        &self,
        chat: ChatId,
        input: Input<'_>,
        now: i64,
    ) -> Result<Option<Handled>, StoreError> {
        let (number, stars) = match input {
            Input::Button(value) => {
                let Some(rest) = value.strip_prefix("rate:") else {
                    return Ok(None);
                };
                let Some((number, stars)) = rest.split_once(':') else {
                    return Ok(None);
                };
                match (number.parse::<u64>(), stars.parse::<u8>()) {
                    (Ok(n), Ok(s)) => (Some(n), s),
                    _ => return Ok(None),
                }
            }
            Input::Text(text) => match text.trim().parse::<u8>() {
                Ok(s) => (None, s),
                Err(_) => return Ok(None),
            },
        };
        if !(1..=5).contains(&stars) {
            return Ok(None);
        }
        let waiting = self.store.chat_tickets(chat)?.into_iter().rev().find(|t| {
            t.status == Status::Resolved
                && t.rating.is_none()
                && number.is_none_or(|n| n == t.number)
        });
        let Some(mut ticket) = waiting else {
            return Ok(None);
        };
        ticket.rating = Some(stars);
        ticket.status = Status::Closed;
        ticket.updated_at = now;
        self.store.save_ticket(&ticket)?;
        let mut handled = Handled::default();
        handled
            .messages
            .push(Outgoing::text(chat, ticket::rating_thanks(ticket.lang)));
        if let Some(group) = self.desk.group {
            handled.messages.push(
                Outgoing::text(
                    group,
                    format!("⭐ {} rated {stars}/5 by the user", ticket.label()),
                )
                .about(ticket.number),
            );
        }
        Ok(Some(handled))
    }

    fn open_ticket(
        &self,
        chat: ChatId,
        handoff: &Handoff,
        now: i64,
        handled: &mut Handled,
    ) -> Result<(), StoreError> {
        // One open ticket per user: more of the same goes into it.
        if let Some(mut open) = self
            .store
            .chat_tickets(chat)?
            .into_iter()
            .rev()
            .find(|t| t.status.is_open())
        {
            for (name, value) in &handoff.values {
                open.values
                    .entry(name.clone())
                    .or_insert_with(|| value.clone());
            }
            if handoff.priority < open.priority {
                open.priority = handoff.priority;
                open.due_at = open.due_at.min(self.sla.due(handoff.priority, now));
            }
            for line in handoff.transcript.iter().rev().take(6).rev() {
                push_line(&mut open.transcript, line.user, &line.text);
            }
            open.updated_at = now;
            self.store.save_ticket(&open)?;
            self.store.flush()?;
            handled
                .messages
                .push(Outgoing::text(chat, ticket::added_to_open(&open)).about(open.number));
            if let Some(group) = self.desk.group {
                handled.messages.push(
                    Outgoing::text(
                        group,
                        format!(
                            "➕ {} ({}): the user asked again; details added",
                            open.label(),
                            open.priority.name()
                        ),
                    )
                    .about(open.number),
                );
            }
            return Ok(());
        }
        let sla = self.sla;
        let ticket = self
            .store
            .create_ticket(&mut |number| Ticket::from_handoff(number, chat, handoff, now, &sla))?;
        let queue = self.store.queue()?;
        let position = ticket::position(&ticket, &queue).unwrap_or(1);
        let wait = ticket::estimated_wait(
            position,
            &self.recent_waits()?,
            ticket.due_at - ticket.created_at,
        );
        handled.messages.push(
            Outgoing::text(chat, ticket::opened_text(&ticket, position, wait)).about(ticket.number),
        );
        if let Some(group) = self.desk.group {
            handled
                .messages
                .push(desk::card(group, &ticket, now, false));
        }
        handled.opened.push(ticket);
        Ok(())
    }

    /// How long the last tickets waited before an agent took them.
    fn recent_waits(&self) -> Result<Vec<i64>, StoreError> {
        let mut waits = self.store.recent_waits()?;
        let excess = waits.len().saturating_sub(20);
        waits.drain(..excess);
        Ok(waits)
    }

    fn status_text(
        &self,
        chat: ChatId,
        lang: crate::lang::Lang,
        now: i64,
    ) -> Result<String, StoreError> {
        let queue = self.store.queue()?;
        let open: Vec<(Ticket, Option<usize>)> = self
            .store
            .chat_tickets(chat)?
            .into_iter()
            .filter(|t| t.status.is_open())
            .map(|t| {
                let position = ticket::position(&t, &queue);
                (t, position)
            })
            .collect();
        Ok(ticket::status_text(&open, lang, now))
    }

    fn close_tickets(
        &self,
        chat: ChatId,
        lang: crate::lang::Lang,
        now: i64,
    ) -> Result<String, StoreError> {
        let mut closed = Vec::new();
        for mut t in self.store.chat_tickets(chat)? {
            if t.status.is_open() || t.status == Status::Resolved {
                t.status = Status::Closed;
                t.updated_at = now;
                self.store.save_ticket(&t)?;
                closed.push(t.label());
            }
        }
        Ok(if closed.is_empty() {
            lang.pick(
                "您没有可以关闭的工单。",
                "You have no open tickets to close.",
            )
            .to_string()
        } else {
            match lang {
                crate::lang::Lang::Zh => format!("已关闭工单 {}。", closed.join("、")),
                crate::lang::Lang::En => format!("Closed {}.", closed.join(", ")),
            }
        })
    }
}

/// Appends a (capped) line to a ticket's transcript.
fn push_line(transcript: &mut Vec<Line>, user: bool, text: &str) {
    brain::push_line(transcript, user, text, TICKET_TRANSCRIPT_LINES, 1000);
}
