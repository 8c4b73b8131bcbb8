//! Reading configuration text: redis.conf files and `--name value` flags. A bad line names the
//! file, the line number, the line itself and the problem, like Redis's
//! "FATAL CONFIG FILE ERROR".

use super::values::Config;
use slotbox_protocol::decode::split_args;
use std::fmt;
use std::path::PathBuf;

/// A configuration that cannot be used; the server does not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or "command line").
    pub origin: String,
    pub line_no: usize,
    pub line: String,
    pub directive: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "*** FATAL CONFIG FILE ERROR (slotbox) ***")?;
        writeln!(f, "Reading the configuration file {}, at line {}", self.origin, self.line_no)?;
        writeln!(f, ">>> '{}'", self.line)?;
        write!(f, "directive '{}': {}", self.directive, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// Apply config text line by line.
pub fn load_str(config: &mut Config, text: &str, origin: &str) -> Result<(), ConfigError> {
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |directive: &str, reason: String| ConfigError {
            origin: origin.to_string(),
            line_no: i + 1,
            line: line.to_string(),
            directive: directive.to_string(),
            reason,
        };
        let Some(words) = split_args(line.as_bytes()) else {
            return Err(fail("", "Unbalanced quotes in configuration line".into()));
        };
        let words: Vec<String> = words.into_iter().map(|w| String::from_utf8_lossy(&w).into_owned()).collect();
        let Some((name, args)) = words.split_first() else { continue };
        let name = name.to_ascii_lowercase();
        if name == "include" {
            let [path] = args else {
                return Err(fail(&name, "wrong number of arguments".into()));
            };
            let inner = std::fs::read_to_string(path).map_err(|e| fail(&name, format!("cannot read '{path}': {e}")))?;
            load_str(config, &inner, path)?;
            continue;
        }
        if Config::directive(&name).is_none() {
            return Err(fail(&name, "Bad directive or wrong number of arguments".into()));
        }
        config.apply(&name, args).map_err(|reason| fail(&name, reason))?;
    }
    Ok(())
}

/// `slotbox-server [configfile] [--name value ...]`: the file first, then the flags, which
/// override it (as Redis appends command-line options to the file's text).
pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    let mut rest = args;
    if let Some(first) = args.first() {
        if !first.starts_with("--") {
            let text = std::fs::read_to_string(first).map_err(|e| ConfigError {
                origin: first.clone(),
                line_no: 0,
                line: String::new(),
                directive: String::new(),
                reason: format!("cannot open config file: {e}"),
            })?;
            config.load_str(&text, first)?;
            config.config_file = Some(std::fs::canonicalize(first).unwrap_or_else(|_| PathBuf::from(first)));
            rest = &args[1..];
        }
    }
    // Group `--name v1 v2` into lines, as Redis does.
    let mut lines: Vec<String> = Vec::new();
    for a in rest {
        if let Some(name) = a.strip_prefix("--") {
            lines.push(name.to_string());
        } else if let Some(last) = lines.last_mut() {
            last.push(' ');
            last.push_str(&quote(a));
        } else {
            return Err(ConfigError {
                origin: "command line".into(),
                line_no: 0,
                line: a.clone(),
                directive: a.clone(),
                reason: "expected --directive before a value".into(),
            });
        }
    }
    for (i, l) in lines.iter().enumerate() {
        load_str(&mut config, l, "command line").map_err(|mut e| {
            e.line_no = i + 1;
            e
        })?;
    }
    Ok(config)
}

/// Quote a flag value so `split_args` gives it back whole (empty strings included).
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::units::{format_output_limits, parse_memory};

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn output_buffer_limits_from_the_config_file() {
        let mut c = Config::default();
        let text = "client-output-buffer-limit replica 512mb 128mb 30\nclient-output-buffer-limit pubsub 1k 0 0\n";
        load_str(&mut c, text, "test.conf").unwrap();
        assert_eq!(
            format_output_limits(&c.client_output_buffer_limit),
            "normal 0 0 0 slave 536870912 134217728 30 pubsub 1000 0 0"
        );
        let err = load_str(&mut c, "client-output-buffer-limit master 0 0 0\n", "bad.conf").unwrap_err().to_string();
        assert!(err.contains("bad.conf") && err.contains("line 1") && err.contains("Invalid client class"), "{err}");
        let err = load_str(&mut c, "client-output-buffer-limit normal 1 2\n", "bad.conf").unwrap_err().to_string();
        assert!(err.contains("Wrong number of arguments"), "{err}");
        assert_eq!(c.client_output_buffer_limit[2].hard, 1000, "a bad line changes nothing");
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("512mb"), Some(512 * 1024 * 1024));
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("100k"), Some(100_000));
        assert_eq!(parse_memory("42"), Some(42));
        assert_eq!(parse_memory("x"), None);
    }

    #[test]
    fn flags_override() {
        let c = from_args(&args(&["--port", "7001", "--bind", "127.0.0.1", "::1", "--save", ""])).unwrap();
        assert_eq!(c.port, 7001);
        assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
        assert_eq!(c.save, "");
    }

    #[test]
    fn bad_line_is_named() {
        let mut c = Config::default();
        let e = c.load_str("port 7000\n\nbogus-directive 1\n", "my.conf").unwrap_err();
        assert_eq!(e.line_no, 3);
        assert_eq!(e.directive, "bogus-directive");
        assert!(e.to_string().contains("my.conf"));
        let e = c.load_str("port abc\n", "my.conf").unwrap_err();
        assert_eq!(e.directive, "port");
        assert!(e.reason.contains("integer"));
        let e = c.load_str("appendonly maybe\n", "my.conf").unwrap_err();
        assert!(e.reason.contains("'yes' or 'no'"));
    }
}
