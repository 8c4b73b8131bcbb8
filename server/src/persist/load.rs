//! Reading an AOF: replay at start (`load_aof_file`) and `slotbox-server --check-aof FILE
//! [--fix]` (`check_aof`). Both walk the file with [`scan`], which splits it into the optional
//! snapshot preamble and RESP commands, noting byte offsets.
//!
//! A file cut short in its last command (a crash mid-write), or ending inside a MULTI without
//! its EXEC, is loaded up to the last complete command and truncated there, as Redis does with
//! `aof-load-truncated yes`. Anything unparsable before the end refuses the start with a
//! message naming the byte offset.

use super::rewrite::PREAMBLE_MAGIC;
use bytes::{Bytes, BytesMut};
use slotbox_protocol::{Limits, RequestDecoder};
use std::path::Path;
use std::time::Instant;

/// How a scan of an AOF ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every byte is part of a complete command.
    Clean,
    /// The bytes from this offset are an incomplete last command (or an unfinished MULTI).
    Truncated(usize),
    /// The record at this offset is not valid.
    Corrupt(usize, String),
}

/// The snapshot preamble's byte range, if the file has one, or the corruption it contains.
fn preamble(data: &[u8]) -> Result<Option<std::ops::Range<usize>>, End> {
    if !data.starts_with(PREAMBLE_MAGIC) {
        return Ok(None);
    }
    let hdr = PREAMBLE_MAGIC.len() + 8;
    let Some(len) = data.get(PREAMBLE_MAGIC.len()..hdr) else {
        return Err(End::Truncated(0));
    };
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    // Compared with what is there before any arithmetic (`hdr + len` could wrap).
    if len > (data.len() - hdr) as u64 {
        return Err(End::Truncated(0));
    }
    Ok(Some(hdr..hdr + len as usize))
}

/// Walk the file: `on_snapshot` gets the preamble, `on_command(offset, args)` each command.
/// A callback error stops the scan as corruption at that offset.
pub fn scan(
    data: &[u8],
    mut on_snapshot: impl FnMut(&[u8]) -> Result<(), String>,
    mut on_command: impl FnMut(usize, Vec<Bytes>) -> Result<(), String>,
) -> End {
    let start = match preamble(data) {
        Ok(Some(r)) => {
            if let Err(e) = on_snapshot(&data[r.clone()]) {
                return End::Corrupt(0, e);
            }
            r.end
        }
        Ok(None) => 0,
        Err(end) => return end,
    };
    let mut buf = BytesMut::from(&data[start..]);
    let mut dec = RequestDecoder::new(Limits { max_bulk_len: usize::MAX, ..Limits::default() });
    let mut multi_at: Option<usize> = None;
    loop {
        let offset = data.len() - buf.len();
        if buf.is_empty() {
            return multi_at.map_or(End::Clean, End::Truncated);
        }
        if buf[0] != b'*' {
            return End::Corrupt(offset, format!("expected '*', got {:?}", buf[0] as char));
        }
        match dec.decode(&mut buf) {
            Ok(Some(args)) => {
                if args[0].eq_ignore_ascii_case(b"multi") {
                    // A MULTI inside an open one (only a damaged file has it) does not move
                    // the cut: the first open MULTI's commands are unfinished too.
                    multi_at.get_or_insert(offset);
                } else if args[0].eq_ignore_ascii_case(b"exec") {
                    multi_at = None;
                }
                if let Err(e) = on_command(offset, args) {
                    return End::Corrupt(offset, e);
                }
            }
            Ok(None) => return End::Truncated(multi_at.unwrap_or(offset)),
            Err(e) => return End::Corrupt(offset, e.to_string()),
        }
    }
}

/// Replay an AOF into the keyspace. Errors (the server must not start) on corruption.
pub fn load_aof_file(p: &super::Persistence, path: &Path, replay: super::Replay) -> std::io::Result<()> {
    let started = Instant::now();
    let data = std::fs::read(path)?;
    let mut commands = 0u64;
    let mut keys = 0usize;
    let end = scan(
        &data,
        |snap| crate::store::snapshot::load(&p.core.keyspace, snap, p.core.hot.hash_limits()).map(|n| keys = n),
        |_, args| {
            commands += 1;
            replay(args)
        },
    );
    let what = path.display();
    match end {
        End::Clean => {}
        End::Truncated(at) => {
            let truncated_ok = p.core.config.read().aof_load_truncated;
            if !truncated_ok {
                return Err(std::io::Error::other(format!(
                    "Unexpected end of file reading the append only file {what} at offset {at} (aof-load-truncated is no); use slotbox-server --check-aof --fix {what}"
                )));
            }
            crate::log::warning(&format!(
                "!!! Warning: short read while loading the AOF file {what}!!! AOF loaded anyway because aof-load-truncated is enabled; truncating it from {} to {at} bytes",
                data.len()
            ));
            truncate(path, at as u64)?;
        }
        End::Corrupt(at, why) => {
            return Err(std::io::Error::other(format!(
                "Bad file format reading the append only file {what} at offset {at}: {why}. Make a backup of your AOF file, then use slotbox-server --check-aof --fix {what}"
            )));
        }
    }
    p.loaded_keys.store(p.core.keyspace.len() as u64, std::sync::atomic::Ordering::Relaxed);
    crate::log::notice(&format!(
        "DB loaded from append only file {what}: {keys} keys from its snapshot, {commands} commands replayed, {} keys now, {} ms",
        p.core.keyspace.len(),
        started.elapsed().as_millis()
    ));
    Ok(())
}

fn truncate(path: &Path, len: u64) -> std::io::Result<()> {
    let f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.set_len(len)?;
    f.sync_all()
}

/// `slotbox-server --check-aof FILE [--fix]`: report whether the file is valid and, with
/// `fix`, truncate it to its valid prefix. Returns the process exit code.
pub fn check_aof(path: &Path, fix: bool) -> i32 {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("Cannot open file {}: {e}", path.display());
            return 1;
        }
    };
    let scratch = crate::store::Keyspace::new(crate::config::Config::default().databases as usize);
    let mut commands = 0u64;
    let end = scan(
        &data,
        |snap| crate::store::snapshot::load(&scratch, snap, Default::default()).map(|_| ()),
        |_, _| {
            commands += 1;
            Ok(())
        },
    );
    let ok_up_to = match &end {
        End::Clean => data.len(),
        End::Truncated(at) | End::Corrupt(at, _) => *at,
    };
    println!(
        "AOF analyzed: filename={}, size={}, ok_up_to={ok_up_to}, commands={commands}, diff={}",
        path.display(),
        data.len(),
        data.len() - ok_up_to
    );
    match end {
        End::Clean => {
            println!("AOF {} is valid", path.display());
            return 0;
        }
        End::Truncated(_) => println!("AOF {} ends with an incomplete command", path.display()),
        End::Corrupt(at, why) => println!("AOF {} has a bad record at offset {at}: {why}", path.display()),
    }
    if !fix {
        println!("AOF {} is not valid. Use the --fix option to try fixing it.", path.display());
        return 1;
    }
    println!(
        "This will shrink the AOF {} from {} bytes, with {} bytes, to {ok_up_to} bytes",
        path.display(),
        data.len(),
        data.len() - ok_up_to
    );
    match truncate(path, ok_up_to as u64) {
        Ok(()) => {
            println!("Successfully truncated AOF {}", path.display());
            0
        }
        Err(e) => {
            println!("Failed to truncate AOF {}: {e}", path.display());
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(data: &[u8]) -> End {
        scan(data, |_| Ok(()), |_, _| Ok(()))
    }

    #[test]
    fn classifies_files() {
        let set = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        assert_eq!(ends(set), End::Clean);
        let mut short = set.to_vec();
        short.extend_from_slice(&set[..10]);
        assert_eq!(ends(&short), End::Truncated(set.len()));
        let mut bad = set.to_vec();
        bad.extend_from_slice(b"garbage\r\n");
        bad.extend_from_slice(set);
        assert!(matches!(ends(&bad), End::Corrupt(n, _) if n == set.len()));
        let mut multi = set.to_vec();
        multi.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
        multi.extend_from_slice(set);
        assert_eq!(ends(&multi), End::Truncated(set.len()));
    }

    /// A preamble length near 2^64 made `hdr + len` wrap: a panic slicing the file.
    #[test]
    fn huge_preamble_length_is_truncation() {
        for len in [u64::MAX, u64::MAX - 15, 1 << 40] {
            let mut file = PREAMBLE_MAGIC.to_vec();
            file.extend_from_slice(&len.to_le_bytes());
            file.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
            assert_eq!(ends(&file), End::Truncated(0), "len {len}");
        }
    }

    /// Found by fuzzing (aof): an EXEC damaged into another command left its MULTI open, a
    /// second MULTI moved the cut past it, and the file truncated there was truncated again
    /// on the next load (`--check-aof --fix` did not give a valid file).
    #[test]
    fn truncation_cuts_before_the_first_open_multi() {
        let set = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let mut file = set.to_vec();
        file.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
        file.extend_from_slice(set);
        file.extend_from_slice(b"*1\r\n$4\r\nE\xa8\xba\xbc\xf5\n");
        file.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
        file.extend_from_slice(set);
        assert_eq!(ends(&file), End::Truncated(set.len()));
        assert_eq!(ends(&file[..set.len()]), End::Clean);
    }
}
