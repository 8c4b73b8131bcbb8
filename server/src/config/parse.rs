//! Reading configuration text as Redis 7.0 does: a redis.conf file (with `include`, globs
//! allowed in the file name), then the command-line options, which Redis turns into config
//! lines appended to the file's (`--port 7000` is the line `port 7000`). A bad line names the
//! file, the line number, the line itself, the directive and the problem, like Redis's
//! "FATAL CONFIG FILE ERROR".

use super::directives::{file_words, lookup};
use super::values::Config;
use slotbox_protocol::decode::{repr, split_args};
use std::fmt;
use std::path::{Path, PathBuf};

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

/// Directives Redis 7.0 still accepts (and ignores) with exactly one argument.
const DEPRECATED: &[&str] = &["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

/// Config text being applied, with what spans files: Redis lets the first `save` line replace
/// the default save points and later ones add to them.
struct Loader<'a> {
    config: &'a mut Config,
    save_seen: bool,
}

/// Apply config text line by line.
pub fn load_str(config: &mut Config, text: &str, origin: &str) -> Result<(), ConfigError> {
    Loader { config, save_seen: false }.text(text, origin)
}

impl Loader<'_> {
    fn text(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
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
            self.line(&name, args).map_err(|reason| match reason {
                LineError::Here(reason) => fail(&name, reason),
                LineError::Include(e) => e,
            })?;
        }
        self.sanity().map_err(|reason| ConfigError {
            origin: origin.to_string(),
            line_no: 0,
            line: String::new(),
            directive: String::new(),
            reason,
        })
    }

    fn line(&mut self, name: &str, args: &[String]) -> Result<(), LineError> {
        if let Some(named) = lookup(name) {
            let d = named.directive;
            let mut words = file_words(d, args)?;
            if d.name == "save" {
                // The first `save` line replaces the defaults; the next ones add save points.
                if self.save_seen && words != [""] {
                    let current = self.config.value(d);
                    words.splice(0..0, current.as_text().split_whitespace().map(str::to_string));
                }
                self.save_seen = true;
            }
            let v = d.parse(&words, &self.config.value(d))?;
            self.config.set_value(d, v);
            return Ok(());
        }
        if DEPRECATED.contains(&name) && args.len() == 1 {
            return Ok(());
        }
        match (name, args) {
            ("include", [path]) => self.include(path),
            ("rename-command", [from, to]) => rename_command(self.config, from, to).map_err(LineError::Here),
            ("user", [user, rules @ ..]) if is_default_user(user, rules) => Ok(()),
            ("user", [_, ..]) => Err(unsupported("ACL users other than 'user default on nopass ~* &* +@all'")),
            ("loadmodule", [_, ..]) => Err(unsupported("modules (loadmodule)")),
            ("sentinel", []) => Err(unsupported("sentinel mode")),
            ("sentinel", _) => Err("sentinel directive while not in sentinel mode".to_string().into()),
            (name, [_, ..]) if name.contains('.') => Err(unsupported("module configuration")),
            _ => Err("Bad directive or wrong number of arguments".to_string().into()),
        }
    }

    /// `include <file>`: its lines as if they stood here; a name with a wildcard includes every
    /// matching file in name order, and none if nothing matches (an empty conf.d).
    fn include(&mut self, path: &str) -> Result<(), LineError> {
        let files = if path.contains(['*', '?', '[']) { glob_files(path)? } else { vec![PathBuf::from(path)] };
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("Fatal error, can't open config file '{}': {e}", file.display()))?;
            self.text(&text, &file.display().to_string()).map_err(LineError::Include)?;
        }
        Ok(())
    }

    /// Redis's checks once everything is read.
    fn sanity(&self) -> Result<(), String> {
        if self.config.cluster_enabled && self.config.replicaof.is_some() {
            return Err("replicaof directive not allowed in cluster mode".into());
        }
        Ok(())
    }
}

/// A line's problem: its own, or a whole error from a file it includes.
enum LineError {
    Here(String),
    Include(ConfigError),
}

impl From<String> for LineError {
    fn from(s: String) -> Self {
        LineError::Here(s)
    }
}

/// `rename-command <command> <new name>` (or `""` to remove it), as Redis renames in its
/// command table: the command must exist under `from` now (a renamed command under its new
/// name), the new name must not; subcommands cannot be renamed.
fn rename_command(config: &mut Config, from: &str, to: &str) -> Result<(), String> {
    let (from, to) = (from.to_ascii_lowercase(), to.to_ascii_lowercase());
    let renamed = &mut config.renamed_commands;
    let exists = |renamed: &std::collections::BTreeMap<String, Option<String>>, name: &str| match renamed.get(name) {
        Some(target) => target.clone(),
        None => slotbox_protocol::command::lookup(name.as_bytes()).map(|spec| spec.name.to_string()),
    };
    let command = exists(renamed, &from).filter(|_| !from.contains('|')).ok_or("No such command in rename-command")?;
    renamed.insert(from, None);
    if !to.is_empty() {
        if exists(renamed, &to).is_some() {
            return Err("Target command name already exists".into());
        }
        renamed.insert(to, Some(command));
    }
    Ok(())
}

/// `user default on nopass ~* &* +@all` (what Redis's CONFIG REWRITE writes when there is no
/// ACL): the only user slotbox has, so the line changes nothing.
fn is_default_user(user: &str, rules: &[String]) -> bool {
    const OPEN: &[&str] = &[
        "on",
        "nopass",
        "~*",
        "allkeys",
        "&*",
        "allchannels",
        "+@all",
        "allcommands",
        "sanitize-payload",
        "skip-sanitize-payload",
    ];
    user == "default" && rules.iter().all(|r| OPEN.iter().any(|o| o.eq_ignore_ascii_case(r)))
}

fn unsupported(what: &str) -> LineError {
    LineError::Here(format!("{what} is not supported by slotbox-server"))
}

/// The files a wildcard path names (wildcards in its last component only), sorted.
fn glob_files(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(pattern);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if dir.to_string_lossy().contains(['*', '?', '[']) {
        return Err(format!("include '{pattern}': wildcards are supported in the file name only"));
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| crate::glob::glob_match(name.as_bytes(), e.file_name().to_string_lossy().as_bytes(), false))
        .map(|e| dir.join(e.file_name()))
        .collect();
    files.sort();
    Ok(files)
}

/// Redis's reading of `--name value...` options into config lines: an option starts a line,
/// the words after it are its (quoted) arguments; an option given alone takes the next word
/// even if it starts with `--` (`--port --bla` is `port "--bla"`), except that `--save`
/// followed by another option, or last, means `save ""`.
pub fn options_text(args: &[String]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut handled_last = true;
    for (j, a) in args.iter().enumerate() {
        if handled_last && a.starts_with("--") {
            let mut line = format!("{} ", &a[2..]);
            let name_only = split_args(a.as_bytes()).is_some_and(|w| w.len() == 1);
            handled_last = !name_only;
            if name_only && a.eq_ignore_ascii_case("--save") {
                let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
                if next_is_option || j + 1 == args.len() {
                    line.push_str("\"\"");
                    handled_last = next_is_option;
                }
            }
            lines.push(line);
        } else {
            if lines.is_empty() {
                lines.push(String::new());
            }
            let last = lines.last_mut().expect("a line");
            last.push_str(&repr(a.as_bytes()));
            last.push(' ');
            handled_last = true;
        }
    }
    lines.join("\n")
}

/// `slotbox-server [configfile] [--name value ...]`: the file first, then the options, which
/// override it (as Redis appends them to the file's text).
pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    let mut rest = args;
    let mut file: Option<(String, String)> = None;
    if let Some(first) = args.first().filter(|a| !a.starts_with('-')) {
        let text = std::fs::read_to_string(first).map_err(|e| ConfigError {
            origin: first.clone(),
            line_no: 0,
            line: String::new(),
            directive: String::new(),
            reason: format!("Fatal error, can't open config file '{first}': {e}"),
        })?;
        file = Some((first.clone(), text));
        rest = &args[1..];
    }
    let mut loader = Loader { config: &mut config, save_seen: false };
    if let Some((path, text)) = &file {
        loader.text(text, path)?;
    }
    loader.text(&options_text(rest), "command line")?;
    if let Some((path, _)) = file {
        config.config_file = Some(std::fs::canonicalize(&path).unwrap_or_else(|_| PathBuf::from(path)));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::units::format_output_limits;

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
    fn flags_override() {
        let c = from_args(&args(&["--port", "7001", "--bind", "127.0.0.1", "::1", "--save", ""])).unwrap();
        assert_eq!(c.port, 7001);
        assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
        assert_eq!(c.save, "");
        let c = from_args(&args(&["--save", "--port", "7002"])).unwrap();
        assert_eq!((c.save.as_str(), c.port), ("", 7002));
        let c = from_args(&args(&["--save", "60 1", "--save", "10 100"])).unwrap();
        assert_eq!(c.save, "60 1 10 100", "later save lines add save points");
        let c = from_args(&args(&["--maxmemory-policy", "ALLKEYS-LRU", "--threads", "3"])).unwrap();
        assert_eq!((c.maxmemory_policy.as_str(), c.io_threads), ("allkeys-lru", 3));
    }

    /// Redis's own cases (`redis-server command line arguments - error cases`).
    #[test]
    fn option_errors_as_redis() {
        let err = |a: &[&str]| from_args(&args(a)).unwrap_err();
        let e = err(&["--port"]);
        assert_eq!((e.directive.as_str(), e.reason.as_str()), ("port", "wrong number of arguments"));
        let e = err(&["--port", "6379", "6380"]);
        assert_eq!(e.line, "port \"6379\" \"6380\"");
        let e = err(&["--port", "--loglevel", "verbose"]);
        assert_eq!(
            (e.line.as_str(), e.reason.as_str()),
            ("port \"--loglevel\" \"verbose\"", "wrong number of arguments")
        );
        let e = err(&["--port", "--bla", "--loglevel", "verbose"]);
        assert_eq!(e.reason, "argument couldn't be parsed into an integer");
        let e = err(&["--logfile", "--my--log--file", "--loglevel", "--bla"]);
        assert_eq!(e.line, "loglevel \"--bla\"");
        assert!(e.reason.starts_with("argument(s) must be one of the following"), "{}", e.reason);
        let e = err(&["--shutdown-on-sigint", "now force", "--shutdown-on-sigterm"]);
        assert!(e.directive == "shutdown-on-sigterm" && e.reason.starts_with("argument(s) must be"), "{e}");
        let e = err(&["--replicaof", "--127.0.0.1", "abc"]);
        assert_eq!((e.line.as_str(), e.reason.as_str()), ("replicaof \"--127.0.0.1\" \"abc\"", "Invalid master port"));
        let e = err(&["--replicaof", "--127.0.0.1", "--abc"]);
        assert_eq!(e.reason, "wrong number of arguments");
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
        let e = c.load_str("rename-command nosuch x\n", "my.conf").unwrap_err();
        assert_eq!(e.reason, "No such command in rename-command");
        let e = c.load_str("rename-command get set\n", "my.conf").unwrap_err();
        assert_eq!(e.reason, "Target command name already exists");
        let e = c.load_str("tls-port 6380\n", "my.conf").unwrap_err();
        assert_eq!(e.reason, "TLS is not supported by slotbox-server");
        c.load_str("list-max-ziplist-entries 512\nlua-replicate-commands yes\n", "old.conf").unwrap();
        c.load_str("user default on nopass ~* &* +@all\n", "rewritten-by-redis.conf").unwrap();
        let e = c.load_str("user alice on >secret ~* +@all\n", "acl.conf").unwrap_err();
        assert!(e.reason.contains("not supported"), "{e}");
    }

    #[test]
    fn renamed_commands() {
        let mut c = Config::default();
        c.load_str("rename-command FLUSHALL \"\"\nrename-command config myconfig\nrename-command MyConfig cfg\n", "r")
            .unwrap();
        let names: Vec<(&str, Option<&str>)> =
            c.renamed_commands.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        assert_eq!(names, [("cfg", Some("config")), ("config", None), ("flushall", None), ("myconfig", None)]);
        assert!(c.load_str("rename-command flushall x\n", "r").is_err(), "gone");
        assert!(c.load_str("rename-command config|get x\n", "r").is_err(), "no subcommands");
    }

    #[test]
    fn includes_with_a_wildcard() {
        let dir = std::env::temp_dir().join(format!("slotbox-include-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "maxclients 11\n").unwrap();
        std::fs::write(dir.join("conf.d/b.conf"), "maxclients 22\nhz 33\n").unwrap();
        std::fs::write(dir.join("conf.d/c.txt"), "bogus\n").unwrap();
        let mut c = Config::default();
        c.load_str(&format!("include {}/conf.d/*.conf\ninclude {}/none/*.conf\n", dir.display(), dir.display()), "m")
            .unwrap();
        assert_eq!((c.maxclients, c.hz), (22, 33));
        let e = c.load_str(&format!("include {}/conf.d/c.txt\n", dir.display()), "m").unwrap_err();
        assert!(e.origin.ends_with("c.txt") && e.directive == "bogus", "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
