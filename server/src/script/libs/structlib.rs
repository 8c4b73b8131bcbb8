//! `struct`: binary packing as Roberto Ierusalimschy's struct library that Redis bundles —
//! `pack(fmt, ...)`, `unpack(fmt, s [, pos])`, `size(fmt)` with its options (`<` `>` `!n`
//! endianness and alignment, `b B h H l L T i[n] I[n]` integers, `f d` floats, `c[n]` and
//! `s` strings, `x` padding).

use mlua::{Lua, MultiValue, Table, Value};

const MAX_INT_SIZE: usize = 8;
const NATIVE_ALIGN: usize = 8;

fn err(msg: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(msg.into())
}

/// One parsed format item.
enum Item {
    Pad,
    Int { size: usize, signed: bool },
    Float,
    Double,
    Chars(usize),
    Zstr,
}

struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
    little: bool,
    align: usize,
}

impl Format<'_> {
    fn new(fmt: &[u8]) -> Format<'_> {
        Format { fmt, pos: 0, little: cfg!(target_endian = "little"), align: 1 }
    }

    fn number(&mut self, default: usize) -> usize {
        let start = self.pos;
        while self.pos < self.fmt.len() && self.fmt[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        std::str::from_utf8(&self.fmt[start..self.pos]).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
    }

    /// The next item and its size, or None at the end.
    fn next(&mut self) -> mlua::Result<Option<(Item, usize)>> {
        while let Some(&c) = self.fmt.get(self.pos) {
            self.pos += 1;
            let item = match c {
                b' ' => continue,
                b'>' => {
                    self.little = false;
                    continue;
                }
                b'<' => {
                    self.little = true;
                    continue;
                }
                b'!' => {
                    self.align = self.number(NATIVE_ALIGN);
                    if !self.align.is_power_of_two() {
                        return Err(err(format!("alignment {} is not a power of 2", self.align)));
                    }
                    continue;
                }
                b'x' => (Item::Pad, 1),
                b'b' | b'B' => (Item::Int { size: 1, signed: c == b'b' }, 1),
                b'h' | b'H' => (Item::Int { size: 2, signed: c == b'h' }, 2),
                b'l' | b'L' | b'T' => (Item::Int { size: 8, signed: c == b'l' }, 8),
                b'i' | b'I' => {
                    let n = self.number(4);
                    if n > MAX_INT_SIZE {
                        return Err(err(format!("integral size {n} is larger than limit of {MAX_INT_SIZE}")));
                    }
                    (Item::Int { size: n, signed: c == b'i' }, n)
                }
                b'f' => (Item::Float, 4),
                b'd' => (Item::Double, 8),
                b'c' => {
                    let n = self.number(1);
                    (Item::Chars(n), n)
                }
                b's' => (Item::Zstr, 0),
                other => return Err(err(format!("invalid format option '{}'", other as char))),
            };
            return Ok(Some(item));
        }
        Ok(None)
    }

    /// Padding before an item of `size` at `offset`.
    fn padding(&self, item: &Item, size: usize, offset: usize) -> usize {
        if matches!(item, Item::Chars(_) | Item::Zstr | Item::Pad) || size <= 1 {
            return 0;
        }
        let a = size.min(self.align);
        (a - (offset & (a - 1))) & (a - 1)
    }
}

fn num_arg(args: &MultiValue, i: usize) -> mlua::Result<f64> {
    match args.get(i) {
        Some(Value::Integer(n)) => Ok(*n as f64),
        Some(Value::Number(n)) => Ok(*n),
        Some(Value::String(s)) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| err(format!("bad argument #{} to 'pack' (number expected, got string)", i + 1))),
        other => Err(err(format!(
            "bad argument #{} to 'pack' (number expected, got {})",
            i + 1,
            other.map_or("no value", |v| v.type_name())
        ))),
    }
}

fn str_arg(args: &MultiValue, i: usize, f: &str) -> mlua::Result<Vec<u8>> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Integer(n)) => Ok(n.to_string().into_bytes()),
        Some(Value::Number(n)) => Ok(slotbox_protocol::float::fmt_g(*n, 14).into_bytes()),
        other => Err(err(format!(
            "bad argument #{} to '{f}' (string expected, got {})",
            i + 1,
            other.map_or("no value", |v| v.type_name())
        ))),
    }
}

fn put_int(out: &mut Vec<u8>, n: f64, size: usize, little: bool) {
    let v: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
    let bytes = v.to_le_bytes();
    if little {
        out.extend_from_slice(&bytes[..size]);
    } else {
        out.extend(bytes[..size].iter().rev());
    }
}

fn pack(args: &MultiValue) -> mlua::Result<Vec<u8>> {
    let fmt = str_arg(args, 0, "pack")?;
    let mut f = Format::new(&fmt);
    let mut out = Vec::new();
    let mut arg = 1;
    while let Some((item, size)) = f.next()? {
        let pad = f.padding(&item, size, out.len());
        out.resize(out.len() + pad, 0);
        match item {
            Item::Pad => out.push(0),
            Item::Int { size, .. } => {
                put_int(&mut out, num_arg(args, arg)?, size, f.little);
                arg += 1;
            }
            Item::Float => {
                let b = (num_arg(args, arg)? as f32).to_bits().to_le_bytes();
                out.extend(if f.little { b.to_vec() } else { b.iter().rev().copied().collect() });
                arg += 1;
            }
            Item::Double => {
                let b = num_arg(args, arg)?.to_bits().to_le_bytes();
                out.extend(if f.little { b.to_vec() } else { b.iter().rev().copied().collect() });
                arg += 1;
            }
            Item::Chars(n) => {
                let s = str_arg(args, arg, "pack")?;
                let n = if n == 0 { s.len() } else { n };
                if s.len() < n {
                    return Err(err(format!("bad argument #{} to 'pack' (string too short)", arg + 1)));
                }
                out.extend_from_slice(&s[..n]);
                arg += 1;
            }
            Item::Zstr => {
                let s = str_arg(args, arg, "pack")?;
                if s.contains(&0) {
                    return Err(err(format!("bad argument #{} to 'pack' (string contains zeros)", arg + 1)));
                }
                out.extend_from_slice(&s);
                out.push(0);
                arg += 1;
            }
        }
    }
    Ok(out)
}

fn get_int(data: &[u8], signed: bool, little: bool) -> f64 {
    let mut v: u64 = 0;
    let iter: Box<dyn Iterator<Item = &u8>> = if little { Box::new(data.iter().rev()) } else { Box::new(data.iter()) };
    for &b in iter {
        v = (v << 8) | b as u64;
    }
    let size = data.len();
    if signed && size < 8 && size > 0 && v & (1 << (size * 8 - 1)) != 0 {
        (v as i64 - (1i64 << (size * 8))) as f64
    } else if signed {
        v as i64 as f64
    } else {
        v as f64
    }
}

fn unpack(lua: &Lua, args: &MultiValue) -> mlua::Result<MultiValue> {
    let fmt = str_arg(args, 0, "unpack")?;
    let data = str_arg(args, 1, "unpack")?;
    let mut pos = match args.get(2) {
        Some(Value::Integer(i)) => (*i - 1).max(0) as usize,
        Some(Value::Number(n)) => (*n as i64 - 1).max(0) as usize,
        _ => 0,
    };
    let mut f = Format::new(&fmt);
    let mut out: Vec<Value> = Vec::new();
    let short = || err("bad argument #2 to 'unpack' (data string too short)");
    while let Some((item, size)) = f.next()? {
        pos += f.padding(&item, size, pos);
        match item {
            Item::Pad => {
                data.get(pos..pos + 1).ok_or_else(short)?;
                pos += 1;
            }
            Item::Int { size, signed } => {
                let b = data.get(pos..pos + size).ok_or_else(short)?;
                out.push(Value::Number(get_int(b, signed, f.little)));
                pos += size;
            }
            Item::Float => {
                let b = data.get(pos..pos + 4).ok_or_else(short)?;
                let bits = get_int(b, false, f.little) as u32;
                out.push(Value::Number(f32::from_bits(bits) as f64));
                pos += 4;
            }
            Item::Double => {
                let b = data.get(pos..pos + 8).ok_or_else(short)?;
                let mut arr = [0u8; 8];
                arr.copy_from_slice(b);
                let bits = if f.little { u64::from_le_bytes(arr) } else { u64::from_be_bytes(arr) };
                out.push(Value::Number(f64::from_bits(bits)));
                pos += 8;
            }
            Item::Chars(n) => {
                let n = if n == 0 {
                    match out.pop() {
                        Some(Value::Number(l)) => l as usize,
                        _ => return Err(err("bad argument #1 to 'unpack' (format 'c0' needs a previous size)")),
                    }
                } else {
                    n
                };
                let b = data.get(pos..pos + n).ok_or_else(short)?;
                out.push(Value::String(lua.create_string(b)?));
                pos += n;
            }
            Item::Zstr => {
                let rest = data.get(pos..).ok_or_else(short)?;
                let end = rest.iter().position(|&b| b == 0).ok_or_else(|| err("unfinished string in data"))?;
                out.push(Value::String(lua.create_string(&rest[..end])?));
                pos += end + 1;
            }
        }
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_iter(out))
}

fn size(args: &MultiValue) -> mlua::Result<f64> {
    let fmt = str_arg(args, 0, "size")?;
    let mut f = Format::new(&fmt);
    let mut total = 0usize;
    while let Some((item, size)) = f.next()? {
        if matches!(item, Item::Zstr | Item::Chars(0)) {
            return Err(err("bad argument #1 to 'size' (options 'c0' - 's' have undefined sizes)"));
        }
        total += f.padding(&item, size, total) + size;
    }
    Ok(total as f64)
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(|lua, args: MultiValue| lua.create_string(pack(&args)?))?)?;
    t.raw_set("unpack", lua.create_function(|lua, args: MultiValue| unpack(lua, &args))?)?;
    t.raw_set("size", lua.create_function(|_, args: MultiValue| size(&args))?)?;
    Ok(t)
}
