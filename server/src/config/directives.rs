//! The directive table: one row per config directive, with how to read it from text and how
//! CONFIG GET prints it. Names and value syntax follow redis.conf.

use super::units::{format_output_limits, parse_memory, parse_output_limits};
use super::values::Config;
use std::path::PathBuf;

/// One config directive.
pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    /// CONFIG SET may change it while the server runs.
    pub mutable: bool,
    pub get: fn(&Config) -> String,
    pub set: fn(&mut Config, &[String]) -> Result<(), String>,
}

fn one(args: &[String]) -> Result<&str, String> {
    match args {
        [v] => Ok(v.as_str()),
        _ => Err("wrong number of arguments".into()),
    }
}

fn yes_no(args: &[String]) -> Result<bool, String> {
    match one(args)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn int<T: std::str::FromStr>(args: &[String]) -> Result<T, String> {
    one(args)?.parse().map_err(|_| "argument couldn't be parsed into an integer".to_string())
}

fn mem(args: &[String]) -> Result<usize, String> {
    parse_memory(one(args)?).ok_or_else(|| "argument must be a memory value".to_string())
}

/// An integer in 1..=INT_MAX, with Redis's range error.
fn positive_int(args: &[String]) -> Result<u32, String> {
    let n: i64 = int(args)?;
    if !(1..=i32::MAX as i64).contains(&n) {
        return Err("argument must be between 1 and 2147483647 inclusive".into());
    }
    Ok(n as u32)
}

fn bool_str(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn one_of(args: &[String], allowed: &[&str]) -> Result<String, String> {
    let v = one(args)?.to_ascii_lowercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err("argument(s) must be one of the following: ".to_string() + &allowed.join(", "))
    }
}

macro_rules! d {
    ($name:expr, $mutable:expr, |$c:ident| $get:expr, |$cs:ident, $a:ident| $set:expr) => {
        Directive {
            name: $name,
            alias: None,
            mutable: $mutable,
            get: |$c: &Config| $get,
            set: |$cs: &mut Config, $a: &[String]| {
                $set;
                Ok(())
            },
        }
    };
}

/// Every directive slotbox understands.
pub static DIRECTIVES: &[Directive] = &[
    d!("port", false, |c| c.port.to_string(), |c, a| c.port = int(a)?),
    d!("bind", false, |c| c.bind.join(" "), |c, a| {
        if a.is_empty() {
            return Err("wrong number of arguments".into());
        }
        c.bind = a.to_vec()
    }),
    d!("dir", true, |c| std::fs::canonicalize(&c.dir).unwrap_or(c.dir.clone()).display().to_string(), |c, a| {
        let p = PathBuf::from(one(a)?);
        if !p.is_dir() {
            return Err(format!("No such file or directory: {}", p.display()));
        }
        c.dir = p
    }),
    d!(
        "requirepass",
        true,
        |c| c.requirepass.as_ref().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default(),
        |c, a| {
            let v = one(a)?;
            c.requirepass = if v.is_empty() { None } else { Some(v.as_bytes().to_vec()) }
        }
    ),
    d!("maxclients", true, |c| c.maxclients.to_string(), |c, a| c.maxclients = int(a)?),
    d!("timeout", true, |c| c.timeout.to_string(), |c, a| c.timeout = int(a)?),
    d!("tcp-backlog", false, |c| c.tcp_backlog.to_string(), |c, a| c.tcp_backlog = int(a)?),
    d!("tcp-keepalive", true, |c| c.tcp_keepalive.to_string(), |c, a| c.tcp_keepalive = int(a)?),
    d!("proto-max-bulk-len", true, |c| c.proto_max_bulk_len.to_string(), |c, a| {
        let v = mem(a)?;
        if v < 1024 * 1024 {
            return Err("argument must be between 1048576 and 9223372036854775807 inclusive".into());
        }
        c.proto_max_bulk_len = v
    }),
    d!("client-query-buffer-limit", true, |c| c.client_query_buffer_limit.to_string(), |c, a| {
        let v = mem(a)?;
        if v < 1024 * 1024 {
            return Err("argument must be between 1048576 and 9223372036854775807 inclusive".into());
        }
        c.client_query_buffer_limit = v
    }),
    d!("client-output-buffer-limit", true, |c| format_output_limits(&c.client_output_buffer_limit), |c, a| {
        let words: Vec<&str> = a.iter().flat_map(|s| s.split_whitespace()).collect();
        parse_output_limits(&words, &mut c.client_output_buffer_limit)?
    }),
    Directive {
        name: "io-threads",
        alias: Some("threads"),
        mutable: false,
        get: |c| c.io_threads.to_string(),
        set: |c, a| {
            let n: usize = int(a)?;
            if !(1..=128).contains(&n) {
                return Err("argument must be between 1 and 128 inclusive".into());
            }
            c.io_threads = n;
            Ok(())
        },
    },
    d!("hz", true, |c| c.hz.to_string(), |c, a| c.hz = int::<u32>(a)?.clamp(1, 500)),
    d!("databases", false, |c| c.databases.to_string(), |c, a| c.databases = int(a)?),
    d!("daemonize", false, |c| bool_str(c.daemonize), |c, a| c.daemonize = yes_no(a)?),
    d!("pidfile", false, |c| c.pidfile.as_ref().map(|p| p.display().to_string()).unwrap_or_default(), |c, a| {
        let v = one(a)?;
        c.pidfile = (!v.is_empty()).then(|| PathBuf::from(v))
    }),
    d!("logfile", false, |c| c.logfile.as_ref().map(|p| p.display().to_string()).unwrap_or_default(), |c, a| {
        let v = one(a)?;
        c.logfile = (!v.is_empty()).then(|| PathBuf::from(v))
    }),
    d!("loglevel", true, |c| c.loglevel.clone(), |c, a| c.loglevel =
        one_of(a, &["debug", "verbose", "notice", "warning", "nothing"])?),
    d!("save", true, |c| c.save.clone(), |c, a| {
        // `save ""` disables snapshots; `save 3600 1 300 100` pairs of seconds / changes.
        // `--save "3600 1"` arrives as one argument: split it.
        let joined: Vec<&str> = a.iter().flat_map(|s| s.split_whitespace()).collect();
        if !joined.len().is_multiple_of(2) || joined.iter().any(|s| s.parse::<u64>().is_err()) {
            return Err("Invalid save parameters".into());
        }
        c.save = joined.join(" ")
    }),
    d!("enable-debug-command", false, |c| c.enable_debug_command.clone(), |c, a| c.enable_debug_command =
        one_of(a, &["no", "yes", "local"])?),
    d!("protected-mode", true, |c| bool_str(c.protected_mode), |c, a| c.protected_mode = yes_no(a)?),
    d!("appendonly", true, |c| bool_str(c.appendonly), |c, a| c.appendonly = yes_no(a)?),
    d!("appendfilename", false, |c| c.appendfilename.clone(), |c, a| c.appendfilename = one(a)?.to_string()),
    d!("appenddirname", false, |c| c.appenddirname.clone(), |c, a| c.appenddirname = one(a)?.to_string()),
    d!("appendfsync", true, |c| c.appendfsync.clone(), |c, a| c.appendfsync =
        one_of(a, &["always", "everysec", "no"])?),
    d!("auto-aof-rewrite-percentage", true, |c| c.auto_aof_rewrite_percentage.to_string(), |c, a| c
        .auto_aof_rewrite_percentage =
        int(a)?),
    d!("auto-aof-rewrite-min-size", true, |c| c.auto_aof_rewrite_min_size.to_string(), |c, a| c
        .auto_aof_rewrite_min_size =
        mem(a)?),
    d!("aof-load-truncated", true, |c| bool_str(c.aof_load_truncated), |c, a| c.aof_load_truncated = yes_no(a)?),
    d!("dbfilename", true, |c| c.dbfilename.clone(), |c, a| c.dbfilename = one(a)?.to_string()),
    d!("cluster-enabled", false, |c| bool_str(c.cluster_enabled), |c, a| c.cluster_enabled = yes_no(a)?),
    d!("cluster-config-file", false, |c| c.cluster_config_file.clone(), |c, a| c.cluster_config_file =
        one(a)?.to_string()),
    d!("cluster-node-timeout", true, |c| c.cluster_node_timeout.to_string(), |c, a| c.cluster_node_timeout = int(a)?),
    d!("cluster-port", false, |c| c.cluster_port.to_string(), |c, a| c.cluster_port = int(a)?),
    d!("cluster-announce-ip", true, |c| c.cluster_announce_ip.clone(), |c, a| c.cluster_announce_ip =
        one(a)?.to_string()),
    d!("cluster-announce-port", true, |c| c.cluster_announce_port.to_string(), |c, a| c.cluster_announce_port =
        int(a)?),
    d!("cluster-announce-bus-port", true, |c| c.cluster_announce_bus_port.to_string(), |c, a| c
        .cluster_announce_bus_port =
        int(a)?),
    d!("cluster-require-full-coverage", true, |c| bool_str(c.cluster_require_full_coverage), |c, a| c
        .cluster_require_full_coverage =
        yes_no(a)?),
    d!("cluster-allow-reads-when-down", true, |c| bool_str(c.cluster_allow_reads_when_down), |c, a| c
        .cluster_allow_reads_when_down =
        yes_no(a)?),
    d!("cluster-allow-pubsubshard-when-down", true, |c| bool_str(c.cluster_allow_pubsubshard_when_down), |c, a| c
        .cluster_allow_pubsubshard_when_down =
        yes_no(a)?),
    Directive {
        name: "cluster-replica-no-failover",
        alias: Some("cluster-slave-no-failover"),
        mutable: true,
        get: |c| bool_str(c.cluster_replica_no_failover),
        set: |c, a| {
            c.cluster_replica_no_failover = yes_no(a)?;
            Ok(())
        },
    },
    d!("cluster-allow-replica-migration", true, |c| bool_str(c.cluster_allow_replica_migration), |c, a| c
        .cluster_allow_replica_migration =
        yes_no(a)?),
    d!("cluster-migration-barrier", true, |c| c.cluster_migration_barrier.to_string(), |c, a| c
        .cluster_migration_barrier =
        int(a)?),
    Directive {
        name: "cluster-replica-validity-factor",
        alias: Some("cluster-slave-validity-factor"),
        mutable: true,
        get: |c| c.cluster_replica_validity_factor.to_string(),
        set: |c, a| {
            c.cluster_replica_validity_factor = int(a)?;
            Ok(())
        },
    },
    d!("maxmemory", true, |c| c.maxmemory.to_string(), |c, a| c.maxmemory = mem(a)?),
    d!("maxmemory-samples", true, |c| c.maxmemory_samples.to_string(), |c, a| {
        let n: u32 = int(a)?;
        if !(1..=i32::MAX as u32).contains(&n) {
            return Err("argument must be between 1 and 2147483647 inclusive".into());
        }
        c.maxmemory_samples = n
    }),
    d!("lfu-log-factor", true, |c| c.lfu_log_factor.to_string(), |c, a| c.lfu_log_factor = int(a)?),
    d!("lfu-decay-time", true, |c| c.lfu_decay_time.to_string(), |c, a| c.lfu_decay_time = int(a)?),
    d!("latency-monitor-threshold", true, |c| c.latency_monitor_threshold.to_string(), |c, a| {
        let v: i64 = int(a)?;
        if v < 0 {
            return Err("argument must be between 0 and 9223372036854775807 inclusive".into());
        }
        c.latency_monitor_threshold = v as u64
    }),
    d!("maxmemory-policy", true, |c| c.maxmemory_policy.clone(), |c, a| {
        c.maxmemory_policy = one_of(
            a,
            &[
                "volatile-lru",
                "volatile-lfu",
                "volatile-random",
                "volatile-ttl",
                "allkeys-lru",
                "allkeys-lfu",
                "allkeys-random",
                "noeviction",
            ],
        )?
    }),
    d!("slowlog-log-slower-than", true, |c| c.slowlog_log_slower_than.to_string(), |c, a| c.slowlog_log_slower_than =
        int(a)?),
    d!("slowlog-max-len", true, |c| c.slowlog_max_len.to_string(), |c, a| c.slowlog_max_len = int(a)?),
    Directive {
        name: "busy-reply-threshold",
        alias: Some("lua-time-limit"),
        mutable: true,
        get: |c| c.busy_reply_threshold.to_string(),
        set: |c, a| {
            c.busy_reply_threshold = int(a)?;
            Ok(())
        },
    },
    Directive {
        name: "replica-read-only",
        alias: Some("slave-read-only"),
        mutable: true,
        get: |c| bool_str(c.replica_read_only),
        set: |c, a| {
            c.replica_read_only = yes_no(a)?;
            Ok(())
        },
    },
    d!("masterauth", true, |c| c.masterauth.clone().unwrap_or_default(), |c, a| {
        let v = one(a)?;
        c.masterauth = (!v.is_empty()).then(|| v.to_string())
    }),
    d!("notify-keyspace-events", true, |c| super::notify_flags::to_text(c.notify_keyspace_events), |c, a| {
        c.notify_keyspace_events = super::notify_flags::parse(one(a)?)
            .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?
    }),
    d!("repl-backlog-size", true, |c| c.repl_backlog_size.to_string(), |c, a| c.repl_backlog_size = mem(a)?),
    Directive {
        name: "repl-timeout",
        alias: None,
        mutable: true,
        get: |c| c.repl_timeout.to_string(),
        set: |c, a| {
            c.repl_timeout = positive_int(a)?;
            Ok(())
        },
    },
    Directive {
        name: "repl-ping-replica-period",
        alias: Some("repl-ping-slave-period"),
        mutable: true,
        get: |c| c.repl_ping_replica_period.to_string(),
        set: |c, a| {
            c.repl_ping_replica_period = positive_int(a)?;
            Ok(())
        },
    },
    Directive {
        name: "replica-serve-stale-data",
        alias: Some("slave-serve-stale-data"),
        mutable: true,
        get: |c| bool_str(c.replica_serve_stale_data),
        set: |c, a| {
            c.replica_serve_stale_data = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "min-replicas-to-write",
        alias: Some("min-slaves-to-write"),
        mutable: true,
        get: |c| c.min_replicas_to_write.to_string(),
        set: |c, a| {
            c.min_replicas_to_write = int(a)?;
            Ok(())
        },
    },
    Directive {
        name: "min-replicas-max-lag",
        alias: Some("min-slaves-max-lag"),
        mutable: true,
        get: |c| c.min_replicas_max_lag.to_string(),
        set: |c, a| {
            c.min_replicas_max_lag = int(a)?;
            Ok(())
        },
    },
    Directive {
        name: "replica-priority",
        alias: Some("slave-priority"),
        mutable: true,
        get: |c| c.replica_priority.to_string(),
        set: |c, a| {
            c.replica_priority = int(a)?;
            Ok(())
        },
    },
    Directive {
        name: "replicaof",
        alias: Some("slaveof"),
        mutable: false,
        get: |c| c.replicaof.as_ref().map(|(h, p)| format!("{h} {p}")).unwrap_or_default(),
        set: |c, a| {
            match a {
                // A host name has no blanks; one with them could not be written back by
                // CONFIG REWRITE (CONFIG GET joins host and port with a space).
                [h, _] if h.is_empty() || h.contains(char::is_whitespace) => return Err("Invalid master host".into()),
                [h, p] => c.replicaof = Some((h.clone(), p.parse().map_err(|_| "Invalid master port".to_string())?)),
                _ => return Err("wrong number of arguments".into()),
            }
            Ok(())
        },
    },
    d!("lazyfree-lazy-user-del", true, |c| bool_str(c.lazyfree_lazy_user_del), |c, a| c.lazyfree_lazy_user_del =
        yes_no(a)?),
];

impl Config {
    /// Find a directive by name or alias, case-insensitively.
    pub fn directive(name: &str) -> Option<&'static Directive> {
        DIRECTIVES
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name) || d.alias.is_some_and(|a| a.eq_ignore_ascii_case(name)))
    }

    /// Apply one directive with its arguments (file line, flag or CONFIG SET).
    pub fn apply(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let d = Config::directive(name).ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        (d.set)(self, args)
    }

    /// The value of a directive as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<String> {
        Config::directive(name).map(|d| (d.get)(self))
    }
}
