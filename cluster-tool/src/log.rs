//! User-facing output the way redis-cli's cluster manager prints it: `>>>` info lines in bold,
//! `[WARNING]` in yellow, `[ERR]` in red, `[OK]` in green (colours only on an xterm-like
//! terminal), plus the yes/no prompt and line prompts of the interactive subcommands.
//! Everything goes to stdout like redis-cli; only connection failures go to stderr.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::OnceLock;

/// Severity of a log line; selects its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Err,
    Ok,
}

fn use_colors() -> bool {
    static COLORS: OnceLock<bool> = OnceLock::new();
    *COLORS.get_or_init(|| {
        std::io::stdout().is_terminal() && std::env::var("TERM").map(|t| t.contains("xterm")).unwrap_or(false)
    })
}

/// Print `text` (no newline added) in the colour of `level`.
pub fn log(level: Level, text: &str) {
    let mut out = std::io::stdout().lock();
    if use_colors() {
        let code = match level {
            Level::Info => "29;1m",
            Level::Warn => "33;1m",
            Level::Err => "31;1m",
            Level::Ok => "32;1m",
        };
        let _ = write!(out, "\x1b[{code}{text}\x1b[0m");
    } else {
        let _ = write!(out, "{text}");
    }
    let _ = out.flush();
}

/// A `>>> ...` line.
pub fn info(line: &str) {
    log(Level::Info, &format!("{line}\n"));
}

/// A `[WARNING]` / `***` line.
pub fn warn(line: &str) {
    log(Level::Warn, &format!("{line}\n"));
}

/// An `[ERR]` line.
pub fn err(line: &str) {
    log(Level::Err, &format!("{line}\n"));
}

/// An `[OK]` line.
pub fn ok(line: &str) {
    log(Level::Ok, &format!("{line}\n"));
}

/// Plain text on stdout, flushed (progress dots, tables).
pub fn out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{text}");
    let _ = out.flush();
}

/// Read one line from stdin without its newline; `None` at end of input.
pub fn read_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
    }
}

/// Ask `question` and return the answer line (`None` at end of input).
pub fn prompt(question: &str) -> Option<String> {
    out(question);
    read_line()
}

/// redis-cli's `confirmWithYes`: true without asking when `assume_yes`, otherwise ask
/// "`msg` (type 'yes' to accept): " and accept an answer starting with "yes".
pub fn confirm(msg: &str, assume_yes: bool) -> bool {
    if assume_yes {
        return true;
    }
    matches!(prompt(&format!("{msg} (type 'yes' to accept): ")), Some(a) if a.starts_with("yes"))
}
