//! Client sockets and listeners of either kind a pool can `listen:` on: TCP (`host:port`)
//! or a unix socket path. Both behave as one mio source with `Read` / `Write`; nothing here
//! knows about RESP or pools. Also how the proxy reads a socket dry and words an I/O error.

use bytes::BytesMut;
use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// An accepted client connection.
pub enum ClientStream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl ClientStream {
    /// Disable Nagle on TCP (a no-op on unix sockets).
    pub fn set_nodelay(&self) {
        if let ClientStream::Tcp(s) = self {
            let _ = s.set_nodelay(true);
        }
    }

    /// SO_KEEPALIVE on TCP (a pool's `tcpkeepalive`; a no-op on unix sockets).
    pub fn set_keepalive(&self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let ClientStream::Tcp(s) = self else { return Ok(()) };
        let on: libc::c_int = 1;
        // SAFETY: the descriptor is open (owned by `s`), and the option value is a valid
        // c_int whose size is passed with it.
        let rc = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_KEEPALIVE,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Read for ClientStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ClientStream::Tcp(s) => s.read(buf),
            ClientStream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for ClientStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            ClientStream::Tcp(s) => s.write(buf),
            ClientStream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            ClientStream::Tcp(s) => s.flush(),
            ClientStream::Unix(s) => s.flush(),
        }
    }
}

impl Source for ClientStream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            ClientStream::Tcp(s) => s.register(r, t, i),
            ClientStream::Unix(s) => s.register(r, t, i),
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            ClientStream::Tcp(s) => s.reregister(r, t, i),
            ClientStream::Unix(s) => s.reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            ClientStream::Tcp(s) => s.deregister(r),
            ClientStream::Unix(s) => s.deregister(r),
        }
    }
}

/// Where a pool listens, once bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(a) => a.fmt(f),
            ListenAddr::Unix(p) => p.display().fmt(f),
        }
    }
}

/// A bound listener.
pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// Bind `listen` (a `host:port` or a unix socket path; a stale socket file at the path
    /// is replaced), applying `perm` to a unix socket.
    pub fn bind(listen: &str, perm: Option<u32>) -> io::Result<(Listener, ListenAddr)> {
        if listen.starts_with('/') {
            let path = PathBuf::from(listen);
            remove_stale_socket(&path);
            let l = UnixListener::bind(&path)?;
            if let Some(mode) = perm {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
            }
            return Ok((Listener::Unix(l, path.clone()), ListenAddr::Unix(path)));
        }
        let std_l = std::net::TcpListener::bind(listen)?;
        std_l.set_nonblocking(true)?;
        let addr = std_l.local_addr()?;
        Ok((Listener::Tcp(TcpListener::from_std(std_l)), ListenAddr::Tcp(addr)))
    }

    /// Accept one connection (`WouldBlock` when none is waiting).
    pub fn accept(&self) -> io::Result<ClientStream> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, _)| ClientStream::Tcp(s)),
            Listener::Unix(l, _) => l.accept().map(|(s, _)| ClientStream::Unix(s)),
        }
    }

    pub fn register(&mut self, r: &Registry, t: Token) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.register(r, t, Interest::READABLE),
            Listener::Unix(l, _) => l.register(r, t, Interest::READABLE),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Read everything `r` has into `inbuf`, through the event loop's `scratch` buffer (allocated
/// once: a fresh zeroed array per read was a memset per request). `Ok(true)` on end of
/// stream. Unless `hup` (the event said the peer closed its side), a short read ends it: with
/// epoll a new edge reports anything that arrives later, so the read that would only say
/// WouldBlock is skipped. A socket still connecting has nothing to read yet.
pub fn read_available(r: &mut impl Read, inbuf: &mut BytesMut, hup: bool, scratch: &mut [u8]) -> io::Result<bool> {
    loop {
        match r.read(scratch) {
            Ok(0) => return Ok(true),
            Ok(n) => {
                inbuf.extend_from_slice(&scratch[..n]);
                if n < scratch.len() && !hup {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Remove a leftover socket file (never a regular file or directory).
fn remove_stale_socket(path: &Path) {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// "Connection refused" rather than "Connection refused (os error 111)".
pub fn short_io_error(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
