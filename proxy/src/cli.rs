//! The command line of `slotbox-proxy`: nutcracker 0.5's options with its messages and
//! limits (`-hVtdDv:o:c:s:i:a:p:m:`, long forms `--conf-file=S`, values attached `-cFILE` or
//! separate, switches grouped `-td`), plus slotbox's own `--workers N`, `--metrics-port N` and
//! `--metrics-addr S`. Parsing only: no file is read and nothing is started here.

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub conf: String,
    pub test: bool,
    pub help: bool,
    pub version: bool,
    pub describe_stats: bool,
    pub daemonize: bool,
    /// nutcracker's level (0 emerg .. 11 pverb; larger values are taken as 11).
    pub verbosity: u8,
    pub log_file: Option<String>,
    pub pid_file: Option<String>,
    pub stats_port: u16,
    pub stats_addr: String,
    /// Stats aggregation interval (ms): the stats port serves a document at most this old.
    /// None: always current (nutcracker's default is 30000).
    pub stats_interval_ms: Option<u64>,
    /// Accepted and checked as nutcracker does; slotbox's buffers grow as needed.
    pub mbuf_size: usize,
    pub workers: usize,
    pub metrics_port: Option<u16>,
    pub metrics_addr: String,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            conf: "conf/nutcracker.yml".into(),
            test: false,
            help: false,
            version: false,
            describe_stats: false,
            daemonize: false,
            verbosity: crate::log::NOTICE,
            log_file: None,
            pid_file: None,
            stats_port: 22222,
            stats_addr: "0.0.0.0".into(),
            stats_interval_ms: None,
            mbuf_size: 16384,
            workers: 0,
            metrics_port: None,
            metrics_addr: "127.0.0.1".into(),
        }
    }
}

/// nutcracker's mbuf size limits (`NC_MBUF_MIN_SIZE`, `NC_MBUF_MAX_SIZE`).
const MBUF_MIN: usize = 512;
const MBUF_MAX: usize = 16 * 1024 * 1024;

pub const VERSION_TEXT: &str =
    concat!("This is slotbox-proxy-", env!("CARGO_PKG_VERSION"), " (nutcracker-0.5.0 compatible)\n");

pub const USAGE: &str = "Usage: slotbox-proxy [-?hVdDt] [-v verbosity level] [-o output file]
                  [-c conf file] [-s stats port] [-a stats addr]
                  [-i stats interval] [-p pid file] [-m mbuf size]
                  [--workers N] [--metrics-port N] [--metrics-addr S]

Options:
  -h, --help             : this help
  -V, --version          : show version and exit
  -t, --test-conf        : test configuration for syntax errors and exit
  -d, --daemonize        : run as a daemon
  -D, --describe-stats   : print stats description and exit
  -v, --verbose=N        : set logging level (default: 5, min: 0, max: 11)
  -o, --output=S         : set logging file (default: stderr)
  -c, --conf-file=S      : set configuration file (default: conf/nutcracker.yml)
  -s, --stats-port=N     : set stats monitoring port (default: 22222)
  -a, --stats-addr=S     : set stats monitoring ip (default: 0.0.0.0)
  -i, --stats-interval=N : set stats aggregation interval in msec (default: none, always current)
  -p, --pid-file=S       : set pid file (default: none)
  -m, --mbuf-size=N      : set size of mbuf chunk in bytes (default: 16384 bytes; accepted, buffers grow as needed)
      --workers=N        : worker threads (default: one per core)
      --metrics-port=N   : serve Prometheus metrics at http://<metrics-addr>:N/metrics
      --metrics-addr=S   : the metrics listen address (default: 127.0.0.1)

Signals: SIGHUP reopens the log file and reloads the configuration file; SIGUSR1 / SIGUSR2
raise / lower the log level; SIGINT / SIGTERM stop the proxy.
";

/// nutcracker's `-D` text: every stats field with its description.
pub const DESCRIBE_STATS: &str = "pool stats:
  client_eof          \"# eof on client connections\"
  client_err          \"# errors on client connections\"
  client_connections  \"# active client connections\"
  server_ejects       \"# times backend server was ejected\"
  forward_error       \"# times we encountered a forwarding error\"
  fragments           \"# fragments created from a multi-vector request\"

server stats:
  server_eof          \"# eof on server connections\"
  server_err          \"# errors on server connections\"
  server_timedout     \"# timeouts on server connections\"
  server_connections  \"# active server connections\"
  server_ejected_at   \"timestamp when server was ejected in usec since epoch\"
  requests            \"# requests\"
  request_bytes       \"total request bytes\"
  responses           \"# responses\"
  response_bytes      \"total response bytes\"
  in_queue            \"# requests in incoming queue\"
  in_queue_bytes      \"current request bytes in incoming queue\"
  out_queue           \"# requests in outgoing queue\"
  out_queue_bytes     \"current request bytes in outgoing queue\"
";

/// A usage error: the message nutcracker prints before its usage text.
#[derive(Debug, PartialEq)]
pub struct UsageError(pub String);

/// (short letter, long name, what the value is: None for a switch).
const OPTIONS: &[(char, &str, Option<&str>)] = &[
    ('h', "help", None),
    ('?', "help", None),
    ('V', "version", None),
    ('t', "test-conf", None),
    ('d', "daemonize", None),
    ('D', "describe-stats", None),
    ('v', "verbose", Some("a number")),
    ('o', "output", Some("a file name")),
    ('c', "conf-file", Some("a file name")),
    ('s', "stats-port", Some("a number")),
    ('a', "stats-addr", Some("a string")),
    ('i', "stats-interval", Some("a number")),
    ('p', "pid-file", Some("a file name")),
    ('m', "mbuf-size", Some("a number")),
];

/// slotbox's own long options (all take a value).
const OWN: &[&str] = &["workers", "metrics-port", "metrics-addr"];

/// Parse the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(argv: I) -> Result<Args, UsageError> {
    let mut a = Args::default();
    let mut it = argv.into_iter();
    while let Some(arg) = it.next() {
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            if OWN.contains(&name) {
                let v = inline
                    .or_else(|| it.next())
                    .ok_or_else(|| UsageError(format!("option --{name} requires a value")))?;
                own(&mut a, name, &v)?;
                continue;
            }
            let &(c, _, wants) = OPTIONS
                .iter()
                .find(|o| o.1 == name)
                .ok_or_else(|| UsageError(format!("unrecognized option '--{name}'")))?;
            let value = match wants {
                Some(what) => Some(inline.or_else(|| it.next()).ok_or_else(|| missing(c, what))?),
                None if inline.is_some() => {
                    return Err(UsageError(format!("option '--{name}' doesn't allow an argument")))
                }
                None => None,
            };
            apply(&mut a, c, value)?;
            continue;
        }
        let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) else {
            return Err(UsageError(format!("invalid argument '{arg}'")));
        };
        for (i, c) in shorts.char_indices() {
            let &(_, _, wants) =
                OPTIONS.iter().find(|o| o.0 == c).ok_or_else(|| UsageError(format!("invalid option -- '{c}'")))?;
            if let Some(what) = wants {
                let rest = &shorts[i + c.len_utf8()..];
                let v = if rest.is_empty() { it.next().ok_or_else(|| missing(c, what))? } else { rest.to_string() };
                apply(&mut a, c, Some(v))?;
                break;
            }
            apply(&mut a, c, None)?;
        }
    }
    Ok(a)
}

fn missing(c: char, what: &str) -> UsageError {
    UsageError(format!("option -{c} requires {what}"))
}

/// A non-negative number as nutcracker's `nc_atoi` reads it (digits only).
fn number(c: char, v: &str) -> Result<u64, UsageError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(missing(c, "a number"));
    }
    v.parse().map_err(|_| missing(c, "a number"))
}

fn apply(a: &mut Args, c: char, value: Option<String>) -> Result<(), UsageError> {
    let v = value.unwrap_or_default();
    match c {
        'h' | '?' => a.help = true,
        'V' => a.version = true,
        't' => a.test = true,
        'd' => a.daemonize = true,
        'D' => a.describe_stats = true,
        'v' => a.verbosity = number(c, &v)?.min(crate::log::PVERB as u64) as u8,
        'o' => a.log_file = Some(v),
        'c' => a.conf = v,
        's' => {
            let n = number(c, &v)?;
            if n == 0 || n > 65535 {
                return Err(UsageError(format!("option -s value {n} is not a valid port")));
            }
            a.stats_port = n as u16;
        }
        'a' => a.stats_addr = v,
        'i' => a.stats_interval_ms = Some(number(c, &v)?),
        'p' => a.pid_file = Some(v),
        'm' => {
            let n = number(c, &v)? as usize;
            if n == 0 {
                return Err(UsageError("option -m requires a non-zero number".into()));
            }
            if !(MBUF_MIN..=MBUF_MAX).contains(&n) {
                return Err(UsageError(format!("mbuf chunk size must be between {MBUF_MIN} and {MBUF_MAX} bytes")));
            }
            a.mbuf_size = n;
        }
        _ => unreachable!("every letter of OPTIONS is handled"),
    }
    Ok(())
}

fn own(a: &mut Args, name: &str, v: &str) -> Result<(), UsageError> {
    let bad = || UsageError(format!("option --{name} requires a number"));
    match name {
        "workers" => a.workers = v.parse().map_err(|_| bad())?,
        "metrics-port" => a.metrics_port = Some(v.parse().map_err(|_| bad())?),
        _ => a.metrics_addr = v.to_string(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Args, UsageError> {
        parse(s.split_whitespace().map(str::to_string))
    }

    #[test]
    fn init_script_invocation() {
        let a = p("-d -c /etc/nutcracker/nutcracker.yml -p /run/nc.pid -o /var/log/nc.log -v 6 -s 22223 -a 127.0.0.1 -i 1000 -m 512")
            .unwrap();
        assert!(a.daemonize && !a.test);
        assert_eq!(a.conf, "/etc/nutcracker/nutcracker.yml");
        assert_eq!((a.pid_file.as_deref(), a.log_file.as_deref()), (Some("/run/nc.pid"), Some("/var/log/nc.log")));
        assert_eq!((a.verbosity, a.stats_port, a.stats_addr.as_str()), (6, 22223, "127.0.0.1"));
        assert_eq!((a.stats_interval_ms, a.mbuf_size), (Some(1000), 512));
    }

    #[test]
    fn long_forms_attached_values_and_grouped_switches() {
        let a = p("--conf-file=x.yml --verbose 11 -td -sx").unwrap_err();
        assert_eq!(a, UsageError("option -s requires a number".into()));
        let a = p("--conf-file=x.yml --verbose 20 -td -s9999 --metrics-port=9121 --metrics-addr 0.0.0.0").unwrap();
        assert_eq!((a.conf.as_str(), a.verbosity, a.test, a.daemonize, a.stats_port), ("x.yml", 11, true, true, 9999));
        assert_eq!((a.metrics_port, a.metrics_addr.as_str()), (Some(9121), "0.0.0.0"));
        assert!(p("-h").unwrap().help && p("--version").unwrap().version && p("-D").unwrap().describe_stats);
    }

    #[test]
    fn nutcrackers_errors() {
        let e = |s: &str| p(s).unwrap_err().0;
        assert_eq!(e("-m 10"), "mbuf chunk size must be between 512 and 16777216 bytes");
        assert_eq!(e("-m 0"), "option -m requires a non-zero number");
        assert_eq!(e("-s 70000"), "option -s value 70000 is not a valid port");
        assert_eq!(e("-v x"), "option -v requires a number");
        assert_eq!(e("-c"), "option -c requires a file name");
        assert_eq!(e("--conf-file"), "option -c requires a file name");
        assert_eq!(e("-p"), "option -p requires a file name");
        assert_eq!(e("-a"), "option -a requires a string");
        assert_eq!(e("-q"), "invalid option -- 'q'");
        assert_eq!(e("--bogus"), "unrecognized option '--bogus'");
        assert_eq!(e("--workers x"), "option --workers requires a number");
    }
}
