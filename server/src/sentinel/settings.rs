//! The data read from a sentinel's configuration (`Settings`, one `MasterSpec` per
//! monitored group, `Parsed` for the whole) and the value syntax shared by the parser and the
//! rewrite. Data only.

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

pub fn yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}
