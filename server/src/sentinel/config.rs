//! Sentinel configuration: the command line (`[file] --sentinel [--directive value ...]`),
//! the config file's `sentinel ...` directives and the few server directives a sentinel uses
//! (`port`, `bind`, `logfile`, ...). Parsing only: building the state is `setup`'s, writing
//! the file back is `rewrite`'s.

use slotbox_protocol::decode::split_args;
use std::path::PathBuf;

/// Process-wide settings (not per master).
#[derive(Debug, Clone)]
pub struct Settings {
    pub port: u16,
    pub bind: Vec<String>,
    pub announce_ip: Option<String>,
    pub announce_port: u16,
    pub config_file: Option<PathBuf>,
    pub logfile: Option<PathBuf>,
    pub loglevel: String,
    pub pidfile: Option<PathBuf>,
    pub daemonize: bool,
    pub sentinel_user: Option<String>,
    pub sentinel_pass: Option<String>,
    pub deny_scripts_reconfig: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            port: 26379,
            bind: Vec::new(),
            announce_ip: None,
            announce_port: 0,
            config_file: None,
            logfile: None,
            loglevel: "notice".into(),
            pidfile: None,
            daemonize: false,
            sentinel_user: None,
            sentinel_pass: None,
            deny_scripts_reconfig: true,
        }
    }
}

/// One `sentinel monitor` group and what the file says about it.
#[derive(Debug, Clone, Default)]
pub struct MasterSpec {
    pub name: String,
    pub ip: String,
    pub port: u16,
    pub quorum: u32,
    pub down_after: Option<i64>,
    pub failover_timeout: Option<i64>,
    pub parallel_syncs: Option<u32>,
    pub auth_pass: Option<String>,
    pub auth_user: Option<String>,
    pub config_epoch: u64,
    pub leader_epoch: u64,
    pub known_replicas: Vec<(String, u16)>,
    /// (ip, port, runid)
    pub known_sentinels: Vec<(String, u16, String)>,
}

/// Everything read from the command line and the file.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub settings: Settings,
    pub myid: Option<String>,
    pub current_epoch: u64,
    pub masters: Vec<MasterSpec>,
}

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

/// Quote a word for a config line (so `--bind ''` and values with spaces survive).
pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\') {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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

pub fn yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}
