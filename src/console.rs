//! The terminal chat: the brain over stdin and stdout.

use std::io::{self, BufRead, Read, Write};

use crate::app::desk::AgentInput;
use crate::app::App;
use crate::brain::{texts, Choice, Input};
use crate::store::CONSOLE_CHAT;

/// With `--desk`: the agents' group and the local operator of the terminal.
pub const CONSOLE_DESK: i64 = -1;
pub const CONSOLE_AGENT: i64 = -1;

/// Longest line read at once; the rest of a longer line is skipped (the brain
/// would cut it anyway), so a pasted log cannot exhaust memory.
const MAX_LINE_BYTES: u64 = 64 * 1024;

/// Reads one line as bytes, lossily decoded (invalid UTF-8 becomes U+FFFD).
/// Returns `None` at end of input.
fn read_line(input: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut buffer = Vec::new();
    let read = input
        .by_ref()
        .take(MAX_LINE_BYTES)
        .read_until(b'\n', &mut buffer)?;
    if read == 0 {
        return Ok(None);
    }
    if buffer.last() != Some(&b'\n') && read as u64 == MAX_LINE_BYTES {
        // Skip the rest of an over-long line.
        let mut rest = Vec::new();
        input.read_until(b'\n', &mut rest)?;
    }
    while matches!(buffer.last(), Some(b'\n' | b'\r')) {
        buffer.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buffer).into_owned()))
}

/// Prints a message the way a terminal shows it: text, then numbered
/// choices.
pub fn render(text: &str, choices: &[Choice], output: &mut impl Write) -> io::Result<()> {
    writeln!(output, "{text}")?;
    for (number, choice) in choices.iter().enumerate() {
        writeln!(output, "  {}. {}", number + 1, choice.label)?;
    }
    Ok(())
}

/// Runs the chat until `/quit` or end of input, as chat
/// [`CONSOLE_CHAT`] of `app`'s store: a conversation left mid-dialog (even
/// by a killed process) resumes where it was. `clock` gives the time in
/// Unix seconds. With `interactive`, a banner and a prompt are shown.
pub fn run(
    app: &App<'_>,
    clock: &dyn Fn() -> i64,
    mut input: impl BufRead,
    mut output: impl Write,
    interactive: bool,
) -> anyhow::Result<()> {
    let (session, reset) = app.session(CONSOLE_CHAT)?;
    if let Some(error) = reset {
        writeln!(
            output,
            "(kefu: the saved conversation could not be read and was started afresh: {error})"
        )?;
    }
    if interactive {
        writeln!(
            output,
            "kefu 客服 — 请描述您的问题 / describe your problem. /help 帮助, /quit 退出"
        )?;
        if session.dialog.is_some() {
            writeln!(output, "{}", texts::in_dialog_reminder(session.lang))?;
            if let Some(last) = session.transcript.iter().rev().find(|l| !l.user) {
                writeln!(output, "{}", last.text)?;
            }
            let choices = session.offered.clone();
            render("", &choices, &mut output)?;
        } else {
            writeln!(output, "{}", texts::welcome(session.lang))?;
        }
    }
    loop {
        if interactive {
            write!(output, "> ")?;
        }
        output.flush()?;
        let Some(line) = read_line(&mut input)? else {
            break;
        };
        if matches!(line.trim(), "/quit" | "/exit" | "/q") {
            break;
        }
        // With a desk, `!command` acts as the local agent.
        let desk = app.desk.group == Some(CONSOLE_DESK);
        let handled = match line.trim_start().strip_prefix('!') {
            Some(command) if desk => app.agent(
                CONSOLE_DESK,
                CONSOLE_AGENT,
                AgentInput::Command(command.trim()),
                clock(),
            )?,
            _ => app.handle(CONSOLE_CHAT, Input::Text(&line), clock())?,
        };
        for message in &handled.messages {
            if message.chat == CONSOLE_CHAT {
                render(&message.text, &message.choices, &mut output)?;
            } else if desk {
                let text = message.text.replace('\n', "\n         ");
                writeln!(output, "[agents] {text}")?;
            }
        }
        if !interactive {
            writeln!(output)?;
        }
    }
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_invalid_utf8_and_long_lines() {
        let mut data: Vec<u8> = vec![0xff, 0xfe, b'a', b'\n'];
        data.extend(std::iter::repeat_n(b'x', 200_000));
        data.extend(b"\nlast\r\n");
        let mut input = io::Cursor::new(data);
        assert_eq!(read_line(&mut input).unwrap().unwrap(), "\u{fffd}\u{fffd}a");
        let long = read_line(&mut input).unwrap().unwrap();
        assert_eq!(long.len(), MAX_LINE_BYTES as usize);
        assert_eq!(read_line(&mut input).unwrap().unwrap(), "last");
        assert_eq!(read_line(&mut input).unwrap(), None);
    }
}
