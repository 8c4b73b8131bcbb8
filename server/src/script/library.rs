//! Function libraries (FUNCTION LOAD ... FCALL): the functions interpreter, the loaded
//! libraries by name and their functions by name. Loading runs the library's code with only
//! `redis.register_function`, `redis.log` and the versions visible; what it registers is kept
//! only if the whole load succeeds.

use super::rand48::Rand48;
use super::vm::{lua_error_message, Callable, Kind, Vm};
use bytes::Bytes;
use hashbrown::HashMap;
use mlua::{Function, HookTriggers, MultiValue, Table, Value, VmState};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

/// FUNCTION LOAD gives a library's code this long to register its functions.
const LOAD_TIMEOUT_MS: i64 = 500;

pub struct FunctionDef {
    pub name: String,
    pub description: Option<Bytes>,
    pub flags: u32,
    pub func: Callable,
}

pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<FunctionDef>,
}

pub struct Functions {
    pub vm: Vm,
    /// By name (case-sensitive; function names are not).
    libs: BTreeMap<String, Library>,
    /// Function name (lower-case) → its library's name.
    index: HashMap<String, String>,
    /// What a library's code sees as globals while it loads.
    load_api: Table,
}

/// A library's metadata line: `#!<engine> name=<name>`.
struct Meta {
    engine: String,
    name: String,
    /// The code after the metadata line (its line feed kept, so line numbers stay).
    code_start: usize,
}

fn parse_meta(code: &[u8]) -> Result<Meta, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let end = code.iter().position(|&b| b == b'\n').ok_or("Invalid library metadata")?;
    let parts = match slotbox_protocol::decode::split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2..]).into_owned();
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".into());
            }
            name = Some(String::from_utf8_lossy(&p[5..]).into_owned());
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(p)));
    }
    let name = name.ok_or("Library name was not given")?;
    Ok(Meta { engine, name, code_start: end })
}

/// Library and function names: letters, digits and underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

const BAD_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

impl Functions {
    pub fn new(rand: Arc<Rand48>) -> Self {
        let vm = Vm::new(Kind::Functions, rand).expect("building the functions Lua interpreter");
        let make: Function = vm.private().raw_get("make_library_api").expect("sandbox defines make_library_api");
        let load_api: Table = make.call(()).expect("building the library API");
        Functions { vm, libs: BTreeMap::new(), index: HashMap::new(), load_api }
    }

    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libs.values()
    }

    pub fn library_count(&self) -> usize {
        self.libs.len()
    }

    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// A function by name (names are case-insensitive, as in Redis).
    pub fn function(&self, name: &[u8]) -> Option<&FunctionDef> {
        let key = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        let lib = self.index.get(&key)?;
        self.libs.get(lib)?.functions.iter().find(|f| f.name.eq_ignore_ascii_case(&key))
    }

    /// FUNCTION DELETE: false when there is no such library.
    pub fn delete(&mut self, name: &[u8]) -> bool {
        let key = String::from_utf8_lossy(name).into_owned();
        let Some(lib) = self.libs.remove(&key) else {
            return false;
        };
        for f in &lib.functions {
            self.index.remove(&f.name.to_ascii_lowercase());
        }
        // Its functions' registry references go now, so the collector can free them.
        drop(lib);
        self.vm.lua.expire_registry_values();
        true
    }

    /// FUNCTION LOAD: the library's name, or Redis's error text. `timeout`: bound the run of
    /// the library's code (not for the master's stream or the AOF).
    pub fn load(&mut self, code: &Bytes, replace: bool, timeout: bool) -> Result<String, String> {
        // Functions a failed load registered dropped their registry references: let them go.
        self.vm.lua.expire_registry_values();
        let meta = parse_meta(code)?;
        if !valid_name(meta.name.as_bytes()) {
            return Err(BAD_NAME.into());
        }
        if !meta.engine.eq_ignore_ascii_case("lua") {
            return Err(format!("Engine '{}' not found", meta.engine));
        }
        let key = meta.name.clone();
        if self.libs.contains_key(&key) && !replace {
            return Err(format!("Library '{}' already exists", meta.name));
        }
        let functions = self.run_load(&code[meta.code_start..], timeout)?;
        if functions.is_empty() {
            return Err("No functions registered".into());
        }
        for f in &functions {
            if self.index.get(&f.name.to_ascii_lowercase()).is_some_and(|lib| *lib != key) {
                return Err(format!("Function {} already exists", f.name));
            }
        }
        self.delete(meta.name.as_bytes());
        for f in &functions {
            self.index.insert(f.name.to_ascii_lowercase(), key.clone());
        }
        let name = meta.name.clone();
        self.libs.insert(key, Library { name: name.clone(), code: code.clone(), functions });
        Ok(name)
    }

    /// Compile and run a library's code, collecting what it registers.
    fn run_load(&self, code: &[u8], timeout: bool) -> Result<Vec<FunctionDef>, String> {
        let vm = &self.vm;
        vm.set_globals_view(Some(&self.load_api)).map_err(|e| e.to_string())?;
        let result = self.run_load_in_view(code, timeout);
        let _ = vm.set_globals_view(None);
        result
    }

    fn run_load_in_view(&self, code: &[u8], timeout: bool) -> Result<Vec<FunctionDef>, String> {
        let vm = &self.vm;
        let f = vm.compile(code, "@user_function").map_err(|e| format!("Error compiling function: {e}"))?;
        if timeout {
            let start = crate::clock::unix_time_ms();
            vm.set_other_hook(HookTriggers::new().every_nth_instruction(100_000), move |_, _| {
                if crate::clock::unix_time_ms() - start > LOAD_TIMEOUT_MS {
                    return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
                }
                Ok(VmState::Continue)
            });
        }
        let registered: RefCell<Vec<FunctionDef>> = RefCell::new(Vec::new());
        let out = vm.lua.scope(|scope| {
            let reg = scope.create_function(|lua, args: MultiValue| Ok(register(lua, &registered, args)))?;
            vm.private().raw_set("reg", reg)?;
            let r = vm.private().raw_get::<Function>("run")?.call::<(bool, Value)>(f);
            vm.private().raw_set("reg", Value::Nil)?;
            r
        });
        if timeout {
            vm.unhook();
        }
        match out {
            Ok((true, _)) => Ok(registered.into_inner()),
            Ok((false, err)) => Err(format!("Error registering functions: {}", err_msg(&err))),
            Err(e) => Err(format!("Error registering functions: {}", lua_error_message(&e))),
        }
    }

    /// FUNCTION RESTORE's parts: every library's code.
    pub fn codes(&self) -> Vec<Bytes> {
        self.libs.values().map(|l| l.code.clone()).collect()
    }
}

fn err_msg(v: &Value) -> String {
    match v {
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            _ => String::new(),
        },
        Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => String::new(),
    }
}

fn string_of(v: &Value) -> Option<Bytes> {
    match v {
        Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Integer(i) => Some(Bytes::from(i.to_string())),
        Value::Number(n) => Some(Bytes::from(format!("{n}"))),
        _ => None,
    }
}

/// `redis.register_function(name, callback)` or `redis.register_function{...}`: None, or the
/// error to raise.
fn register(lua: &mlua::Lua, registered: &RefCell<Vec<FunctionDef>>, args: MultiValue) -> Option<String> {
    let def = match args.len() {
        1 => named_args(lua, &args[0]),
        2 => {
            let Some(name) = string_of(&args[0]) else {
                return Some("first argument to redis.register_function must be a string".into());
            };
            let Value::Function(f) = &args[1] else {
                return Some("second argument to redis.register_function must be a function".into());
            };
            match Callable::new(lua, f.clone()) {
                Ok(func) => Ok(FunctionDef {
                    name: String::from_utf8_lossy(&name).into_owned(),
                    description: None,
                    flags: 0,
                    func,
                }),
                Err(_) => Err("out of memory registering the function"),
            }
        }
        _ => return Some("wrong number of arguments to redis.register_function".into()),
    };
    let def = match def {
        Ok(d) => d,
        Err(e) => return Some(e.into()),
    };
    if !valid_name(def.name.as_bytes()) {
        return Some(BAD_NAME.into());
    }
    let mut list = registered.borrow_mut();
    if list.iter().any(|f| f.name.eq_ignore_ascii_case(&def.name)) {
        return Some("Function already exists in the library".into());
    }
    list.push(def);
    None
}

fn named_args(lua: &mlua::Lua, v: &Value) -> Result<FunctionDef, &'static str> {
    let Value::Table(t) = v else {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    };
    let (mut name, mut description, mut func, mut flags) = (None, None, None, 0);
    for pair in t.clone().pairs::<Value, Value>() {
        let Ok((k, v)) = pair else { break };
        let Some(key) = string_of(&k) else {
            return Err("named argument key given to redis.register_function is not a string");
        };
        match key.to_ascii_lowercase().as_slice() {
            b"function_name" => {
                name = Some(
                    string_of(&v).ok_or("function_name argument given to redis.register_function must be a string")?,
                )
            }
            b"description" => {
                description = Some(
                    string_of(&v).ok_or("description argument given to redis.register_function must be a string")?,
                )
            }
            b"callback" => match v {
                Value::Function(f) => func = Some(f),
                _ => return Err("callback argument given to redis.register_function must be a function"),
            },
            b"flags" => {
                let Value::Table(list) = v else {
                    return Err(
                        "flags argument to redis.register_function must be a table representing function flags",
                    );
                };
                flags = read_flags(&list).ok_or("unknown flag given")?;
            }
            _ => return Err("unknown argument given to redis.register_function"),
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let func = func.ok_or("redis.register_function must get a callback argument")?;
    let func = Callable::new(lua, func).map_err(|_| "out of memory registering the function")?;
    Ok(FunctionDef { name: String::from_utf8_lossy(&name).into_owned(), description, flags, func })
}

fn read_flags(list: &Table) -> Option<u32> {
    let mut flags = 0;
    for i in 1.. {
        match list.get::<Value>(i).ok()? {
            Value::Nil => break,
            v => flags |= super::flags::by_name_nocase(&string_of(&v)?)?,
        }
    }
    Some(flags)
}
