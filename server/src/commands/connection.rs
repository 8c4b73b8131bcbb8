//! Connection commands: PING, ECHO (more land in this file: QUIT, HELLO, AUTH, SELECT, CLIENT).

use super::{Ctx, Registration};
use bytes::Bytes;
use slotbox_protocol::Frame;

fn ping(_ctx: &mut Ctx, args: &[Bytes]) -> Frame {
    match args.len() {
        1 => Frame::simple_static("PONG"),
        2 => Frame::Bulk(args[1].clone()),
        _ => Frame::error(slotbox_protocol::frame::errors::wrong_arity("ping")),
    }
}

fn echo(_ctx: &mut Ctx, args: &[Bytes]) -> Frame {
    Frame::Bulk(args[1].clone())
}

pub const COMMANDS: Registration = &[("ping", ping), ("echo", echo)];
