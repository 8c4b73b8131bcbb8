//! [`Conn`]: a blocking RESP2 connection to one node, the only place the tool touches a
//! socket. It sends commands and reads whole replies with `slotbox_protocol`; error replies
//! come back as [`Frame::Error`] (callers decide what is fatal) or, through [`Conn::call_ok`],
//! as [`ToolError::Reply`]. Connecting authenticates with `AUTH [user] pass` like redis-cli.

use crate::error::{io_reason, ToolError};
use slotbox_protocol::encode::bulk;
use slotbox_protocol::resp_parse::ReplyDecoder;
use slotbox_protocol::Frame;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long a connect may take before the node is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Credentials sent with `AUTH` on every connection (`-a`, `--user`).
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub user: Option<String>,
    pub pass: Option<String>,
}

/// One open connection to a node.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Resumes the scan of a reply that is not whole yet (`buf` only grows at its end).
    replies: ReplyDecoder,
    addr: String,
}

impl Conn {
    /// Connect to `host:port` (and authenticate). `read_timeout` bounds every reply wait.
    pub fn open(host: &str, port: u16, auth: &Auth, read_timeout: Duration) -> Result<Conn, ToolError> {
        let addr = format!("{host}:{port}");
        let fail = |reason: String| ToolError::Connect { addr: addr.clone(), reason };
        let targets = (host, port).to_socket_addrs().map_err(|e| fail(io_reason(&e)))?;
        let mut last = fail("no address found".into());
        for target in targets {
            match TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    let _ = stream.set_read_timeout(Some(read_timeout));
                    let _ = stream.set_write_timeout(Some(read_timeout));
                    let mut conn =
                        Conn { stream, buf: Vec::new(), replies: ReplyDecoder::default(), addr: addr.clone() };
                    conn.authenticate(auth)?;
                    return Ok(conn);
                }
                Err(e) => last = fail(io_reason(&e)),
            }
        }
        Err(last)
    }

    fn authenticate(&mut self, auth: &Auth) -> Result<(), ToolError> {
        let Some(pass) = &auth.pass else {
            return Ok(());
        };
        match &auth.user {
            Some(user) => self.call_ok(&["AUTH", user.as_str(), pass.as_str()])?,
            None => self.call_ok(&["AUTH", pass.as_str()])?,
        };
        Ok(())
    }

    /// `host:port` of the peer, for messages.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Send one command and read its reply (error replies are returned as frames).
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ToolError> {
        self.send(args)?;
        self.read_reply()
    }

    /// Like [`Conn::call`], but an error reply becomes [`ToolError::Reply`].
    pub fn call_ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ToolError> {
        match self.call(args)? {
            Frame::Error(e) => {
                Err(ToolError::Reply { addr: self.addr.clone(), message: String::from_utf8_lossy(&e).into_owned() })
            }
            other => Ok(other),
        }
    }

    /// Write one command without waiting for the reply (pipelining).
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), ToolError> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            bulk(&mut out, a.as_ref());
        }
        self.stream.write_all(&out).map_err(|e| self.io_error(&e))
    }

    /// Read exactly one reply.
    pub fn read_reply(&mut self) -> Result<Frame, ToolError> {
        loop {
            match self.replies.decode(&self.buf) {
                Ok(Some((frame, used))) => {
                    self.buf.drain(..used);
                    return Ok(frame);
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(ToolError::Protocol { addr: self.addr.clone(), reason: e.0 });
                }
            }
            let mut chunk = [0u8; 64 * 1024];
            let n = self.stream.read(&mut chunk).map_err(|e| self.io_error(&e))?;
            if n == 0 {
                let e = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
                return Err(self.io_error(&e));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn io_error(&self, e: &std::io::Error) -> ToolError {
        ToolError::Io { addr: self.addr.clone(), reason: io_reason(e) }
    }

    /// A text reply (bulk, status or verbatim) as a `String`.
    pub fn call_text<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<String, ToolError> {
        let frame = self.call_ok(args)?;
        frame_text(&frame).ok_or_else(|| ToolError::Protocol {
            addr: self.addr.clone(),
            reason: format!("expected a string reply, got {frame:?}"),
        })
    }

    /// An integer reply.
    pub fn call_int<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<i64, ToolError> {
        match self.call_ok(args)? {
            Frame::Integer(n) => Ok(n),
            other => Err(ToolError::Protocol {
                addr: self.addr.clone(),
                reason: format!("expected an integer reply, got {other:?}"),
            }),
        }
    }
}

/// The text of a bulk / simple / verbatim / error frame.
pub fn frame_text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Verbatim(_, b) | Frame::Error(b) => {
            Some(String::from_utf8_lossy(b).into_owned())
        }
        _ => None,
    }
}

/// A reply the way `redis-cli --raw` prints it (used by `call`): strings as they are,
/// errors followed by a newline, arrays one element per line, nil as nothing.
pub fn format_raw(frame: &Frame) -> String {
    match frame {
        Frame::Null | Frame::NullArray => String::new(),
        Frame::Error(e) => format!("{}\n", String::from_utf8_lossy(e)),
        Frame::Simple(b) | Frame::Bulk(b) | Frame::Verbatim(_, b) | Frame::BigNumber(b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        Frame::Integer(i) => i.to_string(),
        Frame::Double(d) => slotbox_protocol::float::fmt_g17(*d),
        Frame::Boolean(b) => (if *b { "1" } else { "0" }).to_string(),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) | Frame::Many(items) => {
            items.iter().map(format_raw).collect::<Vec<_>>().join("\n")
        }
        Frame::Map(pairs) => {
            pairs.iter().flat_map(|(k, v)| [format_raw(k), format_raw(v)]).collect::<Vec<_>>().join("\n")
        }
        Frame::Raw(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parse one RESP value (test input).
    fn b(s: &str) -> Frame {
        match slotbox_protocol::resp_parse::parse_frame(s.as_bytes()) {
            Ok(Some((f, _))) => f,
            other => panic!("bad test frame {s:?}: {other:?}"),
        }
    }

    #[test]
    fn raw_formatting_matches_redis_cli() {
        assert_eq!(format_raw(&b("$2\r\nv1\r\n")), "v1");
        assert_eq!(format_raw(&b(":75\r\n")), "75");
        assert_eq!(format_raw(&b("-MOVED 1 h:1\r\n")), "MOVED 1 h:1\n");
        assert_eq!(format_raw(&b("*2\r\n$1\r\na\r\n:1\r\n")), "a\n1");
        assert_eq!(format_raw(&b("$-1\r\n")), "");
    }

    #[test]
    fn connect_refused_names_the_node() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = Conn::open("127.0.0.1", port, &Auth::default(), Duration::from_secs(1)).unwrap_err();
        assert_eq!(err.to_string(), format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused"));
    }
}
