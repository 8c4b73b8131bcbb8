//! The replica side: one thread per master link. It connects, handshakes (PING, AUTH,
//! REPLCONF), asks PSYNC with its history id and offset, loads a full snapshot or continues,
//! then applies the master's stream through the normal dispatcher as the "master client",
//! mirroring the stream into its own backlog (same offsets, so its own replicas and a later
//! failover can continue) and acknowledging the applied offset every second.

use super::Replication;
use super::{LinkState, MasterLink};
use crate::core::Core;
use bytes::BytesMut;
use slotbox_protocol::RequestDecoder;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Become a replica of host:port (replacing any previous link), or a master with `None`.
pub fn set_master(repl: &Arc<Replication>, target: Option<(String, u16)>) {
    let core = &repl.core;
    // CONFIG GET / REWRITE replicaof show the master followed now, as in Redis.
    core.config.write().replicaof = target.clone();
    let mut slot = repl.master.lock();
    if let Some(old) = slot.take() {
        old.stop.store(true, Ordering::Relaxed);
    }
    match target {
        None => {
            core.keyspace.set_replica(false);
            crate::log::set_replica(false);
            if core.stream.is_active() {
                repl.new_history();
            }
        }
        Some((host, port)) => {
            core.keyspace.set_replica(true);
            crate::log::set_replica(true);
            let link = Arc::new(MasterLink::new(host, port));
            *slot = Some(link.clone());
            let r = repl.clone();
            let _ = std::thread::Builder::new().name("slotbox-repl-in".into()).spawn(move || run(r, link));
        }
    }
}

/// The link thread: connect, sync, apply; on any failure reconnect with a backoff (100 ms
/// doubling to 1 s, as often as Redis's once-a-second replication cron at most).
fn run(repl: Arc<Replication>, link: Arc<MasterLink>) {
    let core = repl.core.clone();
    let mut backoff = Duration::from_millis(100);
    while !link.stop.load(Ordering::Relaxed) && !core.is_shutting_down() {
        let was_up = AtomicBool::new(false);
        if let Err(e) = session(&repl, &link, &was_up) {
            if !link.stop.load(Ordering::Relaxed) {
                crate::log::warning(&format!("MASTER {}:{} link: {e}", link.host, link.port));
            }
        }
        link.set_state(LinkState::Connect);
        if was_up.load(Ordering::Relaxed) {
            backoff = Duration::from_millis(100);
        }
        let until = Instant::now() + backoff;
        while Instant::now() < until && !link.stop.load(Ordering::Relaxed) && !core.is_shutting_down() {
            std::thread::sleep(Duration::from_millis(20));
        }
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

fn io_err(msg: String) -> std::io::Error {
    std::io::Error::other(msg)
}

/// `repl-timeout`.
fn repl_timeout(core: &Core) -> Duration {
    Duration::from_secs(core.hot.repl_timeout_secs.load(Ordering::Relaxed).max(1))
}

/// Send one command and read a one-line reply.
fn call(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>, args: &[&str]) -> std::io::Result<String> {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(out.as_bytes())?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if line.is_empty() {
        return Err(io_err("connection closed by master during the handshake".into()));
    }
    Ok(line.trim_end().to_string())
}

fn session(repl: &Arc<Replication>, link: &Arc<MasterLink>, was_up: &AtomicBool) -> std::io::Result<()> {
    let core = &repl.core;
    link.set_state(LinkState::Connecting);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(link.host.as_str(), link.port))?
        .next()
        .ok_or_else(|| io_err("cannot resolve master".into()))?;
    let timeout = repl_timeout(core);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    link.set_state(LinkState::Handshake);
    let mut reader = BufReader::new(stream.try_clone()?);
    let pong = call(&mut stream, &mut reader, &["PING"])?;
    if pong.starts_with('-') && !pong.starts_with("-NOAUTH") {
        return Err(io_err(format!("master replied to PING: {pong}")));
    }
    let masterauth = core.config.read().masterauth.clone();
    if let Some(pw) = masterauth {
        let r = call(&mut stream, &mut reader, &["AUTH", &pw])?;
        if !r.starts_with("+OK") {
            return Err(io_err(format!("AUTH failed: {r}")));
        }
    }
    let port = core.tcp_port.load(Ordering::Relaxed).to_string();
    call(&mut stream, &mut reader, &["REPLCONF", "listening-port", &port])?;
    call(&mut stream, &mut reader, &["REPLCONF", "capa", "psync2"])?;
    let (id, next) = if core.stream.is_active() {
        (repl.replid.lock().clone(), (repl.backlog.offset() + 1).to_string())
    } else {
        ("?".to_string(), "-1".to_string())
    };
    let reply = call(&mut stream, &mut reader, &["PSYNC", &id, &next])?;
    let mut words = reply.split_whitespace();
    match words.next() {
        Some("+FULLRESYNC") => {
            let new_id = words.next().unwrap_or_default().to_string();
            let offset: u64 = words.next().and_then(|o| o.parse().ok()).unwrap_or(0);
            link.set_state(LinkState::Transfer);
            full_sync(repl, link, &mut reader, &new_id, offset)?;
        }
        Some("+CONTINUE") => {
            if let Some(new_id) = words.next() {
                let mut cur = repl.replid.lock();
                if *cur != new_id {
                    *repl.replid2.lock() = (cur.clone(), repl.backlog.offset() + 1);
                    *cur = new_id.to_string();
                }
            }
            crate::log::notice("Successful partial resynchronization with master.");
        }
        _ => return Err(io_err(format!("unexpected PSYNC reply: {reply}"))),
    }
    link.last_io.store(crate::clock::unix_time_ms(), Ordering::Relaxed);
    link.set_state(LinkState::Connected);
    was_up.store(true, Ordering::Relaxed);
    stream_loop(repl, link, stream, reader)
}

/// Receive the snapshot of a full sync (`$<len>` then the bytes; progress in the link for
/// INFO) and load it with every command paused.
fn full_sync(
    repl: &Replication,
    link: &MasterLink,
    reader: &mut BufReader<TcpStream>,
    id: &str,
    offset: u64,
) -> std::io::Result<()> {
    let mut line = String::new();
    // The master may send newlines while it prepares the snapshot (Redis does).
    while line.trim_end().is_empty() {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io_err("connection closed by master before the snapshot".into()));
        }
    }
    let len: usize = line
        .trim_end()
        .strip_prefix('$')
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| io_err(format!("bad bulk header {line:?}")))?;
    link.sync_total.store(len as u64, Ordering::Relaxed);
    link.sync_read.store(0, Ordering::Relaxed);
    let mut data = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match reader.read(&mut data[got..]) {
            Ok(0) => return Err(io_err("connection closed by master during the snapshot".into())),
            Ok(n) => {
                got += n;
                link.sync_read.store(got as u64, Ordering::Relaxed);
                link.last_io.store(crate::clock::unix_time_ms(), Ordering::Relaxed);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(io_err("Timeout receiving bulk data from MASTER".into()));
            }
            Err(e) => return Err(e),
        }
    }
    let started = Instant::now();
    let core = &repl.core;
    {
        let _paused = core.exec_gate.write_all();
        core.keyspace.flush_all();
        let n = crate::store::snapshot::load(&core.keyspace, &data, core.hot.hash_limits()).map_err(io_err)?;
        *repl.replid.lock() = id.to_string();
        repl.backlog.reset(offset);
        repl.stream_db.store(0, Ordering::Relaxed);
        // This node's own stream (its replicas, its AOF) starts over too.
        core.stream.forget_db();
        core.stream.activate();
        crate::log::notice(&format!(
            "MASTER <-> REPLICA sync: loaded {n} keys ({len} bytes) in {} ms",
            started.elapsed().as_millis()
        ));
    }
    core.stats.full_sync_loads.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn send_ack(stream: &mut TcpStream, offset: u64) -> std::io::Result<()> {
    let off = offset.to_string();
    let msg = format!("*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n${}\r\n{off}\r\n", off.len());
    stream.write_all(msg.as_bytes())
}

fn stream_loop(
    repl: &Arc<Replication>,
    link: &Arc<MasterLink>,
    mut stream: TcpStream,
    mut reader: BufReader<TcpStream>,
) -> std::io::Result<()> {
    let core = &repl.core;
    let Some(factory) = repl.applier.get() else {
        return Err(io_err("no stream applier: the server was not assembled".into()));
    };
    let mut applier = factory(stream.peer_addr()?, stream.local_addr()?);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    // Bytes left in the reader's buffer belong to the stream.
    buf.extend_from_slice(reader.buffer());
    let mut dec = RequestDecoder::default();
    let mut chunk = vec![0u8; 64 * 1024];
    stream.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut last_ack = Instant::now();
    let raw = reader.get_mut();
    raw.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut batch = Vec::new();
    loop {
        if link.stop.load(Ordering::Relaxed) || core.is_shutting_down() {
            return Ok(());
        }
        if link.kill.swap(false, Ordering::Relaxed) {
            return Err(io_err("connection killed (CLIENT KILL TYPE master)".into()));
        }
        while let Some(args) = dec.decode(&mut buf).map_err(|e| io_err(e.to_string()))? {
            if args.len() >= 2 && args[0].eq_ignore_ascii_case(b"replconf") && args[1].eq_ignore_ascii_case(b"getack") {
                // Everything before it is applied first: the ACK covers it.
                applier.apply(&mut batch);
                {
                    let _gate = core.exec_gate.read(core.exec_gate.service_stripe());
                    core.stream.feed(&args);
                }
                send_ack(&mut stream, repl.backlog.offset())?;
                continue;
            }
            batch.push(args);
        }
        applier.apply(&mut batch);
        repl.applied.store(repl.backlog.offset(), Ordering::Relaxed);
        if last_ack.elapsed() >= Duration::from_secs(1) {
            send_ack(&mut stream, repl.backlog.offset())?;
            last_ack = Instant::now();
        }
        let silent = crate::clock::unix_time_ms() - link.last_io.load(Ordering::Relaxed);
        if silent > repl_timeout(core).as_millis() as i64 {
            return Err(io_err("MASTER timeout: no data nor PING received...".into()));
        }
        match raw.read(&mut chunk) {
            Ok(0) => return Err(io_err("connection closed by master".into())),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                link.last_io.store(crate::clock::unix_time_ms(), Ordering::Relaxed);
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
    }
}
