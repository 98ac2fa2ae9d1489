//! The application around the brain, shared by every adapter: load the
//! session, run the brain, keep the new session, turn the effects into
//! tickets and outgoing messages. The terminal chat, `kefu test` and
//! Telegram all go through [`App::handle`], so they behave the same.

use crate::brain::{self, Bot, Choice, Effect, Input, Session};
use crate::store::{ChatId, Store, StoreError};
use crate::ticket::{self, Sla, Status, Ticket};

/// A message to send to a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub chat: ChatId,
    pub text: String,
    pub choices: Vec<Choice>,
    /// The ticket this message opened, if it did.
    pub ticket: Option<u64>,
}

/// One turn's result.
#[derive(Debug, Default)]
pub struct Handled {
    pub messages: Vec<Outgoing>,
    /// Tickets opened this turn.
    pub opened: Vec<Ticket>,
    /// The session could not be read and was started afresh.
    pub session_reset: Option<StoreError>,
}

/// The brain, a store and the ticket rules.
pub struct App<'a> {
    pub bot: &'a Bot,
    pub store: &'a dyn Store,
    pub sla: Sla,
}

impl App<'_> {
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
                Effect::Handoff(handoff) => {
                    let sla = self.sla;
                    let ticket = self.store.create_ticket(&mut |number| {
                        Ticket::from_handoff(number, chat, &handoff, now, &sla)
                    })?;
                    let queue = self.store.queue()?;
                    let position = ticket::position(&ticket, &queue).unwrap_or(1);
                    let wait = ticket::estimated_wait(
                        position,
                        &self.recent_waits()?,
                        ticket.due_at - ticket.created_at,
                    );
                    handled.messages.push(Outgoing {
                        chat,
                        text: ticket::opened_text(&ticket, position, wait),
                        choices: Vec::new(),
                        ticket: Some(ticket.number),
                    });
                    handled.opened.push(ticket);
                }
                Effect::ShowTickets => {
                    let text = self.status_text(chat, lang, now)?;
                    handled.messages.push(Outgoing {
                        chat,
                        text,
                        choices: Vec::new(),
                        ticket: None,
                    });
                }
                Effect::CloseTickets => {
                    let text = self.close_tickets(chat, lang, now)?;
                    handled.messages.push(Outgoing {
                        chat,
                        text,
                        choices: Vec::new(),
                        ticket: None,
                    });
                }
            }
        }
        self.store.flush()?;
        Ok(handled)
    }

    /// How long the last tickets waited before an agent took them.
    fn recent_waits(&self) -> Result<Vec<i64>, StoreError> {
        let mut taken: Vec<(i64, i64)> = self
            .store
            .tickets()?
            .iter()
            .filter_map(|t| t.taken_at.map(|at| (at, at - t.created_at)))
            .collect();
        taken.sort_unstable();
        Ok(taken.iter().rev().take(20).map(|(_, wait)| *wait).collect())
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
