//! Keyspace notifications in the differential test: each server gets a subscriber on
//! `__key*__:*` (every class but expired / evicted / new / keymiss, whose timing depends on the
//! server's clock and cron), and at every dataset comparison the messages each one received
//! since the last must be the same, in the same order. A `PUBLISH` on a barrier channel from
//! the commands' own connection marks the end: it reaches the subscriber after the events the
//! commands before it published.

use super::common::{show, RawClient};
use slotbox::protocol::Frame;

/// The classes compared: generic, string, list, set, hash, sorted set, stream.
pub const FLAGS: &str = "KEg$lshzt";
const BARRIER: &str = "differential-barrier";

/// Subscribe a new connection to `addr`'s keyspace events (the caller turned them on).
pub fn subscriber(addr: std::net::SocketAddr) -> RawClient {
    let mut sub = RawClient::connect(addr);
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    sub.call(&["SUBSCRIBE", BARRIER]);
    sub
}

/// The messages `sub` received up to the barrier `main` publishes now.
fn drain(main: &mut RawClient, sub: &mut RawClient) -> Result<Vec<String>, String> {
    main.try_call(&["PUBLISH", BARRIER, "."]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    loop {
        let (frame, raw) = sub.try_read_reply().map_err(|e| format!("no barrier message: {e}"))?;
        let (Frame::Array(parts) | Frame::Push(parts)) = &frame else {
            return Err(format!("not a pub/sub message: {}", show(&raw)));
        };
        if parts.first().and_then(|p| p.as_bytes()) == Some(&b"message"[..])
            && parts.get(1).and_then(|p| p.as_bytes()) == Some(BARRIER.as_bytes())
        {
            return Ok(out);
        }
        out.push(show(&raw));
    }
}

/// Compare what the two subscribers received since the last call; returns how many messages.
pub fn compare(
    redis: (&mut RawClient, &mut RawClient),
    slotbox: (&mut RawClient, &mut RawClient),
) -> Result<usize, String> {
    let want = drain(redis.0, redis.1).map_err(|e| format!("redis: {e}"))?;
    let got = drain(slotbox.0, slotbox.1).map_err(|e| format!("slotbox: {e}"))?;
    if want == got {
        return Ok(want.len());
    }
    Err(format!(
        "keyspace events differ\n    redis:   {}\n    slotbox: {}",
        want.join("\n             "),
        got.join("\n             ")
    ))
}
