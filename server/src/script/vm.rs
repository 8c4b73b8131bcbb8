//! [`Vm`]: one Lua 5.1 interpreter set up as Redis sets up its own — base (without `loadfile`,
//! `dofile`, `print`), table, string, math, cjson, struct, cmsgpack, bit, the `redis` table —
//! with its globals locked (`sandbox.lua`), and the run of one script or function in it. The
//! commands a script calls go to a [`Host`]; the VM knows nothing of commands or clients.

use super::convert::{error_table, error_text};
use super::cpop;
use super::host::{Host, HostSlot};
use super::rand48::Rand48;
use super::Watch;
use bytes::Bytes;
use mlua::{ffi, Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use slotbox_protocol::{Frame, Protocol};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

/// The version the `redis` table reports.
const VERSION: (&str, i64) = ("7.0.15", 0x07000f);

/// Name of the sandbox chunk (its frames are skipped when locating an error).
const SANDBOX: &str = "@redis_sandbox";

/// Instructions between two checks of the script's watch (as Redis's count hook).
const HOOK_EVERY: u32 = 100_000;

/// What the interpreter is for: EVAL scripts, or function libraries (whose load runs with
/// only `redis.register_function`, `redis.log` and the versions visible).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Eval,
    Functions,
}

pub struct Vm {
    pub lua: Lua,
    /// The sandbox's private table (raw functions, `d` while a script runs).
    private: Table,
    /// The metatable of the (empty) globals table: its `__index` is where globals are read.
    globals_mt: Table,
    /// The real globals.
    hidden: Table,
    /// The host of the running script, for the callbacks made once in [`Vm::new`] and for
    /// `redis.call` (`ccall.rs`, which finds it in the registry).
    current: Arc<HostSlot>,
    /// The watch the run hook polls, while that hook is set.
    hooked: parking_lot::Mutex<Option<Arc<Watch>>>,
    /// Runs since the collector was last stepped by hand.
    runs: AtomicU32,
    /// Lua memory after the last finished collection cycle (see [`GC_SLACK`]).
    live: AtomicUsize,
    /// Registry references of the real globals, the private table and the message handler,
    /// for the C API's run of a script.
    refs: Refs,
    /// The interpreter's main state, where scripts run.
    state: *mut ffi::lua_State,
}

// SAFETY: `state` is the main state of `lua`, which is `Send` (mlua's `send` feature); it is
// only used by `Vm::run`, under the engines' lock like every other use of the interpreter.
unsafe impl Send for Vm {}

/// A compiled script or a registered function, as the C API runs it: by its registry
/// reference.
pub struct Callable {
    key: mlua::RegistryKey,
}

impl Callable {
    pub fn new(lua: &Lua, f: Function) -> mlua::Result<Callable> {
        Ok(Callable { key: lua.create_registry_value(f)? })
    }
}

#[derive(Clone, Copy)]
struct Refs {
    hidden: ffi::lua_Integer,
    private: ffi::lua_Integer,
    handler: ffi::lua_Integer,
}

/// Redis's `LUA_GC_CYCLE_PERIOD`: every this many runs, one collector step of this many KB.
const GC_CYCLE_PERIOD: u32 = 50;
/// The step is skipped while Lua's memory is within this many bytes of what the last
/// finished cycle left. Redis steps every 50 runs whatever the garbage; a step of 50 KB
/// finishes a cycle over a live heap this size, so every 50 runs the whole heap was walked
/// (this VM's live heap, its sandbox and libraries, is about twice Redis's). A short script
/// leaves ~150 bytes of garbage (its KEYS and ARGV tables, its key strings): the heap
/// stays within this of its live size, as Redis's does within 50 runs' garbage, and
/// unit/scripting's "does not leak" bound (100 KB after 10000 scripts) holds.
const GC_SLACK: usize = 24 * 1024;

/// What a run gets as KEYS and ARGV.
pub enum Input<'a> {
    /// As the globals `KEYS` and `ARGV` (EVAL).
    Globals(&'a [Bytes], &'a [Bytes]),
    /// As the function's two arguments (FCALL).
    Args(&'a [Bytes], &'a [Bytes]),
}

/// How a script run ended.
pub enum Outcome {
    /// It returned this reply (true: an error reply a command gave it, counted already).
    Reply(Frame, bool),
    /// It raised this error (the reply text, without `-`); true when the error came from a
    /// command the script called, and so was counted in the error stats already.
    Error(Vec<u8>, bool),
}

impl Vm {
    pub fn new(kind: Kind, rand: Arc<Rand48>) -> mlua::Result<Vm> {
        // SAFETY: the debug library is loaded only for the sandbox's error handler, which
        // captures it in a local; `sandbox.lua` removes the `debug` global before any user
        // code is compiled, so no script can reach it. mlua's other unsafe-mode freedoms
        // (C modules, `package`) stay out: those libraries are not loaded.
        let lua = unsafe {
            Lua::unsafe_new_with(StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG, LuaOptions::new())
        };
        let globals = lua.globals();
        super::libs::install(&lua, &globals)?;
        let redis = lua.create_table()?;
        for (name, v) in [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)] {
            redis.raw_set(name, v)?;
        }
        for (name, v) in [("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3)] {
            redis.raw_set(name, v)?;
        }
        redis.raw_set("REDIS_VERSION", VERSION.0)?;
        redis.raw_set("REDIS_VERSION_NUM", VERSION.1)?;
        globals.raw_set("redis", redis.clone())?;
        let private = lua.create_table()?;
        private.raw_set("redis", redis.clone())?;
        private.raw_set("sha1hex", lua.create_function(sha1hex)?)?;
        private.raw_set("log", lua.create_function(log)?)?;
        private.raw_set("errmsg", lua.create_function(errmsg)?)?;
        let r = rand.clone();
        private.raw_set("rand", lua.create_function(move |_, ()| Ok(r.next_f64()))?)?;
        private.raw_set(
            "srand",
            lua.create_function(move |_, seed: f64| {
                rand.seed(seed as i64 as i32);
                Ok(())
            })?,
        )?;
        // Compiled, then kept without its debug information (see `strip`): it stays live in
        // the VM for good, and every collector cycle walks it.
        let dump = lua.load(include_str!("sandbox.lua")).set_name(SANDBOX).into_function()?.dump(false);
        let chunk = super::strip::strip(&dump).unwrap_or(dump);
        lua.load(chunk).set_mode(mlua::ChunkMode::Binary).set_name(SANDBOX).call::<()>(private.clone())?;
        let current = Arc::new(HostSlot::default());
        redis.raw_set("call", super::ccall::host_function(&lua, super::ccall::redis_call, &current)?)?;
        redis.raw_set("pcall", super::ccall::host_function(&lua, super::ccall::redis_pcall, &current)?)?;
        // The Lua-written API behind C functions (errors keep pointing at the user's line).
        use super::ccall::c_wrapped;
        for name in ["sha1hex", "log", "setresp", "set_repl", "acl_check_cmd"] {
            redis.raw_set(name, c_wrapped(&lua, redis.raw_get(name)?)?)?;
        }
        let math: Table = globals.raw_get("math")?;
        for name in ["random", "randomseed"] {
            math.raw_set(name, c_wrapped(&lua, math.raw_get(name)?)?)?;
        }
        for name in ["setmetatable", "rawset"] {
            globals.raw_set(name, c_wrapped(&lua, globals.raw_get(name)?)?)?;
        }
        private.raw_set("register_function", c_wrapped(&lua, private.raw_get("register_function")?)?)?;
        let c = current.clone();
        private.raw_set(
            "killed",
            lua.create_function(move |_, ()| Ok(c.with(|h| h.watch().is_some_and(|w| w.killed())).unwrap_or(false)))?,
        )?;
        let c = current.clone();
        private.raw_set(
            "setresp",
            lua.create_function(move |_, v: i64| {
                c.with(|h| h.set_resp(if v == 3 { Protocol::Resp3 } else { Protocol::Resp2 }));
                Ok(())
            })?,
        )?;
        let c = current.clone();
        private.raw_set(
            "set_repl",
            lua.create_function(move |_, v: i64| {
                c.with(|h| h.set_repl(v as u8));
                Ok(())
            })?,
        )?;
        let c = current.clone();
        private.raw_set(
            "known",
            lua.create_function(move |_, args: MultiValue| {
                let argv: Vec<Bytes> = args.iter().filter_map(arg_bytes).collect();
                Ok(c.with(|h| h.is_command(&argv)).unwrap_or(false))
            })?,
        )?;
        let handler: Function = private.raw_get("handler")?;
        let hidden = lua.create_table()?;
        let lock: Function = private.raw_get("lock_globals")?;
        if kind == Kind::Functions {
            // The debugger's hooks and the pre-7.0 switch exist for EVAL only.
            for name in ["replicate_commands", "breakpoint", "debug"] {
                redis.raw_set(name, Value::Nil)?;
            }
        }
        let globals_mt: Table = lock.call((globals, hidden.clone()))?;
        let mut refs = Refs { hidden: 0, private: 0, handler: 0 };
        let mut state = std::ptr::null_mut();
        // SAFETY: `exec_raw` pushes the three values; each `luaL_ref` pops the top one into
        // the registry (so the last pushed is referenced first). The references live as long
        // as the interpreter.
        unsafe {
            lua.exec_raw::<()>((&hidden, &private, &handler), |l| {
                refs.handler = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX) as ffi::lua_Integer;
                refs.private = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX) as ffi::lua_Integer;
                refs.hidden = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX) as ffi::lua_Integer;
                state = l;
            })?;
        }
        Ok(Vm {
            lua,
            private,
            globals_mt,
            hidden,
            current,
            hooked: Default::default(),
            runs: Default::default(),
            live: AtomicUsize::new(0),
            refs,
            state,
        })
    }

    /// Compile `body` (named `@user_script` or `@user_function`) with the globals as its
    /// environment.
    pub fn compile(&self, body: &[u8], name: &str) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name(name)
            .set_mode(mlua::ChunkMode::Text)
            .into_function()
            .map_err(|e| lua_error_message(&e))
    }

    /// Read globals from `index` instead of the real globals (a function library's load), or
    /// from the real globals again (`None`).
    pub fn set_globals_view(&self, index: Option<&Table>) -> mlua::Result<()> {
        match index {
            Some(t) => self.globals_mt.raw_set("__index", t.clone()),
            None => self.globals_mt.raw_set("__index", self.hidden.clone()),
        }
    }

    /// The sandbox's private table.
    pub fn private(&self) -> &Table {
        &self.private
    }

    /// A read-only view of `t` for scripts.
    pub fn readonly(&self, t: Table) -> mlua::Result<Table> {
        let f: Function = self.private.raw_get("readonly")?;
        f.call(t)
    }

    /// The sandbox's error for reading a missing global (a metatable `__index`).
    pub fn missing_global(&self) -> mlua::Result<Function> {
        self.private.raw_get("missing_global")
    }

    /// Call `f` under the error handler with the sandbox's "inside a script invocation" mark
    /// set, giving it `input` as KEYS and ARGV, and read how it ended while its value is on
    /// the stack (`cpop.rs`): one protected call through the C API, no Lua value handle per
    /// array, flag, call or result.
    fn call_marked(&self, f: &Callable, input: &Input, caller: Protocol, name: &str) -> Outcome {
        let (keys, argv, as_globals) = match *input {
            Input::Globals(k, a) => (k, a, true),
            Input::Args(k, a) => (k, a, false),
        };
        let (refs, l) = (self.refs, self.state);
        // SAFETY: `l` is the interpreter's main state, used here by this thread alone (the
        // engines' lock; no mlua call is in progress on it: `run` is never called from a
        // callback). The stack is checked for the slots used (the globals, the private table,
        // the handler, the function, two arrays and a string above them) and left as it was
        // found. The only errors raised outside `lua_pcall` would be out-of-memory ones; the
        // script's own end is caught by `lua_pcall`, under the handler, as Redis runs a script;
        // `cpop` raises nothing. No value with a destructor lives across a call that may raise.
        unsafe {
            let base = ffi::lua_gettop(l);
            if ffi::lua_checkstack(l, 10) == 0 {
                return Outcome::Error(format!("ERR Error running script {name}, stack overflow").into_bytes(), false);
            }
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, refs.hidden);
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, refs.private);
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, refs.handler);
            let (globals, private, handler) = (base + 1, base + 2, base + 3);
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, f.key.id() as ffi::lua_Integer);
            let push_array = |items: &[Bytes]| {
                ffi::lua_createtable(l, items.len().min(i32::MAX as usize) as i32, 0);
                for (i, it) in items.iter().enumerate() {
                    ffi::lua_pushlstring(l, it.as_ptr().cast(), it.len());
                    ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
                }
            };
            let nargs = if as_globals {
                push_array(keys);
                ffi::lua_setfield(l, globals, c"KEYS".as_ptr());
                push_array(argv);
                ffi::lua_setfield(l, globals, c"ARGV".as_ptr());
                0
            } else {
                push_array(keys);
                push_array(argv);
                2
            };
            ffi::lua_pushboolean(l, 1);
            ffi::lua_setfield(l, private, c"d".as_ptr());
            let status = ffi::lua_pcall(l, nargs, 1, handler);
            ffi::lua_pushnil(l);
            ffi::lua_setfield(l, private, c"d".as_ptr());
            let end = base + 4;
            let resp = self.current.with(|h| h.resp()).unwrap_or(caller);
            let outcome = if status == 0 {
                let counted = cpop::counted(l, end);
                Outcome::Reply(cpop::reply_at(l, end, resp, caller), counted)
            } else {
                let (text, counted) = cpop::failure_at(l, end, name);
                Outcome::Error(text, counted)
            };
            ffi::lua_settop(l, base);
            outcome
        }
    }

    /// Keep the count hook that polls `watch` while scripts run (set once: making a hook
    /// per run was a measurable share of a short script's cost); `None` removes it.
    fn hook(&self, watch: Option<&Arc<Watch>>) {
        let mut hooked = self.hooked.lock();
        match (watch, hooked.as_ref()) {
            (Some(w), Some(h)) if Arc::ptr_eq(w, h) => {}
            (Some(w), _) => {
                *hooked = Some(w.clone());
                let w = w.clone();
                self.lua.set_hook(HookTriggers::new().every_nth_instruction(HOOK_EVERY), move |_, _| {
                    if w.poll() {
                        return Err(mlua::Error::external(Killed));
                    }
                    Ok(VmState::Continue)
                });
            }
            (None, None) => {}
            (None, Some(_)) => {
                *hooked = None;
                self.lua.remove_hook();
            }
        }
    }

    /// Set a hook of another kind (FUNCTION LOAD's timeout); the run hook is set again by
    /// the next run.
    pub fn set_other_hook<F>(&self, triggers: HookTriggers, callback: F)
    where
        F: Fn(&Lua, mlua::Debug) -> mlua::Result<VmState> + mlua::MaybeSend + 'static,
    {
        *self.hooked.lock() = None;
        self.lua.set_hook(triggers, callback);
    }

    /// Remove any hook.
    pub fn unhook(&self) {
        *self.hooked.lock() = None;
        self.lua.remove_hook();
    }

    /// Run `f` with `input` as its KEYS and ARGV under the error handler, running the
    /// commands it calls through `host`. The reply is written in `caller`'s protocol.
    pub fn run(&self, f: &Callable, input: Input, host: &mut dyn Host, caller: Protocol, name: &str) -> Outcome {
        self.hook(host.watch());
        let ptr: *mut (dyn Host + '_) = host;
        // SAFETY: only the lifetime is erased; `_running` clears the slot before `host`'s
        // borrow ends (see `HostSlot::with`).
        let ptr: *mut (dyn Host + 'static) = unsafe { std::mem::transmute(ptr) };
        let _running = self.current.set(ptr);
        let outcome = self.call_marked(f, &input, caller, name);
        // As Redis's luaCallFunction: a collector step every 50 runs, so garbage never piles
        // up between the incremental collector's own cycles (a pipeline of 10000 short
        // scripts stays under 100 KB of Lua memory: unit/scripting's "does not leak" test),
        // skipped while there is less than GC_SLACK of garbage to collect.
        if self.runs.fetch_add(1, Ordering::Relaxed) + 1 >= GC_CYCLE_PERIOD {
            self.runs.store(0, Ordering::Relaxed);
            if self.lua.used_memory() > self.live.load(Ordering::Relaxed) + GC_SLACK
                && self.lua.gc_step_kbytes(GC_CYCLE_PERIOD as i32).unwrap_or(false)
            {
                self.live.store(self.lua.used_memory(), Ordering::Relaxed);
            }
        }
        outcome
    }

    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// A Lua error's message as Lua printed it (without mlua's decorations).
pub fn lua_error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_error_message(cause),
        other => other.to_string(),
    }
}

/// A `redis.call` argument: strings as they are, numbers as `%.17g`.
fn arg_bytes(v: &Value) -> Option<Bytes> {
    match v {
        Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Integer(i) => Some(Bytes::from(i.to_string())),
        Value::Number(n) => Some(Bytes::from(slotbox_protocol::float::fmt_g17(*n))),
        _ => None,
    }
}

/// An error raised from Rust (a hook, a library function) as its plain message.
fn errmsg(lua: &Lua, v: Value) -> mlua::Result<Value> {
    Ok(match v {
        Value::Error(e) if is_kill(&e) => {
            Value::Table(error_table(lua, &error_text(b"Script killed by user with SCRIPT KILL..."), false)?)
        }
        Value::Error(e) => Value::String(lua.create_string(lua_error_message(&e))?),
        other => other,
    })
}

/// The error the hook raises when SCRIPT KILL / FUNCTION KILL stops a script.
#[derive(Debug)]
struct Killed;

impl std::fmt::Display for Killed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Script killed by user with SCRIPT KILL...")
    }
}

impl std::error::Error for Killed {}

fn is_kill(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::ExternalError(x) => x.is::<Killed>(),
        mlua::Error::CallbackError { cause, .. } => is_kill(cause),
        _ => false,
    }
}

fn sha1hex(_: &Lua, v: Value) -> mlua::Result<String> {
    let bytes = arg_bytes(&v).unwrap_or_default();
    Ok(sha1_smol::Sha1::from(&bytes[..]).digest().to_string())
}

fn log(_: &Lua, args: MultiValue) -> mlua::Result<()> {
    let mut it = args.iter();
    let level = match it.next() {
        Some(Value::Integer(i)) => *i as i32,
        Some(Value::Number(n)) => *n as i32,
        _ => 2,
    };
    let parts: Vec<String> = it.filter_map(arg_bytes).map(|b| String::from_utf8_lossy(&b).into_owned()).collect();
    let msg = parts.join(" ");
    match level {
        3 => crate::log::warning(&msg),
        2 => crate::log::notice(&msg),
        _ => crate::log::verbose(&msg),
    }
    Ok(())
}
