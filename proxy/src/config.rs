//! nutcracker.yml: twemproxy's pool keys, unchanged, plus slotbox extensions (`cluster`,
//! `read_from`, `hot_key_cache`, distributions `jump` and `rendezvous`). Parsing only: errors
//! name the pool, the key and the problem, defaults are nutcracker's. Nothing here opens a
//! socket.

mod hot_key_cache;

pub use hot_key_cache::HotKeyCache;

use crate::error::ConfigError;
use crate::hash::HashKind;
/// How keys spread over a pool's servers: nutcracker's `ketama`, `modula`, `random`, and
/// slotbox's `jump` and `rendezvous`.
pub use crate::router::Distribution;
use yaml_rust2::{Yaml, YamlLoader};

/// Where a cluster pool sends read-only commands. `replica` and `prefer_replica` both read
/// from a replica of the slot's master whose link to it is up (checked with `ROLE`, see
/// `net::replica_link`), and from the master when no replica's link is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    Master,
    Replica,
    PreferReplica,
}

/// One `servers:` entry: `host:port:weight [name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `host:port`.
    pub addr: String,
    pub weight: u32,
    /// Ring identity: `name` when given, else `host:port` (`host` alone for port 11211).
    pub name: String,
}

/// One pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    pub name: String,
    /// `host:port`, or a unix socket path (starts with `/`).
    pub listen: String,
    /// Permissions of a unix socket (`/path 0777` or `/path:0777`, octal).
    pub listen_perm: Option<u32>,
    pub hash: HashKind,
    pub hash_tag: Option<[u8; 2]>,
    pub distribution: Distribution,
    /// Per-request timeout in ms (`None`: wait forever, nutcracker's default).
    pub timeout_ms: Option<u64>,
    pub backlog: u32,
    pub preconnect: bool,
    pub redis: bool,
    pub redis_auth: Option<String>,
    pub redis_db: u32,
    pub server_connections: u32,
    pub auto_eject_hosts: bool,
    pub server_retry_timeout_ms: u64,
    pub server_failure_limit: u32,
    pub client_connections: u32,
    pub servers: Vec<ServerConfig>,
    /// Sentinel pools: the sentinels (`host:port`) that say where the master is.
    pub sentinels: Vec<String>,
    /// Sentinel pools: the name the sentinels monitor the group under.
    pub master_name: Option<String>,
    pub cluster: bool,
    pub read_from: ReadFrom,
    /// The near cache for hot keys (`None`: off, the default).
    pub hot_key_cache: Option<HotKeyCache>,
    /// `tcpkeepalive`: SO_KEEPALIVE on accepted client connections (nutcracker 0.5).
    pub tcpkeepalive: bool,
}

impl PoolConfig {
    fn with_defaults(name: &str) -> PoolConfig {
        PoolConfig {
            name: name.to_string(),
            listen: String::new(),
            listen_perm: None,
            hash: HashKind::Fnv1a64,
            hash_tag: None,
            distribution: Distribution::Ketama,
            timeout_ms: None,
            backlog: 512,
            preconnect: false,
            redis: false,
            redis_auth: None,
            redis_db: 0,
            server_connections: 1,
            auto_eject_hosts: false,
            server_retry_timeout_ms: 30_000,
            server_failure_limit: 2,
            client_connections: 0,
            servers: Vec::new(),
            sentinels: Vec::new(),
            master_name: None,
            cluster: false,
            read_from: ReadFrom::Master,
            hot_key_cache: None,
            tcpkeepalive: false,
        }
    }
}

/// Parse a whole nutcracker.yml.
pub fn parse(text: &str) -> Result<Vec<PoolConfig>, ConfigError> {
    let docs =
        YamlLoader::load_from_str(text).map_err(|e| ConfigError::new(None, None, format!("invalid YAML: {e}")))?;
    let Some(Yaml::Hash(pools)) = docs.first() else {
        return Err(ConfigError::new(None, None, "expected a mapping of pool names to pools"));
    };
    let mut out: Vec<PoolConfig> = Vec::new();
    for (name, body) in pools {
        let name = scalar(name).ok_or_else(|| ConfigError::new(None, None, "pool name must be a string"))?;
        let pool = parse_pool(&name, body)?;
        if let Some(other) = out.iter().find(|p| p.listen == pool.listen) {
            let msg = format!("same listen address '{}' as pool '{}'", pool.listen, other.name);
            return Err(ConfigError::new(Some(&name), Some("listen"), msg));
        }
        out.push(pool);
    }
    if out.is_empty() {
        return Err(ConfigError::new(None, None, "no pools"));
    }
    Ok(out)
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_pool(name: &str, body: &Yaml) -> Result<PoolConfig, ConfigError> {
    let Yaml::Hash(keys) = body else {
        return Err(ConfigError::new(Some(name), None, "pool must be a mapping of keys"));
    };
    let mut pool = PoolConfig::with_defaults(name);
    for (k, v) in keys {
        let key = scalar(k).unwrap_or_default();
        let err = |problem: String| ConfigError::new(Some(name), Some(&key), problem);
        set_key(&mut pool, &key, v).map_err(err)?;
    }
    if pool.listen.is_empty() {
        return Err(ConfigError::new(Some(name), Some("listen"), "is missing"));
    }
    check_sentinel_pool(name, &pool)?;
    if pool.servers.is_empty() && pool.sentinels.is_empty() {
        return Err(ConfigError::new(Some(name), Some("servers"), "is missing or empty"));
    }
    if pool.read_from != ReadFrom::Master && !pool.cluster && pool.sentinels.is_empty() {
        let msg = "needs 'cluster: true' (plain pools have no replicas)";
        return Err(ConfigError::new(Some(name), Some("read_from"), msg));
    }
    Ok(pool)
}

fn set_key(pool: &mut PoolConfig, key: &str, v: &Yaml) -> Result<(), String> {
    let text = || scalar(v).ok_or_else(|| "must be a scalar value".to_string());
    match key {
        "listen" => (pool.listen, pool.listen_perm) = parse_listen(&text()?)?,
        "hash" => {
            let t = text()?;
            pool.hash = HashKind::from_name(&t).ok_or(format!("\"{t}\" is not a valid hash"))?;
        }
        "hash_tag" => {
            let t = text()?;
            let b = t.as_bytes();
            if b.len() != 2 {
                return Err(format!("\"{t}\" is not a valid hash tag string with two characters"));
            }
            pool.hash_tag = Some([b[0], b[1]]);
        }
        "distribution" => pool.distribution = parse_distribution(&text()?)?,
        "timeout" => pool.timeout_ms = Some(number(v)?),
        "backlog" => pool.backlog = number(v)? as u32,
        "client_connections" => pool.client_connections = number(v)? as u32,
        "server_connections" => {
            pool.server_connections = number(v)? as u32;
            if pool.server_connections == 0 {
                return Err("cannot be 0".into());
            }
        }
        "server_retry_timeout" => pool.server_retry_timeout_ms = number(v)?,
        "server_failure_limit" => pool.server_failure_limit = number(v)? as u32,
        "redis_db" => pool.redis_db = number(v)? as u32,
        "redis_auth" => pool.redis_auth = Some(text()?),
        "redis" => pool.redis = redis_protocol(v)?,
        "tcpkeepalive" => pool.tcpkeepalive = boolean(v)?,
        "preconnect" => pool.preconnect = boolean(v)?,
        "auto_eject_hosts" => pool.auto_eject_hosts = boolean(v)?,
        "cluster" => pool.cluster = boolean(v)?,
        "read_from" => pool.read_from = parse_read_from(&text()?)?,
        "servers" => pool.servers = parse_servers(v)?,
        "hot_key_cache" => pool.hot_key_cache = hot_key_cache::parse(v)?,
        "sentinels" => pool.sentinels = parse_sentinels(v)?,
        "master_name" => pool.master_name = Some(text()?),
        _ => return Err("is unknown".into()),
    }
    Ok(())
}

/// `redis`: slotbox-proxy speaks the Redis protocol only, so `redis: false` (nutcracker's
/// memcached pool) is refused rather than proxied as Redis. Without the key a pool is Redis.
fn redis_protocol(v: &Yaml) -> Result<bool, String> {
    match boolean(v)? {
        true => Ok(true),
        false => Err("false (a memcached pool) is not supported: slotbox-proxy proxies Redis only; \
                      set 'redis: true' for a Redis pool"
            .into()),
    }
}

/// A sentinel pool has `sentinels` and `master_name`, and no `servers` or `cluster` (the
/// sentinels say which servers).
fn check_sentinel_pool(name: &str, pool: &PoolConfig) -> Result<(), ConfigError> {
    let err = |key: &str, msg: &str| Err(ConfigError::new(Some(name), Some(key), msg));
    match (pool.sentinels.is_empty(), pool.master_name.is_some()) {
        (true, true) => err("sentinels", "is missing (master_name needs the sentinels to ask)"),
        (false, false) => err("master_name", "is missing (the name the sentinels monitor)"),
        (false, true) if pool.cluster => err("cluster", "cannot be true in a sentinel pool"),
        (false, true) if !pool.servers.is_empty() => {
            err("servers", "must be left out of a sentinel pool (the sentinels give them)")
        }
        _ => Ok(()),
    }
}

/// `sentinels: [host:port, ...]`.
fn parse_sentinels(v: &Yaml) -> Result<Vec<String>, String> {
    let Yaml::Array(items) = v else { return Err("must be a list".into()) };
    let mut out = Vec::new();
    for item in items {
        let t = scalar(item).ok_or("entries must be strings")?;
        match t.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => out.push(t.clone()),
            _ => return Err(format!("\"{t}\" is not host:port")),
        }
    }
    if out.is_empty() {
        return Err("is empty".into());
    }
    Ok(out)
}

fn number(v: &Yaml) -> Result<u64, String> {
    match v {
        Yaml::Integer(i) if *i >= 0 => Ok(*i as u64),
        _ => Err(format!("{} is not a number", scalar(v).unwrap_or_else(|| "value".into()))),
    }
}

fn boolean(v: &Yaml) -> Result<bool, String> {
    match v {
        Yaml::Boolean(b) => Ok(*b),
        _ => Err("is not \"true\" or \"false\"".into()),
    }
}

fn parse_distribution(t: &str) -> Result<Distribution, String> {
    Distribution::from_name(t).ok_or_else(|| format!("\"{t}\" is not a valid distribution"))
}

fn parse_read_from(t: &str) -> Result<ReadFrom, String> {
    match t {
        "master" => Ok(ReadFrom::Master),
        "replica" | "slave" => Ok(ReadFrom::Replica),
        "prefer_replica" => Ok(ReadFrom::PreferReplica),
        _ => Err(format!("\"{t}\" is not one of master, replica, prefer_replica")),
    }
}

impl PoolConfig {
    /// True when `listen` is a unix socket path.
    pub fn listens_on_unix(&self) -> bool {
        self.listen.starts_with('/')
    }
}

/// `host:port`, or a unix socket `/path` with optional octal permissions after a space (as
/// nutcracker writes them) or a colon.
fn parse_listen(t: &str) -> Result<(String, Option<u32>), String> {
    let t = t.trim();
    if t.starts_with('/') {
        let split = t.rsplit_once(' ').or_else(|| t.rsplit_once(':'));
        if let Some((path, perm)) = split {
            if !perm.is_empty() && perm.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                let perm = u32::from_str_radix(perm, 8).map_err(|_| format!("\"{t}\" has invalid permissions"))?;
                return Ok((path.trim_end().to_string(), Some(perm)));
            }
            if t.contains(' ') {
                return Err(format!("\"{t}\" has invalid permissions (expected octal, like 0777)"));
            }
        }
        return Ok((t.to_string(), None));
    }
    let (host, port) = t.rsplit_once(':').ok_or("has an invalid \"hostname:port\" format string")?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(format!("\"{t}\" has an invalid port in \"hostname:port\" format string"));
    }
    Ok((t.to_string(), None))
}

fn parse_servers(v: &Yaml) -> Result<Vec<ServerConfig>, String> {
    let Yaml::Array(items) = v else {
        return Err("must be a list".into());
    };
    let mut servers: Vec<ServerConfig> = items
        .iter()
        .map(|item| {
            let t = scalar(item).ok_or("entries must be strings")?;
            parse_server(&t)
        })
        .collect::<Result<_, String>>()?;
    // nutcracker sorts a pool's servers by name (shorter names first, then bytewise) while
    // checking for duplicates, and that order is what modula indexes: keep the same order.
    servers.sort_by(|a, b| a.name.len().cmp(&b.name.len()).then_with(|| a.name.as_bytes().cmp(b.name.as_bytes())));
    if let Some(w) = servers.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("duplicate server name \"{}\"", w[0].name));
    }
    Ok(servers)
}

/// `host:port:weight [name]`.
pub fn parse_server(t: &str) -> Result<ServerConfig, String> {
    let bad = || format!("\"{t}\" is not in \"hostname:port:weight [name]\" format");
    let (spec, name) = match t.split_once(' ') {
        Some((s, n)) => (s, Some(n.trim().to_string())),
        None => (t, None),
    };
    let (addr, weight) = spec.rsplit_once(':').ok_or_else(bad)?;
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| format!("\"{t}\" has an invalid port"))?;
    let weight: u32 = weight.parse().map_err(|_| format!("\"{t}\" has an invalid weight"))?;
    if weight == 0 {
        return Err(format!("\"{t}\" has a zero weight"));
    }
    if host.is_empty() {
        return Err(bad());
    }
    let name = name.unwrap_or_else(|| if port == 11211 { host.to_string() } else { addr.to_string() });
    Ok(ServerConfig { addr: addr.to_string(), weight, name })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod ops_tests;
