//! Sentinel configuration: the command line (`[file] --sentinel [--directive value ...]`),
//! the config file's `sentinel ...` directives and the few server directives a sentinel uses
//! (`port`, `bind`, `logfile`, ...). Parsing only: building the state is `setup`'s, writing
//! the file back is `rewrite`'s.

use super::settings::{quote, Parsed};
use slotbox_protocol::decode::split_args;
use std::path::PathBuf;

/// A config error, reported like Redis's `*** FATAL CONFIG FILE ERROR ***`.
#[derive(Debug)]
pub struct ConfigError {
    pub line_no: usize,
    pub line: String,
    pub msg: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
            crate::core::REDIS_VERSION,
            self.line_no,
            self.line,
            self.msg
        )
    }
}

/// `slotbox-server [file] --sentinel [--name args ...]`: the config file (if any) and every
/// line to apply, the file's first, then the flags' (`--port 26380` is the line `port 26380`).
pub fn lines_from_args(args: &[String]) -> Result<(Option<PathBuf>, Vec<String>), String> {
    let mut rest = args.iter().peekable();
    let mut file = None;
    let mut lines = Vec::new();
    if let Some(first) = rest.peek() {
        if !first.starts_with("--") {
            let path = PathBuf::from(rest.next().map(String::as_str).unwrap_or_default());
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("Fatal error, can't open config file '{}': {e}", path.display()))?;
            lines.extend(text.lines().map(str::to_string));
            file = Some(std::fs::canonicalize(&path).unwrap_or(path));
        }
    }
    let mut current: Option<Vec<String>> = None;
    for a in rest {
        if let Some(name) = a.strip_prefix("--") {
            if let Some(words) = current.take() {
                lines.push(words.join(" "));
            }
            current = Some(vec![name.to_string()]);
            if name.eq_ignore_ascii_case("save") {
                // `--save` alone (last, or before another option) means `save ""`.
                current = Some(vec![name.to_string(), "\"\"".to_string()]);
            }
        } else {
            match current.as_mut() {
                Some(words) if words.len() == 2 && words[1] == "\"\"" && words[0].eq_ignore_ascii_case("save") => {
                    words[1] = quote(a);
                }
                Some(words) => words.push(quote(a)),
                None => return Err(format!("Invalid argument '{a}'")),
            }
        }
    }
    if let Some(words) = current {
        lines.push(words.join(" "));
    }
    Ok((file, lines))
}

pub fn parse(file: Option<PathBuf>, lines: &[String]) -> Result<Parsed, String> {
    let mut p = Parsed::default();
    p.settings.config_file = file;
    // The server directives go through the data server's own parser (same names, same
    // checks); the `sentinel` lines are blanked there to keep its line numbers right.
    let mut server_text = String::new();
    let mut port_given = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let words = split_args(trimmed.as_bytes());
        let first = words.as_ref().and_then(|w| w.first()).map(|w| String::from_utf8_lossy(w).to_ascii_lowercase());
        if first.as_deref() == Some("sentinel") {
            let words: Vec<String> =
                words.unwrap_or_default().into_iter().map(|w| String::from_utf8_lossy(&w).into_owned()).collect();
            if words.len() > 1 {
                super::config_sentinel::apply(&mut p, &words[1..])
                    .map_err(|msg| ConfigError { line_no: i + 1, line: trimmed.to_string(), msg }.to_string())?;
            }
            server_text.push('\n');
            continue;
        }
        port_given |= first.as_deref() == Some("port");
        server_text.push_str(line);
        server_text.push('\n');
    }
    let origin =
        p.settings.config_file.as_ref().map(|f| f.display().to_string()).unwrap_or_else(|| "(command line)".into());
    let mut c = crate::config::Config::default();
    c.load_str(&server_text, &origin).map_err(|e| e.to_string())?;
    let s = &mut p.settings;
    s.port = if port_given { c.port } else { 26379 };
    s.bind = c.bind.clone();
    s.logfile = c.logfile.clone();
    s.loglevel = c.loglevel.clone();
    s.pidfile = c.pidfile.clone();
    s.daemonize = c.daemonize;
    if server_text.lines().any(|l| l.trim_start().to_ascii_lowercase().starts_with("dir ")) {
        std::env::set_current_dir(&c.dir).map_err(|e| format!("Can't chdir to '{}': {e}", c.dir.display()))?;
    }
    Ok(p)
}
