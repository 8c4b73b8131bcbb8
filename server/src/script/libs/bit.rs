//! `bit`: LuaBitOp 1.0's operations on 32-bit integers (numbers wrap modulo 2^32, results are
//! signed), as Redis bundles it.

use mlua::{Lua, MultiValue, Table, Value};

fn arg(v: Option<&Value>, i: usize, name: &str) -> mlua::Result<i32> {
    let n = match v {
        Some(Value::Integer(i)) => *i as f64,
        Some(Value::Number(n)) => *n,
        Some(Value::String(s)) => match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(n) => n,
            None => return Err(bad(i, name, "string")),
        },
        Some(other) => return Err(bad(i, name, other.type_name())),
        None => return Err(bad(i, name, "no value")),
    };
    Ok(tobit(n))
}

fn bad(i: usize, name: &str, got: &str) -> mlua::Error {
    mlua::Error::runtime(format!("bad argument #{i} to '{name}' (number expected, got {got})"))
}

/// LuaBitOp's normalisation: the number modulo 2^32, rounded to nearest.
fn tobit(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    let m = n.rem_euclid(4294967296.0).round_ties_even();
    (m as u64 as u32) as i32
}

type Op = fn(i32, i32) -> i32;

fn fold(lua: &Lua, name: &'static str, op: Op) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, args: MultiValue| {
        let mut acc = arg(args.front(), 1, name)?;
        for (i, v) in args.iter().enumerate().skip(1) {
            acc = op(acc, arg(Some(v), i + 1, name)?);
        }
        Ok(acc as f64)
    })
}

fn shift(lua: &Lua, name: &'static str, op: Op) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, args: MultiValue| {
        let a = arg(args.front(), 1, name)?;
        let b = arg(args.get(1), 2, name)?;
        Ok(op(a, b) as f64)
    })
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("tobit", lua.create_function(|_, args: MultiValue| Ok(arg(args.front(), 1, "tobit")? as f64))?)?;
    t.raw_set("bnot", lua.create_function(|_, args: MultiValue| Ok(!arg(args.front(), 1, "bnot")? as f64))?)?;
    t.raw_set("band", fold(lua, "band", |a, b| a & b)?)?;
    t.raw_set("bor", fold(lua, "bor", |a, b| a | b)?)?;
    t.raw_set("bxor", fold(lua, "bxor", |a, b| a ^ b)?)?;
    t.raw_set("lshift", shift(lua, "lshift", |a, b| ((a as u32) << (b & 31)) as i32)?)?;
    t.raw_set("rshift", shift(lua, "rshift", |a, b| ((a as u32) >> (b & 31)) as i32)?)?;
    t.raw_set("arshift", shift(lua, "arshift", |a, b| a >> (b & 31))?)?;
    t.raw_set("rol", shift(lua, "rol", |a, b| (a as u32).rotate_left((b & 31) as u32) as i32)?)?;
    t.raw_set("ror", shift(lua, "ror", |a, b| (a as u32).rotate_right((b & 31) as u32) as i32)?)?;
    t.raw_set(
        "bswap",
        lua.create_function(|_, args: MultiValue| Ok(arg(args.front(), 1, "bswap")?.swap_bytes() as f64))?,
    )?;
    t.raw_set(
        "tohex",
        lua.create_function(|_, args: MultiValue| {
            let x = arg(args.front(), 1, "tohex")? as u32;
            let n = match args.get(1) {
                None | Some(Value::Nil) => 8,
                v => arg(v, 2, "tohex")?,
            };
            let upper = n < 0;
            let n = n.unsigned_abs().min(8) as usize;
            let masked = if n == 8 { x } else { x & ((1u32 << (4 * n)) - 1) };
            let s = if upper { format!("{masked:0n$X}") } else { format!("{masked:0n$x}") };
            Ok(s)
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::tobit;

    #[test]
    fn numbers_wrap_to_32_bits() {
        assert_eq!(tobit(1.0), 1);
        assert_eq!(tobit(4294967295.0), -1);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(2147483648.0), i32::MIN);
    }
}
