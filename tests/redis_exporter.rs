//! The standard Prometheus Redis exporter (oliver006/redis_exporter, Debian's
//! `prometheus-redis-exporter`) scraping a slotbox cluster master, then its replica: every metric
//! it derives from INFO, CONFIG GET, CLUSTER INFO, SLOWLOG and LATENCY comes out with the
//! value the node reports itself. Counters that the exporter's own commands move are checked
//! between a reading taken before the scrape and one taken after it.
//!
//! The exporter runs as a child on a free 127.0.0.1 port (killed on drop); the nodes are
//! embedded on free ports; every wait is bounded. Prints the metric list next to INFO.

mod common;

use common::{free_port, text, wait_for, RawClient, WAIT};
use slotbox::protocol::Frame;
use slotbox::Cluster;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

const EXPORTER: &str = "prometheus-redis-exporter";

/// The exporter child, killed on drop.
struct Exporter {
    child: Child,
    addr: SocketAddr,
}

impl Exporter {
    fn start(target: SocketAddr) -> Exporter {
        assert!(
            common::on_path(EXPORTER),
            "{EXPORTER} is not installed (apt-get install prometheus-redis-exporter; .ci/run does)"
        );
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new(EXPORTER)
            .args(["-redis.addr", &format!("redis://{target}"), "-web.listen-address", &addr.to_string()])
            .arg("-redis-only-metrics")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the exporter");
        let e = Exporter { child, addr };
        assert!(wait_for(WAIT, || std::net::TcpStream::connect(e.addr).is_ok()), "the exporter never listened");
        e
    }

    /// One scrape: (series with labels, value).
    fn scrape(&self) -> HashMap<String, f64> {
        let mut s = std::net::TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        body.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty() && !l.starts_with("HTTP") && l.contains(' '))
            .filter_map(|l| {
                let (series, v) = l.rsplit_once(' ')?;
                Some((series.to_string(), v.parse().ok()?))
            })
            .collect()
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every `field:value` of INFO everything.
fn info(c: &mut RawClient) -> HashMap<String, String> {
    text(&c.call(&["INFO", "everything"]))
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn num(info: &HashMap<String, String>, field: &str) -> f64 {
    info.get(field).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("INFO has no number {field}"))
}

/// `key=value` of an INFO line like `cmdstat_set:calls=3,usec=40,...`.
fn sub(info: &HashMap<String, String>, field: &str, key: &str) -> f64 {
    let line = info.get(field).unwrap_or_else(|| panic!("INFO has no {field}"));
    line.split(',')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} has no {key}: {line}"))
}

fn metric(m: &HashMap<String, f64>, series: &str) -> f64 {
    *m.get(series).unwrap_or_else(|| {
        let mut near: Vec<&String> = m.keys().filter(|k| k.starts_with(series.split('{').next().unwrap())).collect();
        near.sort();
        panic!("the exporter has no {series}; near: {near:?}")
    })
}

/// Prints `metric  exporter  node` and checks the two agree.
struct Report(Vec<String>);

impl Report {
    fn same(&mut self, series: &str, scraped: f64, node: f64) {
        self.0.push(format!("{series:<60} {scraped:>16} {node:>16}"));
        assert!((scraped - node).abs() <= 1e-6 * node.abs().max(1.0), "{series}: exporter {scraped}, node {node}");
    }

    fn between(&mut self, series: &str, scraped: f64, before: f64, after: f64) {
        self.0.push(format!("{series:<60} {scraped:>16} {before:>7}..{after}"));
        assert!(before <= scraped && scraped <= after, "{series}: exporter {scraped}, node {before}..{after}");
    }
}

#[test]
fn redis_exporter_metrics_match_the_node() {
    let cluster = Cluster::builder().masters(1).replicas(1).start().expect("cluster");
    let (master, replica) = {
        let role0 = RawClient::connect(cluster.node(0).addr()).call(&["ROLE"]);
        let is_master = matches!(&role0, Frame::Array(a) if a.first() == Some(&Frame::Bulk("master".into())));
        if is_master {
            (cluster.node(0).addr(), cluster.node(1).addr())
        } else {
            (cluster.node(1).addr(), cluster.node(0).addr())
        }
    };
    let mut c = RawClient::connect(master);
    assert!(wait_for(WAIT, || common::info_value(&mut c, "replication", "connected_slaves").as_deref() == Some("1")));
    // A workload with hits, misses, a slow log of known length and a latency event.
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), Frame::Simple("OK".into()));
    for i in 0..40 {
        c.call(&["SET", &format!("{{t}}k{i}"), "value"]);
        c.call(&["GET", &format!("{{t}}k{}", i * 2)]);
    }
    c.call(&["EXPIRE", "{t}k1", "1000"]);
    // The active expiry cycle walks every slot within about a second: then avg_ttl is known.
    assert!(wait_for(WAIT, || {
        let ks = common::info_value(&mut c, "keyspace", "db0").unwrap_or_default();
        !ks.ends_with("avg_ttl=0")
    }));
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]), Frame::Simple("OK".into()));
    c.call(&["CONFIG", "SET", "latency-monitor-threshold", "5"]);
    c.call(&["DEBUG", "SLEEP", "0.02"]);
    // No later event (a slow INFO on a loaded machine) may replace that one.
    c.call(&["CONFIG", "SET", "latency-monitor-threshold", "0"]);
    assert!(wait_for(WAIT, || {
        let ack = common::info_value(&mut RawClient::connect(replica), "replication", "slave_repl_offset");
        ack == common::info_value(&mut c, "replication", "master_repl_offset")
    }));

    let exporter = Exporter::start(master);
    let before = info(&mut c);
    let m = exporter.scrape();
    let after = info(&mut c);
    let mut r = Report(Vec::new());
    r.same("redis_up", metric(&m, "redis_up"), 1.0);
    for (series, field) in [
        ("redis_db_keys{db=\"db0\"}", None),
        ("redis_db_keys_expiring{db=\"db0\"}", None),
        ("redis_connected_slaves", Some("connected_slaves")),
        ("redis_keyspace_hits_total", Some("keyspace_hits")),
        ("redis_keyspace_misses_total", Some("keyspace_misses")),
        ("redis_memory_max_bytes", Some("maxmemory")),
        ("redis_rdb_last_save_timestamp_seconds", Some("rdb_last_save_time")),
        ("redis_blocked_clients", Some("blocked_clients")),
        ("redis_pubsub_channels", Some("pubsub_channels")),
        ("redis_cluster_enabled", Some("cluster_enabled")),
        ("redis_mem_clients_normal", Some("mem_clients_normal")),
        ("redis_aof_enabled", Some("aof_enabled")),
        ("redis_replication_backlog_bytes", Some("repl_backlog_size")),
    ] {
        let node = match field {
            Some(f) => num(&before, f),
            None if series.contains("expiring") => sub(&before, "db0", "expires"),
            None => sub(&before, "db0", "keys"),
        };
        r.same(series, metric(&m, series), node);
    }
    // The exporter's own connection is one of the clients while it scrapes.
    r.same("redis_connected_clients", metric(&m, "redis_connected_clients"), num(&before, "connected_clients") + 1.0);
    // Moved by the exporter's own connection and commands: between the two readings.
    for (series, field) in [
        ("redis_connections_received_total", "total_connections_received"),
        ("redis_commands_processed_total", "total_commands_processed"),
        ("redis_net_input_bytes_total", "total_net_input_bytes"),
        ("redis_uptime_in_seconds", "uptime_in_seconds"),
        // The master pings its replicas through the stream now and then.
        ("redis_master_repl_offset", "master_repl_offset"),
    ] {
        let (lo, hi) = (num(&before, field), num(&after, field));
        r.between(series, metric(&m, series), lo.min(hi), lo.max(hi));
    }
    // INFO commandstats / latencystats, per command.
    for cmd in ["set", "get"] {
        let field = format!("cmdstat_{cmd}");
        r.same(
            &format!("redis_commands_total{{cmd=\"{cmd}\"}}"),
            metric(&m, &format!("redis_commands_total{{cmd=\"{cmd}\"}}")),
            sub(&before, &field, "calls"),
        );
        let secs = sub(&before, &field, "usec") / 1e6;
        let series = format!("redis_commands_duration_seconds_total{{cmd=\"{cmd}\"}}");
        r.same(&series, metric(&m, &series), secs);
        let p50 = sub(&before, &format!("latency_percentiles_usec_{cmd}"), "p50");
        let series = format!("redis_latency_percentiles_usec{{cmd=\"{cmd}\",quantile=\"50\"}}");
        r.same(&series, metric(&m, &series), p50);
        let series = format!("redis_latency_percentiles_usec_count{{cmd=\"{cmd}\"}}");
        r.same(&series, metric(&m, &series), sub(&before, &field, "calls"));
    }
    // Memory: the exporter's reading lies between two of the node's (allocations move it).
    let avg_ttl = sub(&before, "db0", "avg_ttl");
    assert!(avg_ttl > 990_000.0 && avg_ttl <= 1_000_000.0, "avg_ttl {avg_ttl} ms for one key of 1000 s");
    let series = "redis_db_avg_ttl_seconds{db=\"db0\"}";
    r.same(series, metric(&m, series), avg_ttl / 1000.0);
    let (lo, hi) = (num(&before, "used_memory"), num(&after, "used_memory"));
    r.between("redis_memory_used_bytes", metric(&m, "redis_memory_used_bytes"), lo.min(hi) * 0.9, lo.max(hi) * 1.1);
    // CLUSTER INFO.
    let cluster_info = text(&c.call(&["CLUSTER", "INFO"]));
    let ci = |f: &str| -> f64 {
        let v = cluster_info.lines().find_map(|l| l.strip_prefix(&format!("{f}:"))).unwrap().trim();
        if f == "cluster_state" {
            f64::from(v == "ok")
        } else {
            v.parse().unwrap()
        }
    };
    for f in ["cluster_state", "cluster_slots_assigned", "cluster_slots_ok", "cluster_known_nodes", "cluster_size"] {
        r.same(&format!("redis_{f}"), metric(&m, &format!("redis_{f}")), ci(f));
    }
    // SLOWLOG: length, the newest entry's id and duration.
    let Frame::Integer(len) = c.call(&["SLOWLOG", "LEN"]) else { panic!("SLOWLOG LEN") };
    r.same("redis_slowlog_length", metric(&m, "redis_slowlog_length"), len as f64);
    let Frame::Array(newest) = c.call(&["SLOWLOG", "GET", "1"]) else { panic!("SLOWLOG GET") };
    let Some(Frame::Array(entry)) = newest.first() else { panic!("empty slow log") };
    let (Frame::Integer(id), Frame::Integer(usec)) = (&entry[0], &entry[2]) else { panic!("{entry:?}") };
    r.same("redis_slowlog_last_id", metric(&m, "redis_slowlog_last_id"), *id as f64);
    r.same(
        "redis_last_slow_execution_duration_seconds",
        metric(&m, "redis_last_slow_execution_duration_seconds"),
        *usec as f64 / 1e6,
    );
    // LATENCY LATEST: the DEBUG SLEEP spike.
    let Frame::Array(latest) = c.call(&["LATENCY", "LATEST"]) else { panic!("LATENCY LATEST") };
    let Some(Frame::Array(ev)) =
        latest.iter().find(|e| matches!(e, Frame::Array(a) if a[0] == Frame::Bulk("command".into())))
    else {
        panic!("no command latency event: {latest:?}")
    };
    let (Frame::Integer(at), Frame::Integer(ms)) = (&ev[1], &ev[2]) else { panic!("{ev:?}") };
    r.same(
        "redis_latency_spike_last{event_name=\"command\"}",
        metric(&m, "redis_latency_spike_last{event_name=\"command\"}"),
        *at as f64,
    );
    r.same(
        "redis_latency_spike_duration_seconds{event_name=\"command\"}",
        metric(&m, "redis_latency_spike_duration_seconds{event_name=\"command\"}"),
        *ms as f64 / 1000.0,
    );
    // CONFIG GET.
    for (series, name) in [("redis_config_maxclients", "maxclients"), ("redis_config_io_threads", "io-threads")] {
        let Frame::Array(kv) = c.call(&["CONFIG", "GET", name]) else { panic!("CONFIG GET {name}") };
        r.same(series, metric(&m, series), text(&kv[1]).parse().unwrap());
    }
    // INFO server, as labels.
    let instance = m.keys().find(|k| k.starts_with("redis_instance_info{")).expect("redis_instance_info");
    for label in ["redis_version=\"7.0.15\"", "role=\"master\"", "redis_mode=\"cluster\""] {
        assert!(instance.contains(label), "{instance} lacks {label}");
    }
    // The master's view of its replica (INFO's slave0 line).
    let offset = |i: &HashMap<String, String>| sub(i, "slave0", "offset");
    let series = m.keys().find(|k| k.starts_with("redis_connected_slave_offset_bytes{")).expect("slave offset").clone();
    assert!(series.contains("slave_state=\"online\""), "{series}");
    r.between(&series, metric(&m, &series), offset(&before), offset(&after));
    drop(exporter);

    // The replica, scraped on its own.
    let exporter = Exporter::start(replica);
    let mut rc = RawClient::connect(replica);
    let before = info(&mut rc);
    let m = exporter.scrape();
    let after = info(&mut rc);
    assert_eq!(before.get("master_link_status").map(String::as_str), Some("up"));
    let labels = format!("{{master_host=\"127.0.0.1\",master_port=\"{}\"}}", master.port());
    let link = format!("redis_master_link_up{labels}");
    r.same(&link, metric(&m, &link), 1.0);
    r.same("redis_connected_slaves (replica)", metric(&m, "redis_connected_slaves"), num(&before, "connected_slaves"));
    let (lo, hi) = (num(&before, "slave_repl_offset"), num(&after, "slave_repl_offset"));
    let series = format!("redis_slave_repl_offset{labels}");
    r.between(&series, metric(&m, &series), lo, hi);
    r.same("redis_db_keys{db=\"db0\"} (replica)", metric(&m, "redis_db_keys{db=\"db0\"}"), sub(&before, "db0", "keys"));
    let instance = m.keys().find(|k| k.starts_with("redis_instance_info{")).expect("redis_instance_info");
    assert!(instance.contains("role=\"slave\""), "{instance}");
    eprintln!("{:<60} {:>16} {:>16}\n{}", "metric", "exporter", "node (INFO...)", r.0.join("\n"));
}
