//! The master side of one replica link, after the replica sent PSYNC: decide partial or full
//! resync, send the snapshot (taken with every command paused, so it matches an exact stream
//! offset), then stream the backlog. A second thread reads the replica's REPLCONF ACKs.

use super::backlog::Reader;
use super::ReplicaInfo;
use super::Replication;
use crate::config::ClientClass;
use crate::core::Core;
use bytes::BytesMut;
use slotbox_protocol::output_limit::OutputLimit;
use slotbox_protocol::RequestDecoder;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Serve a replica on its own threads. `replid` / `from` are the PSYNC arguments.
pub fn serve(repl: Arc<Replication>, stream: TcpStream, replid: String, from: i64, listening_port: u64) {
    let _ = std::thread::Builder::new().name("slotbox-repl-out".into()).spawn(move || {
        if let Err(e) = run(&repl, stream, &replid, from, listening_port) {
            crate::log::notice(&format!("Replica link closed: {e}"));
        }
    });
}

/// Can the replica continue its history from `from` (the next byte it needs)?
fn can_continue(repl: &Replication, replid: &str, from: i64) -> bool {
    if from < 1 {
        return false;
    }
    let from = from as u64;
    let same = *repl.replid.lock() == replid;
    let (id2, off2) = repl.replid2.lock().clone();
    let previous = id2 == replid && from <= off2;
    (same || previous) && repl.core.stream.is_active() && repl.backlog.covers(from)
}

fn run(
    repl: &Arc<Replication>,
    mut stream: TcpStream,
    replid: &str,
    from: i64,
    listening_port: u64,
) -> std::io::Result<()> {
    let core = &repl.core;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(Duration::from_secs(core.hot.repl_timeout_secs.load(Ordering::Relaxed).max(1))))?;
    let addr = stream.peer_addr()?;
    let info = Arc::new(ReplicaInfo {
        id: core.next_client_id.fetch_add(1, Ordering::Relaxed),
        addr,
        listening_port: listening_port.into(),
        ack_offset: 0.into(),
        last_ack: crate::clock::unix_time_ms().into(),
        state: parking_lot::Mutex::new("wait_bgsave"),
        gone: false.into(),
    });
    // Listed from the start, as Redis lists a replica in INFO (`state=wait_bgsave`, then
    // `send_bulk`) while its full sync runs; ROLE and WAIT count it once online.
    repl.replicas.lock().push(info.clone());
    let result = sync_and_stream(repl, &mut stream, &info, replid, from);
    info.gone.store(true, Ordering::Relaxed);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    repl.replicas.lock().retain(|r| !Arc::ptr_eq(r, &info));
    result
}

/// Continue or fully resync the replica, then stream to it until the link ends.
fn sync_and_stream(
    repl: &Arc<Replication>,
    stream: &mut TcpStream,
    info: &Arc<ReplicaInfo>,
    replid: &str,
    from: i64,
) -> std::io::Result<()> {
    let core = &repl.core;
    let continued = if can_continue(repl, replid, from) { repl.backlog.attach(from as u64).ok() } else { None };
    let reader = match continued {
        Some(reader) => {
            core.stats.sync_partial_ok.fetch_add(1, Ordering::Relaxed);
            let id = repl.replid.lock().clone();
            stream.write_all(format!("+CONTINUE {id}\r\n").as_bytes())?;
            crate::log::notice(&format!(
                "Partial resynchronization request from {} accepted, offset {from}",
                info.addr
            ));
            reader
        }
        None => full_resync(repl, stream, info, replid)?,
    };
    info.ack_offset.store(reader.pos() - 1, Ordering::Relaxed);
    info.last_ack.store(crate::clock::unix_time_ms(), Ordering::Relaxed);
    *info.state.lock() = "online";
    let ack_stream = stream.try_clone()?;
    let ack_info = info.clone();
    let ack_core = repl.core.clone();
    let _ = std::thread::Builder::new()
        .name("slotbox-repl-ack".into())
        .spawn(move || read_acks(ack_stream, ack_info, &ack_core));
    stream_backlog(core, stream, info, reader)
}

/// Send a snapshot taken at an exact stream offset, with every command paused; the replica
/// is attached to the stream at that instant, so the writes that follow are kept for it
/// (whatever the backlog size) while the snapshot is on its way.
fn full_resync<'s>(
    repl: &'s Replication,
    stream: &mut TcpStream,
    info: &ReplicaInfo,
    replid: &str,
) -> std::io::Result<Reader<'s>> {
    let core = &repl.core;
    if replid != "?" {
        core.stats.sync_partial_err.fetch_add(1, Ordering::Relaxed);
    }
    core.stats.sync_full.fetch_add(1, Ordering::Relaxed);
    core.stream.activate();
    repl.backlog.create();
    let started = Instant::now();
    let (snapshot, offset, reader) = {
        let _paused = core.exec_gate.write_all();
        // The replica applies the stream from database 0: the next command names its own.
        core.stream.forget_db();
        let offset = repl.backlog.offset();
        let reader = repl.backlog.attach(offset + 1).map_err(|_| std::io::Error::other("stream moved on"))?;
        (crate::store::snapshot::dump(&core.keyspace, crate::clock::unix_time_ms()), offset, reader)
    };
    crate::log::notice(&format!(
        "Full resync for replica {}: snapshot of {} bytes at offset {offset} taken in {} ms (writes paused)",
        info.addr,
        snapshot.len(),
        started.elapsed().as_millis()
    ));
    let id = repl.replid.lock().clone();
    *info.state.lock() = "send_bulk";
    stream.write_all(format!("+FULLRESYNC {id} {offset}\r\n${}\r\n", snapshot.len()).as_bytes())?;
    stream.write_all(&snapshot)?;
    Ok(reader)
}

/// Send the replication stream to an attached replica until the link ends. What is in the
/// stream but not yet sent is the replica's output buffer: over the `replica` class of
/// `client-output-buffer-limit` the link is closed, as Redis does; so is one whose replica
/// takes nothing, or acknowledges nothing, for `repl-timeout`.
fn stream_backlog(core: &Core, stream: &mut TcpStream, info: &ReplicaInfo, mut reader: Reader) -> std::io::Result<()> {
    stream.set_write_timeout(Some(Duration::from_millis(100)))?;
    let mut limit = OutputLimit::default();
    let mut over_limit = |pending: u64| {
        let limits = core.hot.output_limits[ClientClass::Replica as usize].load();
        let over = !limits.is_unlimited() && limit.exceeded(pending as usize, Instant::now(), limits);
        if over {
            crate::log::warning(&format!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits (slave).",
                info.id, info.addr
            ));
        }
        over
    };
    let mut progress = Instant::now();
    loop {
        if core.is_shutting_down() || info.gone.load(Ordering::Relaxed) {
            return Ok(());
        }
        let timeout_ms = core.hot.repl_timeout_secs.load(Ordering::Relaxed) as i64 * 1000;
        if crate::clock::unix_time_ms() - info.last_ack.load(Ordering::Relaxed) > timeout_ms {
            crate::log::warning(&format!("Disconnecting timedout replica (streaming sync): {}", info.addr));
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        if over_limit(reader.pending()) {
            return Err(std::io::Error::other("over the replica output buffer limit"));
        }
        let data = match reader.next(1024 * 1024, Duration::from_millis(100)) {
            Ok(data) if data.is_empty() => continue,
            Ok(data) => data,
            Err(_) => return Err(std::io::Error::other("the replication stream was reset under the replica")),
        };
        let mut sent = 0;
        while sent < data.len() {
            match stream.write(&data[sent..]) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    sent += n;
                    reader.sent(n);
                    progress = Instant::now();
                }
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    if over_limit(reader.pending()) {
                        return Err(std::io::Error::other("over the replica output buffer limit"));
                    }
                    if progress.elapsed().as_millis() as i64 >= timeout_ms || core.is_shutting_down() {
                        return Err(std::io::ErrorKind::TimedOut.into());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Read `REPLCONF ACK <offset>` from the replica until the link closes. Each ACK wakes the
/// event loops, so a WAIT it satisfies is answered at once (not at the loop's next tick).
fn read_acks(mut stream: TcpStream, info: Arc<ReplicaInfo>, core: &Core) {
    let mut buf = BytesMut::with_capacity(1024);
    let mut dec = RequestDecoder::default();
    let mut chunk = [0u8; 4096];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    while !info.gone.load(Ordering::Relaxed) {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(_) => break,
        }
        while let Ok(Some(args)) = dec.decode(&mut buf) {
            if args.len() >= 3 && args[0].eq_ignore_ascii_case(b"replconf") && args[1].eq_ignore_ascii_case(b"ack") {
                if let Some(off) = slotbox_protocol::float::parse_i64(&args[2]) {
                    info.ack_offset.store(off.max(0) as u64, Ordering::Relaxed);
                    info.last_ack.store(crate::clock::unix_time_ms(), Ordering::Relaxed);
                    if let Some(workers) = core.workers.get() {
                        for w in workers {
                            let _ = w.waker.wake();
                        }
                    }
                }
            }
        }
    }
    info.gone.store(true, Ordering::Relaxed);
}
