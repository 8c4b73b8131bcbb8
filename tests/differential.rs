//! Differential test: real `redis-server` 7.0 and an embedded slotbox server get the same
//! seeded-random sequence of commands over raw RESP, and every reply must be identical (byte
//! for byte, errors included; see `differential/commands.rs` for the few normalized replies).
//!
//! Environment:
//! - `DIFF_SEED`: the seed (default: a fixed one; printed either way).
//! - `DIFF_COMMANDS`: commands in the RESP2 run (default 3000); the RESP3 run sends a third.
//! - `DIFF_KEEP_GOING=1`: do not stop at the first divergence; resynchronize both keyspaces
//!   and report every divergence at the end (for triage).
//! - `DIFF_STATS=1`: print, per generator row, how many redis replies were errors (coverage).
//! - `DIFF_PARANOID=1`: also compare DBSIZE after every command (finds the command that
//!   broke a key count, at the price of twice the round trips).
//! - `DIFF_DIGEST_EVERY`: compare the two datasets every this many commands (default 10; 1
//!   finds the command that made them differ): `DEBUG DIGEST` and `DEBUG DIGEST-VALUE` of
//!   every key must be the same hex on both, so a write that answers alike but stores
//!   something else is caught too. Also compared after the last command and after every
//!   expiry the harness lets pass.
//! - `SLOTBOX_SKIP_DIFFERENTIAL=1`: skip when `redis-server` is not installed. Without it a
//!   missing `redis-server` fails the test: CI installs it.

#[path = "differential/commands.rs"]
mod commands;
mod common;
#[path = "differential/digests.rs"]
mod digests;
#[path = "differential/events.rs"]
mod events;

use commands::{pick_entry, Args, Check, Gen, KEYS};
use common::{encode_command, on_path, show, RawClient, ServerProcess};
use rand::SeedableRng;
use slotbox::protocol::{encode, Frame, Protocol};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const DEFAULT_SEED: u64 = 20240607;
const DEFAULT_COMMANDS: usize = 3000;
const DEFAULT_DIGEST_EVERY: usize = 10;
/// Most SCAN calls followed for one full iteration before giving up.
const MAX_SCAN_CALLS: usize = 10_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        Err(_) => default,
    }
}

/// The two servers under comparison and a connection to each.
struct Pair {
    _redis: ServerProcess,
    _slotbox: slotbox::Server,
    redis: RawClient,
    slotbox: RawClient,
    proto: Protocol,
    /// Keyspace-event subscribers (redis, slotbox), when the run compares events.
    subs: Option<(RawClient, RawClient)>,
}

impl Pair {
    fn start(proto: Protocol) -> Pair {
        let redis_proc = ServerProcess::redis();
        let slotbox_server = slotbox::Server::start().expect("start embedded slotbox");
        let mut pair = Pair {
            redis: RawClient::connect(redis_proc.addr()),
            slotbox: RawClient::connect(slotbox_server.addr()),
            _redis: redis_proc,
            _slotbox: slotbox_server,
            proto,
            subs: None,
        };
        if proto == Protocol::Resp3 {
            for (who, client) in [("redis", &mut pair.redis), ("slotbox", &mut pair.slotbox)] {
                let reply = client.call(&["HELLO", "3"]);
                assert!(matches!(reply, Frame::Map(_)), "{who}: HELLO 3 did not return a map: {reply:?}");
            }
        }
        pair
    }

    /// Turn keyspace events on in both servers and subscribe to them (`events.rs`).
    fn watch_events(&mut self) {
        for c in [&mut self.redis, &mut self.slotbox] {
            assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", events::FLAGS]), Frame::ok());
        }
        self.subs = Some((events::subscriber(self._redis.addr()), events::subscriber(self._slotbox.addr())));
    }

    /// The keyspace events since the last call must be the same on both (when watched).
    fn compare_events(&mut self) -> Result<usize, String> {
        let Some((rs, ss)) = self.subs.as_mut() else { return Ok(0) };
        events::compare((&mut self.redis, rs), (&mut self.slotbox, ss))
    }

    /// Send `args` to both; returns (redis reply, slotbox reply), each parsed and raw.
    fn both(&mut self, args: &Args) -> Result<[(Frame, Vec<u8>); 2], String> {
        let req = encode_command(args);
        let mut out = Vec::with_capacity(2);
        for (who, client) in [("redis", &mut self.redis), ("slotbox", &mut self.slotbox)] {
            client.try_send_raw(&req).map_err(|e| format!("cannot send to {who}: {e}"))?;
            out.push(client.try_read_reply().map_err(|e| format!("{who} gave no reply: {e}"))?);
        }
        let slotbox = out.pop().expect("two replies");
        let redis = out.pop().expect("two replies");
        Ok([redis, slotbox])
    }

    /// Replace a dead slotbox connection (after a protocol error or crash) in keep-going mode.
    fn reconnect(&mut self) {
        self.redis = RawClient::connect(self._redis.addr());
        self.slotbox = RawClient::connect(self._slotbox.addr());
        if self.proto == Protocol::Resp3 {
            self.redis.call(&["HELLO", "3"]);
            self.slotbox.call(&["HELLO", "3"]);
        }
        if self.subs.is_some() {
            self.watch_events();
        }
    }

    /// Both servers' keys (`KEYS *`, sorted) and DBSIZE, for a divergence report.
    fn keyspaces(&mut self) -> String {
        let mut out = Vec::new();
        for (who, client) in [("redis", &mut self.redis), ("slotbox", &mut self.slotbox)] {
            let keys = match client.try_call(&["KEYS", "*"]) {
                Ok(reply) => show(&encoded(&normalize(Check::Unordered, &reply))),
                Err(e) => format!("({e})"),
            };
            let dbsize = client.try_call(&["DBSIZE"]).map(|f| format!("{f:?}")).unwrap_or_else(|e| e.to_string());
            out.push(format!("{who} keyspace: {keys} DBSIZE {dbsize}"));
        }
        out.join("\n  ")
    }

    /// Make both keyspaces equal again after a divergence: delete every key of the key space.
    fn resync(&mut self) {
        let mut del: Vec<&str> = vec!["DEL"];
        del.extend(KEYS);
        self.redis.call(&del);
        self.slotbox.call(&del);
    }
}

/// `EXISTS` of every key of the key space.
fn touch_all() -> Args {
    std::iter::once("EXISTS").chain(KEYS.iter().copied()).map(|s| s.as_bytes().to_vec()).collect()
}

fn encoded(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    encode(f, Protocol::Resp3, &mut out);
    out
}

fn sorted(items: &[Frame]) -> Vec<Frame> {
    let mut items = items.to_vec();
    items.sort_by_key(encoded);
    items
}

/// Bring a reply to the form in which `check` compares it.
fn normalize(check: Check, f: &Frame) -> Frame {
    match (check, f) {
        // Sorted, but an array stays an array and a RESP3 set a set (SMEMBERS replies `~`).
        (Check::Unordered, Frame::Array(items)) => Frame::Array(sorted(items)),
        (Check::Unordered, Frame::Set(items)) => Frame::Set(sorted(items)),
        (Check::AnyKey, Frame::Bulk(_)) => Frame::bulk_static("<some key>"),
        _ => f.clone(),
    }
}

/// Do two replies agree under `check`?
fn agree(check: Check, (a, a_raw): &(Frame, Vec<u8>), (b, b_raw): &(Frame, Vec<u8>)) -> bool {
    match (check, a, b) {
        (Check::Clock(tol), Frame::Integer(x), Frame::Integer(y)) if *x >= 0 && *y >= 0 => (x - y).abs() <= tol,
        // The first page of a scan depends on the server's layout: compared in `step`.
        (Check::ScanAll, _, _) if !a.is_error() && !b.is_error() => true,
        (Check::Unordered | Check::AnyKey, _, _) => encoded(&normalize(check, a)) == encoded(&normalize(check, b)),
        _ => a_raw == b_raw,
    }
}

/// Follow one server's SCAN cursor to the end; returns the sorted set of keys it returned.
fn scan_all(client: &mut RawClient, args: &Args) -> Result<BTreeSet<Vec<u8>>, String> {
    let mut keys = BTreeSet::new();
    let mut req = args.clone();
    for _ in 0..MAX_SCAN_CALLS {
        let reply = client.try_call(&req).map_err(|e| e.to_string())?;
        let Frame::Array(parts) = &reply else {
            return Err(format!("SCAN reply is not an array: {reply:?}"));
        };
        let [Frame::Bulk(cursor), Frame::Array(batch)] = &parts[..] else {
            return Err(format!("SCAN reply is not [cursor, keys]: {reply:?}"));
        };
        for k in batch {
            keys.insert(k.as_bytes().ok_or_else(|| format!("SCAN returned a non-string key: {k:?}"))?.to_vec());
        }
        if &cursor[..] == b"0" {
            return Ok(keys);
        }
        req[1] = cursor.to_vec();
    }
    Err(format!("SCAN did not finish after {MAX_SCAN_CALLS} calls"))
}

fn show_keys(keys: &BTreeSet<Vec<u8>>) -> String {
    keys.iter().map(|k| show(k)).collect::<Vec<_>>().join(", ")
}

fn show_args(args: &Args) -> String {
    args.iter().map(|a| format!("\"{}\"", show(a))).collect::<Vec<_>>().join(" ")
}

/// Run one command on both servers; returns redis's reply, or `Err` describing a divergence.
fn step(pair: &mut Pair, args: &Args, check: Check) -> Result<Frame, String> {
    let [redis, slotbox] = pair.both(args)?;
    if !agree(check, &redis, &slotbox) {
        return Err(format!("redis:   {}\n  slotbox: {}", show(&redis.1), show(&slotbox.1)));
    }
    match check {
        Check::ScanAll if !redis.0.is_error() => {
            let r = scan_all(&mut pair.redis, args).map_err(|e| format!("redis: {e}"))?;
            let s = scan_all(&mut pair.slotbox, args).map_err(|e| format!("slotbox: {e}"))?;
            if r != s {
                return Err(format!("full scan, redis:   [{}]\n  slotbox: [{}]", show_keys(&r), show_keys(&s)));
            }
        }
        Check::ExactThenSleep(ms) => std::thread::sleep(Duration::from_millis(ms)),
        _ => {}
    }
    Ok(redis.0)
}

/// One run: `count` commands from `seed`. Returns the divergences found (at most one unless
/// `keep_going`).
fn run(label: &str, proto: Protocol, seed: u64, count: usize, keep_going: bool) -> Vec<String> {
    let paranoid = std::env::var("DIFF_PARANOID").as_deref() == Ok("1");
    let digest_every: usize = env_or("DIFF_DIGEST_EVERY", DEFAULT_DIGEST_EVERY).max(1);
    let (mut digests, mut non_empty, mut events) = (0usize, 0usize, 0usize);
    let mut pair = Pair::start(proto);
    pair.watch_events();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let mut gen = Gen { rng: rand::rngs::StdRng::seed_from_u64(seed), now, touch_after: false };
    let mut stats = Stats::default();
    let mut recent: Vec<String> = Vec::new();
    let mut found = Vec::new();
    for i in 0..count {
        let entry = pick_entry(&mut gen);
        gen.touch_after = false;
        let args = (entry.gen)(&mut gen);
        let mut result = step(&mut pair, &args, entry.check).map(|reply| stats.record(entry.name, &reply));
        let touched = result.is_ok() && gen.touch_after;
        if touched {
            result = step(&mut pair, &touch_all(), Check::Exact)
                .map(drop)
                .map_err(|e| format!("EXISTS of every key after it: {e}"));
        }
        if result.is_ok() && paranoid {
            result = step(&mut pair, &vec![b"DBSIZE".to_vec()], Check::Exact)
                .map(drop)
                .map_err(|e| format!("DBSIZE after it: {e}"));
        }
        if result.is_ok() && (touched || (i + 1) % digest_every == 0 || i + 1 == count) {
            digests += 1;
            result = digests::compare(&mut pair, KEYS).map(|data| non_empty += usize::from(data)).map_err(|e| {
                format!("datasets differ after it (and after the {digest_every} commands before at most): {e}")
            });
            if result.is_ok() {
                result = pair
                    .compare_events()
                    .map(|n| events += n)
                    .map_err(|e| format!("after it (or the commands before): {e}"));
            }
        }
        if let Err(diff) = result {
            let keyspaces = pair.keyspaces();
            found.push(format!(
                "{label} seed={seed} command #{i} ({}): {}\n  {diff}\n  {keyspaces}\n  previous commands:\n    {}\n  \
                 reproduce: DIFF_SEED={seed} DIFF_COMMANDS={} cargo test --test differential",
                entry.name,
                show_args(&args),
                recent.join("\n    "),
                if proto == Protocol::Resp3 { (i + 1) * 3 } else { i + 1 },
            ));
            if !keep_going {
                break;
            }
            pair.reconnect();
            pair.resync();
        }
        recent.push(show_args(&args));
        if recent.len() > 12 {
            recent.remove(0);
        }
    }
    eprintln!("{label}: {digests} dataset digest comparisons ({non_empty} of a non-empty dataset), {events} keyspace events alike");
    if std::env::var("DIFF_STATS").as_deref() == Ok("1") {
        eprintln!("{label}: redis replies per row (ok / error):\n{}", stats.report());
    }
    found
}

/// How many replies of each row were errors, to judge coverage (`DIFF_STATS=1`).
#[derive(Default)]
struct Stats {
    rows: BTreeMap<&'static str, (usize, usize, BTreeSet<String>)>,
}

impl Stats {
    fn record(&mut self, row: &'static str, reply: &Frame) {
        let (ok, err, texts) = self.rows.entry(row).or_default();
        match reply.error_text() {
            Some(text) => {
                *err += 1;
                texts.insert(String::from_utf8_lossy(text).chars().take(60).collect());
            }
            None => *ok += 1,
        }
    }

    fn report(&self) -> String {
        let line = |(row, (ok, err, texts)): (&&str, &(usize, usize, BTreeSet<String>))| {
            format!("  {row:<14} {ok:>5} / {err:<5} {}", texts.iter().cloned().collect::<Vec<_>>().join(" | "))
        };
        self.rows.iter().map(line).collect::<Vec<_>>().join("\n")
    }
}

/// Is real `redis-server` there? Without it the tests fail, unless `SLOTBOX_SKIP_DIFFERENTIAL=1`.
fn redis_available() -> bool {
    if on_path("redis-server") {
        return true;
    }
    if std::env::var("SLOTBOX_SKIP_DIFFERENTIAL").as_deref() == Ok("1") {
        eprintln!("differential: redis-server not on PATH; skipped (SLOTBOX_SKIP_DIFFERENTIAL=1)");
        return false;
    }
    panic!(
        "redis-server is not on PATH: the differential test needs real Redis 7.0 \
         (apt-get install redis-server). Set SLOTBOX_SKIP_DIFFERENTIAL=1 to skip it."
    );
}

#[test]
fn redis_and_slotbox_reply_identically() {
    if !redis_available() {
        return;
    }
    let seed: u64 = env_or("DIFF_SEED", DEFAULT_SEED);
    let count: usize = env_or("DIFF_COMMANDS", DEFAULT_COMMANDS);
    let keep_going = std::env::var("DIFF_KEEP_GOING").as_deref() == Ok("1");
    eprintln!("differential: DIFF_SEED={seed} DIFF_COMMANDS={count}");
    let mut found = run("RESP2", Protocol::Resp2, seed, count, keep_going);
    if found.is_empty() || keep_going {
        found.extend(run("RESP3", Protocol::Resp3, seed.wrapping_add(1), count / 3, keep_going));
    }
    if !found.is_empty() {
        panic!("{} divergence(s) between redis-server and slotbox:\n\n{}", found.len(), found.join("\n\n"));
    }
}

/// Values in every encoding both servers have (big hashes, skiplist sorted sets with awkward
/// scores, big and integer sets, multi-node lists, long and binary strings, TTLs): the same
/// writes give the same replies, then the same `DEBUG DIGEST` and per-key `DEBUG DIGEST-VALUE`.
#[test]
fn digests_equal_redis_for_every_encoding() {
    if !redis_available() {
        return;
    }
    let mut pair = Pair::start(Protocol::Resp2);
    for args in digests::encoding_scenario() {
        if let Err(diff) = step(&mut pair, &args, Check::Exact) {
            panic!("{}: {diff}", show_args(&args));
        }
    }
    let keys = digests::SCENARIO_KEYS;
    match digests::compare(&mut pair, keys) {
        Ok(true) => {}
        Ok(false) => panic!("the scenario left an empty dataset"),
        Err(e) => panic!("{e}"),
    }
    // Removing every key brings both back to the all-zero digest.
    let mut del: Args = vec![b"DEL".to_vec()];
    del.extend(keys.iter().map(|k| k.to_vec()));
    step(&mut pair, &del, Check::Exact).expect("DEL");
    assert_eq!(digests::compare(&mut pair, keys), Ok(false));
}
