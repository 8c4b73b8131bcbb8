//! What a command runs with (`Ctx`) and the small helpers every command file uses.

use super::client::Client;
use super::state::Sentinel;
use mio::Token;
use slotbox_protocol::frame::Frame;
use std::collections::HashMap;

/// What a command may touch besides its own client.
pub struct Ctx<'a> {
    pub s: &'a mut Sentinel,
    pub others: &'a HashMap<Token, Client>,
    pub shutdown: &'a mut bool,
    /// Ids of clients to disconnect after the command (CLIENT KILL).
    pub kill: &'a mut Vec<u64>,
}

pub fn lower(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

pub fn arity(name: &str) -> Frame {
    Frame::error(format!("ERR wrong number of arguments for '{name}' command"))
}
