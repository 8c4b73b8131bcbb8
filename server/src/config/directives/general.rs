//! General directives: the process (daemonize, supervision, logging, threads, signals), security
//! switches (passwords, protected actions, ACL settings), monitoring (slow log, latency) and
//! keyspace notifications.

use super::super::special::{LATENCY_TRACKING_INFO_PERCENTILES, NOTIFY_KEYSPACE_EVENTS, OOM_SCORE_ADJ_VALUES};
use super::checks;
use super::row::{field, flags, int, nullable, one_of, special, string, uint, yes, Directive, Store, INT_MAX};
use super::row::{HIDDEN, LONG_MAX, MUTABLE, PROTECTED_ACTION, SENSITIVE};

type D = Directive;

const LOGLEVEL: &[(&str, u32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const SUPERVISED: &[(&str, u32)] = &[("upstart", 1), ("systemd", 2), ("auto", 3), ("no", 0)];
const SYSLOG_FACILITY: &[(&str, u32)] = &[
    ("user", 8),
    ("local0", 128),
    ("local1", 136),
    ("local2", 144),
    ("local3", 152),
    ("local4", 160),
    ("local5", 168),
    ("local6", 176),
    ("local7", 184),
];
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const SHUTDOWN_ON_SIG: &[(&str, u32)] = &[("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1 << 2), ("resetchannels", 0)];
const SANITIZE_DUMP_PAYLOAD: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const PROPAGATION_ERROR_BEHAVIOR: &[(&str, u32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];

pub static ROWS: &[Directive] = &[
    // The process.
    D::new("daemonize", 0, yes(false)).field(field!(daemonize)),
    D::new("supervised", 0, one_of(SUPERVISED, 0)).field(field!(supervised)),
    D::new("pidfile", 0, nullable()).field(field!(pidfile)),
    D::new("databases", 0, int(1, INT_MAX, 16)).field(field!(databases)),
    D::new("io-threads", 0, int(1, 128, 1)).own_name("threads").field(field!(io_threads)),
    D::new("io-threads-do-reads", 0, yes(false)),
    D::new("hz", MUTABLE, int(0, INT_MAX, 10)).field(Store::Field {
        get: |c| super::super::kinds::Value::Int(c.hz as i128),
        // Redis takes any value and keeps it within 1..=500.
        set: |c, v| c.hz = v.as_int().clamp(1, 500) as u32,
    }),
    D::new("dynamic-hz", MUTABLE, yes(true)),
    D::new("always-show-logo", 0, yes(false)),
    D::new("set-proc-title", 0, yes(true)),
    D::new("proc-title-template", MUTABLE, string("{title} {listen-addr} {server-mode}"))
        .check(checks::proc_title_template),
    D::new("server_cpulist", 0, nullable()),
    D::new("bio_cpulist", 0, nullable()),
    D::new("aof_rewrite_cpulist", 0, nullable()),
    D::new("bgsave_cpulist", 0, nullable()),
    D::new("oom-score-adj", MUTABLE, one_of(OOM_SCORE_ADJ, 0)),
    D::new("oom-score-adj-values", MUTABLE, special(&OOM_SCORE_ADJ_VALUES)),
    D::new("disable-thp", 0, yes(true)),
    D::new("shutdown-on-sigint", MUTABLE, flags(SHUTDOWN_ON_SIG, 0)).check(checks::shutdown_flags),
    D::new("shutdown-on-sigterm", MUTABLE, flags(SHUTDOWN_ON_SIG, 0)).check(checks::shutdown_flags),
    D::new("shutdown-timeout", MUTABLE, int(0, INT_MAX, 10)),
    D::new("crash-log-enabled", MUTABLE, yes(true)),
    D::new("crash-memcheck-enabled", MUTABLE, yes(true)),
    D::new("use-exit-on-panic", MUTABLE | HIDDEN, yes(false)),
    D::new("watchdog-period", MUTABLE | HIDDEN, int(0, INT_MAX, 0)),
    D::new("ignore-warnings", MUTABLE, string("")),
    // Logging.
    D::new("loglevel", MUTABLE, one_of(LOGLEVEL, 2)).field(field!(loglevel)),
    D::new("logfile", 0, string("")).field(field!(logfile)),
    D::new("syslog-enabled", 0, yes(false)),
    D::new("syslog-ident", 0, string("redis")),
    D::new("syslog-facility", 0, one_of(SYSLOG_FACILITY, 128)),
    // Security.
    D::new("requirepass", MUTABLE | SENSITIVE, nullable()).field(field!(requirepass)),
    D::new("enable-protected-configs", 0, one_of(PROTECTED_ACTION, 0)).field(field!(enable_protected_configs)),
    D::new("enable-debug-command", 0, one_of(PROTECTED_ACTION, 0)).field(field!(enable_debug_command)),
    D::new("enable-module-command", 0, one_of(PROTECTED_ACTION, 0)),
    D::new("aclfile", 0, string("")).check(checks::no_aclfile),
    D::new("acllog-max-len", MUTABLE, int(0, LONG_MAX, 128)),
    D::new("acl-pubsub-default", MUTABLE, one_of(ACL_PUBSUB_DEFAULT, 0)),
    D::new("sanitize-dump-payload", MUTABLE, one_of(SANITIZE_DUMP_PAYLOAD, 0)),
    D::new("propagation-error-behavior", MUTABLE, one_of(PROPAGATION_ERROR_BEHAVIOR, 0)),
    // Monitoring.
    D::new("slowlog-log-slower-than", MUTABLE, int(-1, LONG_MAX, 10000)).field(field!(slowlog_log_slower_than)),
    D::new("slowlog-max-len", MUTABLE, int(0, LONG_MAX, 128)).field(field!(slowlog_max_len)),
    D::new("latency-monitor-threshold", MUTABLE, int(0, LONG_MAX, 0)).field(field!(latency_monitor_threshold)),
    D::new("latency-tracking", MUTABLE, yes(true)),
    D::new("latency-tracking-info-percentiles", MUTABLE, special(&LATENCY_TRACKING_INFO_PERCENTILES)),
    // Keyspace notifications, client-side caching, scripts.
    D::new("notify-keyspace-events", MUTABLE, special(&NOTIFY_KEYSPACE_EVENTS)).field(field!(notify_keyspace_events)),
    D::new("tracking-table-max-keys", MUTABLE, uint(0, LONG_MAX, 1_000_000)).field(field!(tracking_table_max_keys)),
    D::new("busy-reply-threshold", MUTABLE, int(0, LONG_MAX, 5000))
        .alias("lua-time-limit")
        .field(field!(busy_reply_threshold)),
];
