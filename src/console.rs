//! The terminal chat: the brain over stdin and stdout.

use std::io::{self, BufRead, Read, Write};

use crate::brain::{respond, texts, Effect, Session};
use crate::intent::IntentSet;
use crate::lang::Lang;

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

/// Prints an effect the way a terminal shows it: text, then numbered choices.
pub fn render(effect: &Effect, output: &mut impl Write) -> io::Result<()> {
    match effect {
        Effect::Reply { text, choices } => {
            writeln!(output, "{text}")?;
            for (number, choice) in choices.iter().enumerate() {
                writeln!(output, "  {}. {}", number + 1, choice.label)?;
            }
        }
    }
    Ok(())
}

/// Runs the chat until `/quit` or end of input. With `interactive`, a
/// banner and a prompt are shown.
pub fn run(
    set: &IntentSet,
    mut input: impl BufRead,
    mut output: impl Write,
    interactive: bool,
) -> io::Result<()> {
    let mut session = Session::default();
    if interactive {
        writeln!(
            output,
            "kefu 客服 — 请描述您的问题 / describe your problem. /help 帮助, /quit 退出"
        )?;
        writeln!(output, "{}", texts::welcome(Lang::Zh))?;
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
        let (next, effects) = respond(set, &session, &line);
        session = next;
        for effect in &effects {
            render(effect, &mut output)?;
        }
        if !interactive {
            writeln!(output)?;
        }
    }
    output.flush()
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
