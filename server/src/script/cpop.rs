//! A script's end read from the Lua stack through the C API, while its value is still there:
//! the reply its return value makes (Redis's table: `{err=}`, `{ok=}`, `{double=}`,
//! `{big_number=}`, `{verbatim_string=}`, `{map=}`, `{set=}`, arrays up to the first nil), or
//! the error reply its raised value makes. No Lua value handle
//! is made per run. Every function here leaves the stack as it found it and raises nothing
//! (raw reads only, and `lua_checkstack` before each level).

use super::convert::{number_to_i64, MAX_DEPTH};
use bytes::Bytes;
use mlua::ffi;
use slotbox_protocol::{Frame, Protocol};
use std::ffi::{c_int, CStr};

/// Stack slots one level of a reply may need (the field or key, the value, a nested field).
const SLOTS_PER_LEVEL: c_int = 4;

/// The bytes of the string at `idx` (whose type is `LUA_TSTRING`).
unsafe fn bytes_at<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    std::slice::from_raw_parts(p.cast::<u8>(), len)
}

/// Push `t[name]` (raw) and return its type; the caller pops it.
unsafe fn field(l: *mut ffi::lua_State, t: c_int, name: &CStr) -> c_int {
    let name = name.to_bytes();
    ffi::lua_pushlstring(l, name.as_ptr().cast(), name.len());
    ffi::lua_rawget(l, t);
    ffi::lua_type(l, -1)
}

/// `t[name]` when it is a string.
unsafe fn string_field(l: *mut ffi::lua_State, t: c_int, name: &CStr) -> Option<Bytes> {
    let s = (field(l, t, name) == ffi::LUA_TSTRING).then(|| Bytes::copy_from_slice(bytes_at(l, -1)));
    ffi::lua_pop(l, 1);
    s
}

/// `t.ignore_error_stats_update == true`: the error was counted when the command failed.
pub unsafe fn counted(l: *mut ffi::lua_State, t: c_int) -> bool {
    if ffi::lua_type(l, t) != ffi::LUA_TTABLE {
        return false;
    }
    let yes = field(l, t, c"ignore_error_stats_update") == ffi::LUA_TBOOLEAN && ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_pop(l, 1);
    yes
}

/// The reply the value at `idx` (an absolute index) makes. `script_resp` is the script's
/// protocol (booleans), `caller` the protocol the reply is written in.
pub unsafe fn reply_at(l: *mut ffi::lua_State, idx: c_int, script_resp: Protocol, caller: Protocol) -> Frame {
    to_reply(l, idx, script_resp, caller, 0)
}

unsafe fn to_reply(l: *mut ffi::lua_State, idx: c_int, script_resp: Protocol, caller: Protocol, depth: usize) -> Frame {
    if depth > MAX_DEPTH || ffi::lua_checkstack(l, SLOTS_PER_LEVEL) == 0 {
        return Frame::error_static("ERR reached lua stack limit");
    }
    match ffi::lua_type(l, idx) {
        ffi::LUA_TSTRING => Frame::Bulk(Bytes::copy_from_slice(bytes_at(l, idx))),
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(l, idx) != 0;
            match script_resp {
                Protocol::Resp2 if b => Frame::Integer(1),
                Protocol::Resp2 => Frame::Null,
                Protocol::Resp3 => Frame::Boolean(b),
            }
        }
        ffi::LUA_TNUMBER => Frame::Integer(number_to_i64(ffi::lua_tonumber(l, idx))),
        ffi::LUA_TTABLE => table_to_reply(l, idx, script_resp, caller, depth),
        _ => Frame::Null,
    }
}

fn one_line(s: &[u8]) -> Bytes {
    Bytes::from(s.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect::<Vec<u8>>())
}

unsafe fn table_to_reply(
    l: *mut ffi::lua_State,
    t: c_int,
    script_resp: Protocol,
    caller: Protocol,
    depth: usize,
) -> Frame {
    if let Some(e) = string_field(l, t, c"err") {
        return Frame::Error(e);
    }
    if let Some(s) = string_field(l, t, c"ok") {
        return Frame::Simple(one_line(&s));
    }
    let double = (field(l, t, c"double") == ffi::LUA_TNUMBER).then(|| ffi::lua_tonumber(l, -1));
    ffi::lua_pop(l, 1);
    if let Some(d) = double {
        return Frame::Double(d);
    }
    if let Some(s) = string_field(l, t, c"big_number") {
        return Frame::BigNumber(one_line(&s));
    }
    if let Some(f) = verbatim(l, t, caller) {
        return f;
    }
    let top = ffi::lua_gettop(l);
    if field(l, t, c"map") == ffi::LUA_TTABLE {
        let mut pairs = Vec::new();
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, top + 1) != 0 {
            let (k, v) = (top + 2, top + 3);
            pairs
                .push((to_reply(l, k, script_resp, caller, depth + 1), to_reply(l, v, script_resp, caller, depth + 1)));
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
        return Frame::Map(pairs);
    }
    ffi::lua_pop(l, 1);
    if field(l, t, c"set") == ffi::LUA_TTABLE {
        let mut items = Vec::new();
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, top + 1) != 0 {
            items.push(to_reply(l, top + 2, script_resp, caller, depth + 1));
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
        return Frame::Set(items);
    }
    ffi::lua_pop(l, 1);
    let mut items = Vec::new();
    for i in 1.. {
        ffi::lua_rawgeti(l, t, i);
        if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
            ffi::lua_pop(l, 1);
            break;
        }
        items.push(to_reply(l, top + 1, script_resp, caller, depth + 1));
        ffi::lua_pop(l, 1);
        if depth + 1 > MAX_DEPTH {
            break;
        }
    }
    Frame::Array(items)
}

unsafe fn verbatim(l: *mut ffi::lua_State, t: c_int, caller: Protocol) -> Option<Frame> {
    let top = ffi::lua_gettop(l);
    let parts = if field(l, t, c"verbatim_string") == ffi::LUA_TTABLE {
        string_field(l, top + 1, c"format").zip(string_field(l, top + 1, c"string"))
    } else {
        None
    };
    ffi::lua_pop(l, 1);
    let (format, text) = parts?;
    Some(super::convert::verbatim_frame(&format, text, caller))
}

/// The error reply of a script that raised the value at `idx`: its `err` text, and where it
/// happened (`source`, `line`), as `ERR Error running script` for anything but a table; and
/// whether the error was counted already (`counted`).
pub unsafe fn failure_at(l: *mut ffi::lua_State, idx: c_int, name: &str) -> (Vec<u8>, bool) {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TTABLE => {}
        ffi::LUA_TSTRING => {
            let msg: String = String::from_utf8_lossy(bytes_at(l, idx)).chars().take(100).collect();
            return (format!("ERR Error running script {name}, {msg}").into_bytes(), false);
        }
        _ => return (format!("ERR Error running script {name}, execution failure").into_bytes(), false),
    }
    let text = |key: &CStr| {
        let v = match field(l, idx, key) {
            ffi::LUA_TSTRING => Some(bytes_at(l, -1).to_vec()),
            ffi::LUA_TNUMBER => Some(number_text(ffi::lua_tonumber(l, -1)).into_bytes()),
            _ => None,
        };
        ffi::lua_pop(l, 1);
        v
    };
    let mut out = text(c"err").unwrap_or_default();
    if let (Some(source), Some(line)) = (text(c"source"), text(c"line")) {
        out.extend_from_slice(format!(" script: {name}, on ").as_bytes());
        out.extend_from_slice(&source);
        out.push(b':');
        out.extend_from_slice(&line);
        out.push(b'.');
    }
    (out, counted(l, idx))
}

/// A Lua number as text: an integral one as an integer, any other as Rust prints it.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.2e18 {
        (n as i64).to_string()
    } else {
        format!("{n}")
    }
}
