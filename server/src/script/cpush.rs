//! Command replies pushed onto a Lua stack through the C API, for `redis.call` /
//! `redis.pcall` (`ccall.rs`): the same table as `convert::reply_to_lua`, without a Lua value
//! handle per element. Every function here pushes exactly one value and raises nothing but
//! Lua's out-of-memory error; none holds a value with a destructor across a Lua call.

use super::convert::error_text;
use mlua::ffi;
use slotbox_protocol::{Frame, Protocol};
use std::ffi::CStr;

/// Stack slots a nested reply may need per level (the table, a key, a value, a field).
const SLOTS_PER_LEVEL: i32 = 4;

/// Push `s` as a Lua string.
unsafe fn push_bytes(l: *mut ffi::lua_State, s: &[u8]) {
    ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
}

/// Push the error table `{err = text}` (text in "CODE msg" form), with
/// `ignore_error_stats_update = true` when the error was counted already.
pub unsafe fn push_error_table(l: *mut ffi::lua_State, text: &[u8], ignore_stats: bool) {
    ffi::lua_createtable(l, 0, 2);
    push_bytes(l, text);
    ffi::lua_setfield(l, -2, c"err".as_ptr());
    if ignore_stats {
        ffi::lua_pushboolean(l, 1);
        ffi::lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
    }
}

/// Push `{field = <the value on top of the stack>}`, replacing that value.
unsafe fn wrap_top(l: *mut ffi::lua_State, field: &CStr) {
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_insert(l, -2);
    ffi::lua_setfield(l, -2, field.as_ptr());
}

/// Push a command's reply as the script sees it in protocol `resp`.
pub unsafe fn push_reply(l: *mut ffi::lua_State, frame: &Frame, resp: Protocol) {
    if ffi::lua_checkstack(l, SLOTS_PER_LEVEL) == 0 {
        // Nested past the C stack Lua allows: the rest of the reply is cut off.
        ffi::lua_pushnil(l);
        return;
    }
    let resp3 = resp == Protocol::Resp3;
    match frame {
        Frame::Integer(i) => ffi::lua_pushnumber(l, *i as f64),
        Frame::Bulk(b) => push_bytes(l, b),
        Frame::Simple(s) => {
            push_bytes(l, s);
            wrap_top(l, c"ok");
        }
        Frame::Error(e) => {
            let mut dashed = Vec::with_capacity(e.len() + 1);
            dashed.push(b'-');
            dashed.extend_from_slice(e);
            let text = error_text(&dashed);
            push_error_table(l, &text, true);
        }
        Frame::Null | Frame::NullArray if resp3 => ffi::lua_pushnil(l),
        Frame::Null | Frame::NullArray => ffi::lua_pushboolean(l, 0),
        Frame::Array(items) | Frame::Push(items) => push_array(l, items, resp),
        Frame::Set(items) if resp3 => {
            ffi::lua_createtable(l, 0, items.len().min(i32::MAX as usize) as i32);
            for it in items {
                push_reply(l, it, resp);
                ffi::lua_pushboolean(l, 1);
                raw_set_pair(l);
            }
            wrap_top(l, c"set");
        }
        Frame::Set(items) => push_array(l, items, resp),
        Frame::Map(pairs) if resp3 => {
            ffi::lua_createtable(l, 0, pairs.len().min(i32::MAX as usize) as i32);
            for (k, v) in pairs {
                push_reply(l, k, resp);
                push_reply(l, v, resp);
                raw_set_pair(l);
            }
            wrap_top(l, c"map");
        }
        Frame::Map(pairs) => {
            ffi::lua_createtable(l, (pairs.len() * 2).min(i32::MAX as usize) as i32, 0);
            for (i, (k, v)) in pairs.iter().enumerate() {
                push_reply(l, k, resp);
                ffi::lua_rawseti(l, -2, (2 * i + 1) as ffi::lua_Integer);
                push_reply(l, v, resp);
                ffi::lua_rawseti(l, -2, (2 * i + 2) as ffi::lua_Integer);
            }
        }
        Frame::Double(d) if resp3 => {
            ffi::lua_pushnumber(l, *d);
            wrap_top(l, c"double");
        }
        Frame::Double(d) => push_bytes(l, &super::convert::double_text(*d)),
        Frame::Boolean(b) if resp3 => ffi::lua_pushboolean(l, *b as i32),
        Frame::Boolean(b) => ffi::lua_pushnumber(l, if *b { 1.0 } else { 0.0 }),
        Frame::Verbatim(fmt, text) if resp3 => {
            ffi::lua_createtable(l, 0, 2);
            push_bytes(l, text);
            ffi::lua_setfield(l, -2, c"string".as_ptr());
            push_bytes(l, fmt.as_bytes());
            ffi::lua_setfield(l, -2, c"format".as_ptr());
            wrap_top(l, c"verbatim_string");
        }
        Frame::Verbatim(_, text) => push_bytes(l, text),
        Frame::BigNumber(n) if resp3 => {
            push_bytes(l, n);
            wrap_top(l, c"big_number");
        }
        Frame::BigNumber(n) => push_bytes(l, n),
        Frame::Raw(bytes) => match slotbox_protocol::resp_parse::parse_frame(bytes) {
            Ok(Some((f, _))) => push_reply(l, &f, resp),
            _ => ffi::lua_pushnil(l),
        },
        Frame::Many(frames) => match frames.first() {
            Some(f) => push_reply(l, f, resp),
            None => ffi::lua_pushnil(l),
        },
    }
}

/// `t[k] = v` for the table below a key and a value on top of the stack (a nil key is
/// dropped, as `rawset` would refuse it).
unsafe fn raw_set_pair(l: *mut ffi::lua_State) {
    if ffi::lua_isnil(l, -2) != 0 {
        ffi::lua_pop(l, 2);
    } else {
        ffi::lua_rawset(l, -3);
    }
}

unsafe fn push_array(l: *mut ffi::lua_State, items: &[Frame], resp: Protocol) {
    ffi::lua_createtable(l, items.len().min(i32::MAX as usize) as i32, 0);
    for (i, it) in items.iter().enumerate() {
        push_reply(l, it, resp);
        ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
    }
}
