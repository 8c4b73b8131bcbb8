//! The libraries Redis bundles with its Lua: cjson, struct, cmsgpack and bit, written in Rust
//! as tables of functions with the encodings of Redis's bundled versions.

mod bit;
mod cjson;
mod cmsgpack;
mod json_decode;
mod structlib;

use mlua::{Lua, Table};

/// Add `cjson`, `struct`, `cmsgpack` and `bit` to `globals`.
pub fn install(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    globals.raw_set("cjson", cjson::table(lua)?)?;
    globals.raw_set("struct", structlib::table(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::table(lua)?)?;
    globals.raw_set("bit", bit::table(lua)?)?;
    Ok(())
}
