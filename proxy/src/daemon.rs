//! Running as a daemon as nutcracker does (`-d`: fork, new session, fork again, standard
//! streams on /dev/null; the working directory is kept, so relative paths still work) and
//! its pid file (`-p`: written after daemonizing, removed at a clean exit).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Detach from the terminal. Must run before any thread is started; the parent processes
/// exit 0, only the grandchild returns.
pub fn daemonize() -> std::io::Result<()> {
    // SAFETY: called from the binary's main thread before any other thread exists, so each
    // child is a complete copy of a single-threaded process; the descriptors passed to dup2
    // are valid (checked) or the standard ones.
    unsafe {
        fork_and_let_parent_exit()?;
        if libc::setsid() < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // The session leader's child can never reacquire a controlling terminal.
        fork_and_let_parent_exit()?;
        libc::umask(0o022);
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if devnull < 0 {
            return Err(std::io::Error::last_os_error());
        }
        for fd in 0..3 {
            libc::dup2(devnull, fd);
        }
        if devnull > 2 {
            libc::close(devnull);
        }
    }
    Ok(())
}

/// # Safety
/// Single-threaded process only (see [`daemonize`]).
unsafe fn fork_and_let_parent_exit() -> std::io::Result<()> {
    match libc::fork() {
        -1 => Err(std::io::Error::last_os_error()),
        0 => Ok(()),
        _ => libc::_exit(0),
    }
}

/// A pid file holding this process's id; removed on drop.
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Write the pid file (created 0644, truncated).
    pub fn create(path: &Path) -> std::io::Result<PidFile> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o644).open(path)?;
        writeln!(f, "{}", std::process::id())?;
        Ok(PidFile { path: path.to_path_buf() })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            crate::plog!(crate::log::WARN, "unlink of pid file '{}' failed, ignored: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pid_file_holds_the_pid_and_goes_away() {
        let path = std::env::temp_dir().join(format!("slotbox-proxy-pidfile-{}", std::process::id()));
        let f = super::PidFile::create(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), std::process::id().to_string());
        drop(f);
        assert!(!path.exists());
    }
}
