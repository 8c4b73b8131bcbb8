//! [`ToolError`]: the one error type of the cluster tool. Every variant names the node it is
//! about, so the message printed to the user is a single clear line. No I/O here.

use std::fmt;

/// What went wrong while managing a cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// TCP connect failed (refused, timed out, unknown host).
    Connect { addr: String, reason: String },
    /// The connection broke or timed out after it was established.
    Io { addr: String, reason: String },
    /// The node answered with an error reply (text without the leading `-`).
    Reply { addr: String, message: String },
    /// The node sent something that is not RESP, or not the shape we expected.
    Protocol { addr: String, reason: String },
    /// A failure already reported to the user; only the exit status is left to set.
    Reported,
}

impl ToolError {
    /// True for failures of the transport (connect / read / write), as opposed to replies.
    pub fn is_connection(&self) -> bool {
        matches!(self, ToolError::Connect { .. } | ToolError::Io { .. })
    }

    /// The error reply text, if the node replied with an error.
    pub fn reply_message(&self) -> Option<&str> {
        match self {
            ToolError::Reply { message, .. } => Some(message),
            _ => None,
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Connect { addr, reason } => {
                write!(f, "Could not connect to Redis at {addr}: {reason}")
            }
            ToolError::Io { addr, reason } => write!(f, "I/O error talking to {addr}: {reason}"),
            ToolError::Reply { addr, message } => {
                write!(f, "Node {addr} replied with error:\n{message}")
            }
            ToolError::Protocol { addr, reason } => {
                write!(f, "Node {addr} sent an unexpected reply: {reason}")
            }
            ToolError::Reported => write!(f, "operation failed"),
        }
    }
}

impl std::error::Error for ToolError {}

/// `io::Error` in the words redis-cli uses ("Connection refused"), without "(os error 111)".
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "Connection refused".into(),
        TimedOut | WouldBlock => "Connection timed out".into(),
        ConnectionReset => "Connection reset by peer".into(),
        UnexpectedEof => "Server closed the connection".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_node() {
        let e = ToolError::Connect { addr: "127.0.0.1:1".into(), reason: "Connection refused".into() };
        assert_eq!(e.to_string(), "Could not connect to Redis at 127.0.0.1:1: Connection refused");
        assert!(e.is_connection());
        let r = ToolError::Reply { addr: "h:1".into(), message: "ERR x".into() };
        assert_eq!(r.reply_message(), Some("ERR x"));
        assert!(!r.is_connection());
    }

    #[test]
    fn io_reason_drops_os_error_suffix() {
        let e = std::io::Error::from_raw_os_error(111);
        assert_eq!(io_reason(&e), "Connection refused");
        let other = std::io::Error::other("boom");
        assert_eq!(io_reason(&other), "boom");
    }
}
