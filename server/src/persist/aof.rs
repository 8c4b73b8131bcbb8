//! The open append-only file: appends the RESP bytes of each write, fsyncs by policy, and
//! collects the writes that happen during a rewrite so the new file can take them over.
//!
//! `append` only copies the bytes into an in-memory buffer, in execution order (the caller
//! holds the command's slots). The buffer reaches the file with one `write(2)` per event-loop
//! turn (`Persistence::prepare_replies`), before any reply of the turn is sent, as Redis writes
//! its `aof_buf` in `beforeSleep`; writers outside an event loop commit their appends. `always` fsyncs
//! before the replies go out (one fsync per loop turn, group commit), `everysec` is synced by
//! the persistence cron, `no` never. This file does no parsing and knows nothing about
//! commands.

use parking_lot::Mutex;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// `appendfsync` policies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FsyncPolicy {
    Always = 0,
    EverySec = 1,
    No = 2,
}

impl FsyncPolicy {
    pub fn parse(s: &str) -> FsyncPolicy {
        match s {
            "always" => FsyncPolicy::Always,
            "no" => FsyncPolicy::No,
            _ => FsyncPolicy::EverySec,
        }
    }
}

struct Inner {
    file: Option<Arc<File>>,
    /// Appended bytes not yet written to `file`.
    pending: Vec<u8>,
    /// Writes made since a rewrite took its snapshot; the rewrite appends them to its file.
    rewrite_buf: Option<Vec<u8>>,
}

/// The append-only file and its counters.
pub struct Aof {
    inner: Mutex<Inner>,
    /// Held while an fsync runs; waiters whose bytes it covered skip their own.
    sync_lock: Mutex<()>,
    /// Held while the pending buffer is written, so buffers reach the file in append order;
    /// holds the spare buffer swapped with `Inner::pending`.
    write_lock: Mutex<Vec<u8>>,
    path: Mutex<PathBuf>,
    /// Bytes appended since start (a logical position; survives file switches).
    written: AtomicU64,
    /// `written` as of the last write of the pending buffer to the file.
    flushed: AtomicU64,
    /// `written` as of the last completed fsync.
    pub(super) synced: AtomicU64,
    policy: AtomicU8,
    /// `appendonly` is on: writes go to the file (or to the rewrite buffer until it exists).
    pub enabled: AtomicBool,
    pub current_size: AtomicU64,
    pub base_size: AtomicU64,
    pub write_ok: AtomicBool,
}

impl Aof {
    pub fn new(path: PathBuf, policy: FsyncPolicy) -> Aof {
        Aof {
            inner: Mutex::new(Inner { file: None, pending: Vec::new(), rewrite_buf: None }),
            sync_lock: Mutex::new(()),
            write_lock: Mutex::new(Vec::new()),
            path: Mutex::new(path),
            written: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            policy: AtomicU8::new(policy as u8),
            enabled: AtomicBool::new(false),
            current_size: AtomicU64::new(0),
            base_size: AtomicU64::new(0),
            write_ok: AtomicBool::new(true),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.path.lock().clone()
    }

    pub fn set_path(&self, p: PathBuf) {
        *self.path.lock() = p;
    }

    pub fn set_policy(&self, p: FsyncPolicy) {
        self.policy.store(p as u8, Ordering::Relaxed);
    }

    pub fn policy(&self) -> FsyncPolicy {
        match self.policy.load(Ordering::Relaxed) {
            0 => FsyncPolicy::Always,
            1 => FsyncPolicy::EverySec,
            _ => FsyncPolicy::No,
        }
    }

    /// Start appending to the existing file at `path` (after loading it).
    pub fn open_existing(&self) -> std::io::Result<()> {
        let path = self.path();
        let f = OpenOptions::new().append(true).open(&path)?;
        let len = f.metadata()?.len();
        self.inner.lock().file = Some(Arc::new(f));
        self.current_size.store(len, Ordering::Relaxed);
        if self.base_size.load(Ordering::Relaxed) == 0 {
            self.base_size.store(len, Ordering::Relaxed);
        }
        self.enabled.store(true, Ordering::Release);
        Ok(())
    }

    /// Stop appending (CONFIG SET appendonly no): sync and close the file.
    pub fn close(&self) {
        self.flush();
        self.enabled.store(false, Ordering::Release);
        let f = self.inner.lock().file.take();
        if let Some(f) = f {
            let _ = f.sync_data();
        }
    }

    /// Is there an open file (or a pending first rewrite) receiving writes?
    pub fn is_open(&self) -> bool {
        let g = self.inner.lock();
        g.file.is_some() || g.rewrite_buf.is_some()
    }

    /// Append one encoded command to the pending buffer. It reaches the file when the event
    /// loop prepares its replies, or when a writer outside an event loop commits
    /// (`Persistence::commit`), or at the latest with the persistence cron's next tick.
    pub fn append(&self, bytes: &[u8]) {
        let mut g = self.inner.lock();
        if let Some(b) = g.rewrite_buf.as_mut() {
            b.extend_from_slice(bytes);
        }
        if g.file.is_none() {
            return;
        }
        g.pending.extend_from_slice(bytes);
        self.written.fetch_add(bytes.len() as u64, Ordering::AcqRel);
    }

    /// The logical end of everything appended so far: a batch's replies wait until the file
    /// holds (with `always`, has synced) the position read after the batch.
    pub fn position(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    /// Write the pending buffer to the file (one `write(2)`), in append order.
    pub fn flush(&self) {
        let mut spare = self.write_lock.lock();
        let (file, end) = {
            let mut g = self.inner.lock();
            if g.pending.is_empty() {
                return;
            }
            std::mem::swap(&mut g.pending, &mut *spare);
            (g.file.clone(), self.written.load(Ordering::Acquire))
        };
        if let Some(f) = file {
            match (&*f).write_all(&spare) {
                Ok(()) => {
                    self.current_size.fetch_add(spare.len() as u64, Ordering::Relaxed);
                }
                Err(e) => self.write_failed(&f, &e),
            }
        }
        self.flushed.fetch_max(end, Ordering::AcqRel);
        spare.clear();
        if spare.capacity() > 1 << 20 {
            spare.shrink_to(64 * 1024);
        }
    }

    /// A failed write may have left half a command: cut the file back to its last good size.
    fn write_failed(&self, f: &File, e: &std::io::Error) {
        if self.write_ok.swap(false, Ordering::Relaxed) {
            crate::log::warning(&format!("Error writing to the AOF file: {e}"));
        }
        let _ = f.set_len(self.current_size.load(Ordering::Relaxed));
    }

    /// Make every byte appended up to logical position `end` durable.
    pub fn sync_through(&self, end: u64) {
        if self.synced.load(Ordering::Acquire) >= end {
            return;
        }
        if self.flushed.load(Ordering::Acquire) < end {
            self.flush();
        }
        let _g = self.sync_lock.lock();
        if self.synced.load(Ordering::Acquire) >= end {
            return;
        }
        let (file, target) = {
            let g = self.inner.lock();
            (g.file.clone(), self.flushed.load(Ordering::Acquire))
        };
        let Some(file) = file else { return };
        match file.sync_data() {
            Ok(()) => {
                self.synced.fetch_max(target, Ordering::AcqRel);
            }
            Err(e) => {
                if self.write_ok.swap(false, Ordering::Relaxed) {
                    crate::log::warning(&format!("Error syncing the AOF file: {e}"));
                }
            }
        }
    }

    /// fsync whatever is not yet durable (`everysec` cron, shutdown).
    pub fn sync_pending(&self) {
        self.sync_through(self.written.load(Ordering::Acquire));
    }

    /// Must replies wait for the AOF: does it not yet hold position `end` (written to the
    /// file; with `always`, fsynced)?
    pub fn replies_must_wait(&self, end: u64) -> bool {
        let done = if self.policy() == FsyncPolicy::Always { &self.synced } else { &self.flushed };
        end > done.load(Ordering::Acquire)
    }

    /// Bytes written but not yet fsynced.
    pub fn pending_bytes(&self) -> u64 {
        self.written.load(Ordering::Acquire).saturating_sub(self.synced.load(Ordering::Acquire))
    }

    /// From now on, collect writes for a rewrite (call with the exec gate held, before the
    /// snapshot is taken).
    pub fn begin_rewrite(&self) {
        self.inner.lock().rewrite_buf = Some(Vec::new());
    }

    /// A failed rewrite: stop collecting.
    pub fn abort_rewrite(&self) {
        self.inner.lock().rewrite_buf = None;
    }

    /// Finish a rewrite: append the collected writes to `tmp` (most of them without holding
    /// the lock), fsync it, rename it over the AOF and continue appending to it. `base` is the
    /// size of the snapshot part. Returns the bytes taken from the rewrite buffer.
    pub fn finish_rewrite(&self, tmp_path: &Path, mut tmp: File, base: u64) -> std::io::Result<u64> {
        let mut copied = 0u64;
        for _ in 0..8 {
            let chunk = match self.inner.lock().rewrite_buf.as_mut() {
                Some(b) if b.len() > 64 * 1024 => std::mem::take(b),
                _ => break,
            };
            tmp.write_all(&chunk)?;
            copied += chunk.len() as u64;
        }
        // Writers are held off while the files switch; what is still pending for the old
        // file is in the rewrite buffer too, so the new file gets it from there.
        let _w = self.write_lock.lock();
        let mut g = self.inner.lock();
        g.pending.clear();
        self.flushed.store(self.written.load(Ordering::Acquire), Ordering::Release);
        let rest = g.rewrite_buf.take().unwrap_or_default();
        tmp.write_all(&rest)?;
        copied += rest.len() as u64;
        tmp.sync_all()?;
        let path = self.path();
        std::fs::rename(tmp_path, &path)?;
        sync_dir(&path);
        if self.enabled.load(Ordering::Acquire) {
            g.file = Some(Arc::new(tmp));
            self.synced.store(self.written.load(Ordering::Acquire), Ordering::Release);
        }
        self.current_size.store(base + copied, Ordering::Relaxed);
        self.base_size.store(base + copied, Ordering::Relaxed);
        Ok(copied)
    }
}

/// fsync the directory holding `path`, so a rename survives a crash.
pub fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("slotbox-aof-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn appends_and_switches_files_on_rewrite() {
        let dir = temp("switch");
        let path = dir.join("a.aof");
        std::fs::write(&path, b"old").unwrap();
        let aof = Aof::new(path.clone(), FsyncPolicy::Always);
        aof.open_existing().unwrap();
        aof.append(b"one");
        aof.flush();
        aof.begin_rewrite();
        aof.append(b"two");
        let tmp_path = dir.join("tmp.aof");
        let mut tmp = File::create(&tmp_path).unwrap();
        tmp.write_all(b"BASE").unwrap();
        assert_eq!(aof.finish_rewrite(&tmp_path, tmp, 4).unwrap(), 3);
        aof.append(b"three");
        aof.sync_pending();
        assert_eq!(std::fs::read(&path).unwrap(), b"BASEtwothree");
        assert_eq!(aof.current_size.load(Ordering::Relaxed), 12);
        assert_eq!(aof.pending_bytes(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
