//! The directives with a syntax of their own, as Redis 7.0 reads, prints and rewrites them:
//! `save`, `bind`, `dir`, `client-output-buffer-limit`, `oom-score-adj-values`,
//! `notify-keyspace-events`, `replicaof` and `latency-tracking-info-percentiles`. Each is one
//! [`Special`] the directive table points at.

use super::kinds::{Rewrite, Special, Value};
use super::notify_flags;
use super::numbers::{format_memory, format_percentile, string2d, strtoll};
use super::units::{format_output_limits, parse_output_limits, read_output_limits};
use super::values::{ClientClass, Limits};
use slotbox_protocol::decode::repr;
use std::path::{Path, PathBuf};

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// A word as a config line writes it: bare, as Redis writes it, unless the reader would not
/// give it back (empty, blanks, quotes, bytes outside printable ASCII): then quoted.
fn word(w: &str) -> String {
    let bare = !w.is_empty() && w.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'));
    if bare {
        w.to_string()
    } else {
        repr(w.as_bytes())
    }
}

/// A single empty word means "nothing" (`save ""`, `bind ""`).
fn words(args: &[String]) -> &[String] {
    match args {
        [only] if only.is_empty() => &[],
        a => a,
    }
}

/// `save <seconds> <changes> [...]`: seconds at least 1, changes at least 0; `save ""` none.
pub static SAVE: Special = Special {
    multi: true,
    default: || text("3600 1 300 100 60 10000"),
    parse: |args, _| {
        let args = words(args);
        if !args.len().is_multiple_of(2) {
            return Err("Invalid save parameters".into());
        }
        let mut points = Vec::new();
        for (i, a) in args.iter().enumerate() {
            // Seconds at least 1, changes at least 0.
            let least = if i % 2 == 0 { 1 } else { 0 };
            match strtoll(a, 10) {
                Some(v) if v >= least => points.push(v.to_string()),
                _ => return Err("Invalid save parameters".into()),
            }
        }
        Ok(Value::Text(points.join(" ")))
    },
    show: |v| v.as_text().to_string(),
    rewrite: |name, v| {
        let points: Vec<&str> = v.as_text().split_whitespace().collect();
        if points.is_empty() {
            return Rewrite::Lines(vec![(format!("{name} \"\""), true)]);
        }
        Rewrite::Lines(points.chunks(2).map(|p| (format!("{name} {}", p.join(" ")), true)).collect())
    },
};

/// The addresses Redis binds without a `bind` directive.
pub const DEFAULT_BIND: &str = "* -::*";

/// `bind <addr> [...]`: at most 16 addresses; `-` marks one as optional.
pub static BIND: Special = Special {
    multi: true,
    default: || text(DEFAULT_BIND),
    parse: |args, _| {
        // The value is kept (and shown, and rewritten) as one space-separated text, as Redis's
        // CONFIG GET shows it, so an argument holding spaces counts as the words it becomes.
        let joined = words(args).join(" ");
        if args.len() > 16 || joined.split(' ').count() > 16 {
            return Err("Too many bind addresses specified.".into());
        }
        Ok(Value::Text(joined))
    },
    show: |v| v.as_text().to_string(),
    rewrite: |name, v| match v.as_text() {
        DEFAULT_BIND => Rewrite::Drop,
        "" => Rewrite::Lines(vec![(format!("{name} \"\""), true)]),
        addrs => {
            let words: Vec<String> = addrs.split(' ').map(word).collect();
            Rewrite::Lines(vec![(format!("{name} {}", words.join(" ")), true)])
        }
    },
};

/// The text of an I/O error as C's `strerror` prints it (without Rust's "(os error N)").
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(at) => s[..at].to_string(),
        None => s,
    }
}

/// `dir <path>`: an existing directory, relative to the current one (Redis changes directory);
/// kept absolute.
pub static DIR: Special = Special {
    multi: false,
    default: || text("."),
    parse: |args, current| {
        let [path] = args else {
            return Err("wrong number of arguments".into());
        };
        let joined = Path::new(current.as_text()).join(path);
        let meta = std::fs::metadata(&joined).map_err(|e| strerror(&e))?;
        if !meta.is_dir() {
            return Err("Not a directory".into());
        }
        let abs = std::fs::canonicalize(&joined).map_err(|e| strerror(&e))?;
        Ok(Value::Text(abs.display().to_string()))
    },
    show: |v| absolute(v.as_text()),
    rewrite: |name, v| Rewrite::Lines(vec![(format!("{name} {}", repr(absolute(v.as_text()).as_bytes())), true)]),
};

fn absolute(dir: &str) -> String {
    std::fs::canonicalize(dir).unwrap_or_else(|_| PathBuf::from(dir)).display().to_string()
}

/// `client-output-buffer-limit <class> <hard> <soft> <seconds> [...]`: only the classes named
/// change.
pub static CLIENT_OUTPUT_BUFFER_LIMIT: Special = Special {
    multi: true,
    default: || Value::Text(format_output_limits(&[Limits::NORMAL, Limits::REPLICA, Limits::PUBSUB])),
    parse: |args, current| {
        let mut limits = read_output_limits(current.as_text());
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        parse_output_limits(&words, &mut limits)?;
        Ok(Value::Text(format_output_limits(&limits)))
    },
    show: |v| v.as_text().to_string(),
    rewrite: |name, v| {
        let limits = read_output_limits(v.as_text());
        let defaults = [Limits::NORMAL, Limits::REPLICA, Limits::PUBSUB];
        let classes = [ClientClass::Normal, ClientClass::Replica, ClientClass::Pubsub];
        let lines = classes.iter().map(|&c| {
            let (l, d) = (limits[c as usize], defaults[c as usize]);
            let class = if c == ClientClass::Replica { "replica" } else { c.name() };
            let (hard, soft) = (format_memory(l.hard as i128), format_memory(l.soft as i128));
            (format!("{name} {class} {hard} {soft} {}", l.soft_secs), l != d)
        });
        Rewrite::Lines(lines.collect())
    },
};

/// `oom-score-adj-values <master> <replica> <bgchild>`, each in -2000..=2000.
pub static OOM_SCORE_ADJ_VALUES: Special = Special {
    multi: true,
    default: || text("0 200 800"),
    parse: |args, _| {
        if args.len() != 3 {
            return Err("wrong number of arguments".into());
        }
        let mut values = Vec::new();
        for a in args {
            match strtoll(a, 10) {
                Some(v) if (-2000..=2000).contains(&v) => values.push(v.to_string()),
                _ => return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into()),
            }
        }
        Ok(Value::Text(values.join(" ")))
    },
    show: |v| v.as_text().to_string(),
    rewrite: |name, v| Rewrite::Lines(vec![(format!("{name} {}", v.as_text()), v.as_text() != "0 200 800")]),
};

/// `notify-keyspace-events <classes>` (stored as the flag bits).
pub static NOTIFY_KEYSPACE_EVENTS: Special = Special {
    multi: false,
    default: || Value::Int(0),
    parse: |args, _| {
        let [classes] = args else {
            return Err("wrong number of arguments".into());
        };
        let flags = notify_flags::parse(classes).ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
        Ok(Value::Int(flags as i128))
    },
    show: |v| notify_flags::to_text(v.as_int() as u32),
    rewrite: |name, v| {
        let flags = v.as_int() as u32;
        Rewrite::Lines(vec![(format!("{name} {}", repr(notify_flags::to_text(flags).as_bytes())), flags != 0)])
    },
};

/// `replicaof <host> <port>`, or `replicaof no one`.
pub static REPLICAOF: Special = Special {
    multi: true,
    default: || text(""),
    parse: |args, _| {
        let [host, port] = args else {
            return Err("wrong number of arguments".into());
        };
        if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
            return Ok(text(""));
        }
        match strtoll(port, 10) {
            Some(p) if (0..=65535).contains(&p) => Ok(Value::Text(format!("{host} {p}"))),
            _ => Err("Invalid master port".into()),
        }
    },
    show: |v| v.as_text().to_string(),
    rewrite: |name, v| match v.as_text().rsplit_once(' ') {
        None => Rewrite::Drop,
        Some((host, port)) => Rewrite::Lines(vec![(format!("{name} {} {port}", word(host)), true)]),
    },
};

/// `latency-tracking-info-percentiles <p> [...]`, each in 0..=100; `""` for none.
pub static LATENCY_TRACKING_INFO_PERCENTILES: Special = Special {
    multi: true,
    default: || text("50 99 99.9"),
    parse: |args, _| {
        let mut out = Vec::new();
        for a in words(args) {
            let p = string2d(a).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
            if !(0.0..=100.0).contains(&p) {
                return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
            }
            out.push(format_percentile(p));
        }
        Ok(Value::Text(out.join(" ")))
    },
    show: |v| v.as_text().to_string(),
    rewrite: |name, v| match v.as_text() {
        "" => Rewrite::Lines(vec![(format!("{name} \"\""), true)]),
        p => Rewrite::Lines(vec![(format!("{name} {p}"), true)]),
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &Special, v: &[&str]) -> Result<String, String> {
        let args: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        (s.parse)(&args, &(s.default)()).map(|v| (s.show)(&v))
    }

    #[test]
    fn save_points() {
        assert_eq!(parse(&SAVE, &["3600", "1", "300", "100"]), Ok("3600 1 300 100".into()));
        assert_eq!(parse(&SAVE, &[""]), Ok(String::new()));
        assert_eq!(parse(&SAVE, &["0", "1"]), Err("Invalid save parameters".into()));
        assert_eq!(parse(&SAVE, &["10"]), Err("Invalid save parameters".into()));
        let lines = (SAVE.rewrite)("save", &text("900 1 60 10"));
        assert_eq!(lines, Rewrite::Lines(vec![("save 900 1".into(), true), ("save 60 10".into(), true)]));
        assert_eq!((SAVE.rewrite)("save", &text("")), Rewrite::Lines(vec![("save \"\"".into(), true)]));
    }

    #[test]
    fn keyspace_event_classes() {
        assert_eq!(parse(&NOTIFY_KEYSPACE_EVENTS, &["KEA"]), Ok("AKE".into()));
        assert_eq!(parse(&NOTIFY_KEYSPACE_EVENTS, &["Elgm"]), Ok("glEm".into()));
        assert_eq!(parse(&NOTIFY_KEYSPACE_EVENTS, &[""]), Ok(String::new()));
        let err = parse(&NOTIFY_KEYSPACE_EVENTS, &["Q"]).unwrap_err();
        assert_eq!(err, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    }

    #[test]
    fn output_limits_rewrite_per_class() {
        let v = (CLIENT_OUTPUT_BUFFER_LIMIT.parse)(
            &["pubsub".into(), "64mb".into(), "0".into(), "0".into()],
            &(CLIENT_OUTPUT_BUFFER_LIMIT.default)(),
        )
        .unwrap();
        let Rewrite::Lines(lines) = (CLIENT_OUTPUT_BUFFER_LIMIT.rewrite)("client-output-buffer-limit", &v) else {
            panic!("lines expected");
        };
        assert_eq!(lines[0], ("client-output-buffer-limit normal 0 0 0".into(), false));
        assert_eq!(lines[1], ("client-output-buffer-limit replica 256mb 64mb 60".into(), false));
        assert_eq!(lines[2], ("client-output-buffer-limit pubsub 64mb 0 0".into(), true));
    }

    #[test]
    fn others() {
        assert_eq!(parse(&REPLICAOF, &["h", "x"]), Err("Invalid master port".into()));
        assert_eq!(parse(&REPLICAOF, &["NO", "one"]), Ok(String::new()));
        assert_eq!(parse(&REPLICAOF, &["h"]), Err("wrong number of arguments".into()));
        assert_eq!(parse(&LATENCY_TRACKING_INFO_PERCENTILES, &["50.5", "99", "100"]), Ok("50.5 99 100".into()));
        assert!(parse(&LATENCY_TRACKING_INFO_PERCENTILES, &["101"]).unwrap_err().contains("[0.0,100.0]"));
        assert!(parse(&OOM_SCORE_ADJ_VALUES, &["0", "200", "3000"]).is_err());
        assert_eq!(parse(&BIND, &[""]), Ok(String::new()));
        assert_eq!(parse(&DIR, &["/nonexistent-dir-for-test"]), Err("No such file or directory".into()));
    }
}
