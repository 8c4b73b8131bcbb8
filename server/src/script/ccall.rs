//! `redis.call` and `redis.pcall` as C functions. A Lua function in their place would be
//! tail-called by `return redis.call(...)`, losing the user's frame, and with it the
//! `on @user_script:N.` of the error reply; a C function leaves the caller's frame in place,
//! as in Redis. Each runs the command through the running script's host (found through the
//! registry) and pushes the reply with the C API (`cpush.rs`), raising the error table
//! (`redis.call` only).

use super::convert::error_text;
use super::cpush::{push_error_table, push_reply};
use super::host::HostSlot;
use bytes::Bytes;
use mlua::{ffi, Function, Lua};
use std::ffi::c_int;
use std::sync::Arc;

/// SAFETY (both functions): they only use the Lua C API on the stack of the running call,
/// never more than the LUA_MINSTACK (20) slots a C function is given beyond its arguments. `lua_call` and `lua_error` may longjmp out of this
/// frame; it holds no value with a destructor, so nothing is skipped.
pub unsafe extern "C-unwind" fn redis_call(l: *mut ffi::lua_State) -> c_int {
    dispatch(l, true)
}

/// See [`redis_call`].
pub unsafe extern "C-unwind" fn redis_pcall(l: *mut ffi::lua_State) -> c_int {
    dispatch(l, false)
}

unsafe fn dispatch(l: *mut ffi::lua_State, raise: bool) -> c_int {
    match call(l) {
        Called::Reply => 1,
        Called::Failed if !raise => 1,
        Called::Failed | Called::Outside => ffi::lua_error(l),
    }
}

/// How one `redis.call` / `redis.pcall` went (its reply or error table is on the stack).
enum Called {
    Reply,
    /// The command failed, or could not run: raised by `redis.call`.
    Failed,
    /// Not inside a script run: raised by both.
    Outside,
}

/// Run the command the arguments on the stack name and push its reply, or the error table.
/// Every Rust value is dropped before this returns (the caller may raise).
unsafe fn call(l: *mut ffi::lua_State) -> Called {
    let n = ffi::lua_gettop(l);
    let slot = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const HostSlot;
    // SAFETY: the function's upvalue is the address of the interpreter's `HostSlot`, which its
    // `Vm` keeps alive (an `Arc`) as long as the interpreter (`host_function`).
    let Some(slot) = slot.as_ref() else { return outside(l) };
    let called = slot.with(|host| {
        // The arguments are copied out, then popped: the reply may need the whole stack
        // (`unpack` of ~8000 values fills it).
        let argv: Option<Vec<Bytes>> = (1..=n).map(|i| arg(l, i)).collect();
        ffi::lua_settop(l, 0);
        if host.watch().is_some_and(|w| w.killed()) {
            // Killed: every call fails, so no pcall loop outlives SCRIPT KILL.
            push_error_table(l, &error_text(b"Script killed by user with SCRIPT KILL..."), false);
            return Called::Failed;
        }
        if n == 0 {
            let msg = b"Please specify at least one argument for this redis lib call";
            push_error_table(l, &error_text(msg), false);
            return Called::Failed;
        }
        let Some(argv) = argv else {
            let msg = b"Lua redis lib command arguments must be strings or integers";
            push_error_table(l, &error_text(msg), false);
            return Called::Failed;
        };
        match host.call(argv) {
            Ok(frame) => {
                push_reply(l, &frame, host.resp());
                if frame.is_error() {
                    Called::Failed
                } else {
                    Called::Reply
                }
            }
            Err(msg) => {
                push_error_table(l, &error_text(msg.as_bytes()), true);
                Called::Failed
            }
        }
    });
    called.unwrap_or_else(|| outside(l))
}

unsafe fn outside(l: *mut ffi::lua_State) -> Called {
    ffi::lua_settop(l, 0);
    push_error_table(l, b"ERR redis.call/pcall can only be called inside a script invocation", false);
    Called::Outside
}

/// Argument `i` of `redis.call` as Redis passes it on: a string as it is, a number as an
/// integer when it is one, else `%.17g`; anything else is refused.
unsafe fn arg(l: *mut ffi::lua_State, i: c_int) -> Option<Bytes> {
    match ffi::lua_type(l, i) {
        ffi::LUA_TSTRING => {
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, i, &mut len);
            Some(Bytes::copy_from_slice(std::slice::from_raw_parts(p.cast::<u8>(), len)))
        }
        ffi::LUA_TNUMBER => {
            let n = ffi::lua_tonumber(l, i);
            let int = n as i64;
            Some(if int as f64 == n {
                Bytes::from(int.to_string())
            } else {
                Bytes::from(slotbox_protocol::float::fmt_g17(n))
            })
        }
        _ => None,
    }
}

/// `f` (`redis_call` or `redis_pcall`) as a C closure whose upvalue is the address of `slot`,
/// where each call finds the running script's host without a registry lookup. The caller
/// keeps `slot` alive as long as the interpreter.
pub fn host_function(
    lua: &Lua,
    f: unsafe extern "C-unwind" fn(*mut ffi::lua_State) -> c_int,
    slot: &Arc<HostSlot>,
) -> mlua::Result<Function> {
    let ptr = Arc::as_ptr(slot) as *mut std::ffi::c_void;
    // SAFETY: `exec_raw` runs the closure in protected mode; it pushes the address and pops it
    // as the upvalue of a new C closure, which is what it returns. `f` only uses the Lua C
    // API on its own stack (see `redis_call`).
    unsafe {
        lua.exec_raw((), |state| {
            ffi::lua_pushlightuserdata(state, ptr);
            ffi::lua_pushcclosure(state, f, 1);
        })
    }
}

/// Calls its upvalue (a Lua function of the sandbox) with its arguments and returns what it
/// returns. A Lua function of the `redis` API put behind it is not tail-called away by
/// `return redis.sha1hex()`, so its errors are still located at the user's line.
///
/// SAFETY: pushes one value (within LUA_MINSTACK) and calls the upvalue, which may longjmp
/// out of this frame; it holds nothing with a destructor.
unsafe extern "C-unwind" fn trampoline(l: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    ffi::lua_gettop(l)
}

/// `f` behind a C function (see [`trampoline`]).
pub fn c_wrapped(lua: &Lua, f: Function) -> mlua::Result<Function> {
    // SAFETY: `exec_raw` pushes `f` and runs the closure in protected mode; the closure pops
    // it as the upvalue of a new C closure, which is what it returns.
    unsafe {
        lua.exec_raw(f, |state| {
            ffi::lua_pushcclosure(state, trampoline, 1);
        })
    }
}
