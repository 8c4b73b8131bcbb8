//! `redis.call` and `redis.pcall` as C functions. A Lua function in their place would be
//! tail-called by `return redis.call(...)`, losing the user's frame, and with it the
//! `on @user_script:N.` of the error reply; a C function leaves the caller's frame in place,
//! as in Redis. Each forwards to the sandbox's `P.d` (the run's dispatcher) and raises the
//! error table it hands back (`redis.call` only).

use mlua::{ffi, Function, Lua};
use std::ffi::{c_int, CStr};

/// Registry key of the sandbox's private table.
pub const PRIVATE_KEY: &str = "redis_sandbox_private";
const PRIVATE_KEY_C: &CStr = c"redis_sandbox_private";

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
    // A C function may push LUA_MINSTACK values without `lua_checkstack`, which refuses
    // anything once the arguments fill the frame (`unpack` of ~8000 values): the arguments
    // go into one table first, each push taking one slot.
    let n = ffi::lua_gettop(l);
    ffi::lua_createtable(l, n, 0);
    for i in 1..=n {
        ffi::lua_pushvalue(l, i);
        ffi::lua_rawseti(l, n + 1, i as ffi::lua_Integer);
    }
    if n > 0 {
        ffi::lua_replace(l, 1);
        ffi::lua_settop(l, 1);
    }
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, PRIVATE_KEY_C.as_ptr());
    ffi::lua_getfield(l, -1, c"d".as_ptr());
    ffi::lua_remove(l, -2);
    if ffi::lua_isnil(l, -1) != 0 {
        ffi::lua_pop(l, 1);
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushstring(l, c"ERR redis.call/pcall can only be called inside a script invocation".as_ptr());
        ffi::lua_setfield(l, -2, c"err".as_ptr());
        ffi::lua_error(l);
    }
    // Stack: args table, d. Call d(args, n).
    ffi::lua_insert(l, 1);
    ffi::lua_pushinteger(l, n as ffi::lua_Integer);
    ffi::lua_call(l, 2, 2);
    let failed = ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_pop(l, 1);
    if raise && failed {
        ffi::lua_error(l);
    }
    1
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
