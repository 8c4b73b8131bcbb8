//! [`Host`]: what a running script calls back into — the server's commands, run for it by the
//! caller (`commands::scripting`), which the interpreter does not know.

use super::watch::Watch;
use bytes::Bytes;
use slotbox_protocol::{Frame, Protocol};
use std::sync::Arc;

/// What a running script calls back into: the server's commands, run for it.
pub trait Host {
    /// Run one command for the script. `Err` is a refusal before the command ran (its text, in
    /// "-CODE msg" or "msg" form); a command's own error is an `Ok` error frame.
    fn call(&mut self, args: Vec<Bytes>) -> Result<Frame, String>;
    /// The protocol the script reads replies in (`redis.setresp`).
    fn resp(&self) -> Protocol;
    fn set_resp(&mut self, resp: Protocol);
    /// `redis.set_repl` flags (1: AOF, 2: replicas).
    fn set_repl(&mut self, flags: u8);
    /// Is this a known command (`redis.acl_check_cmd`)?
    fn is_command(&self, args: &[Bytes]) -> bool;
    /// The watch the VM polls while the script runs (None: never interrupted).
    fn watch(&self) -> Option<Arc<Watch>>;
}
