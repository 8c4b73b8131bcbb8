//! `cjson`: JSON as Redis's bundled lua-cjson encodes and decodes it — numbers with 14
//! significant digits, `/` escaped, tables as arrays when their keys are 1..n (not too
//! sparse) else objects, `cjson.null` for null — and its settings (`encode_max_depth`,
//! `decode_max_depth`, `encode_invalid_numbers`, `encode_keep_buffer`, ...).

use super::json_decode::{err, null, Decoder};
use mlua::{Lua, MultiValue, Table, Value};
use parking_lot::Mutex;
use std::sync::Arc;

struct Config {
    encode_max_depth: i64,
    decode_max_depth: i64,
    encode_invalid_numbers: bool,
    decode_invalid_numbers: bool,
    number_precision: usize,
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: false,
            decode_invalid_numbers: true,
            number_precision: 14,
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
        }
    }
}

fn fmt_number(n: f64, precision: usize) -> String {
    if n.is_nan() {
        return "nan".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    slotbox_protocol::float::fmt_g(n, precision)
}

struct Encoder<'a> {
    cfg: &'a Config,
    out: Vec<u8>,
}

impl Encoder<'_> {
    fn value(&mut self, v: &Value, depth: i64) -> mlua::Result<()> {
        match v {
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::Boolean(b) => self.out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Integer(i) => self.number(*i as f64)?,
            Value::Number(n) => self.number(*n)?,
            Value::String(s) => self.string(&s.as_bytes()),
            Value::Table(t) => self.table(t, depth + 1)?,
            other => return Err(err(format!("Cannot serialise {}: type not supported", other.type_name()))),
        }
        Ok(())
    }

    fn number(&mut self, n: f64) -> mlua::Result<()> {
        if !n.is_finite() && !self.cfg.encode_invalid_numbers {
            return Err(err("Cannot serialise number: must not be NaN or Inf"));
        }
        self.out.extend_from_slice(fmt_number(n, self.cfg.number_precision).as_bytes());
        Ok(())
    }

    fn string(&mut self, s: &[u8]) {
        self.out.push(b'"');
        for &b in s {
            match b {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                0..=0x1f | 0x7f => self.out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                _ => self.out.push(b),
            }
        }
        self.out.push(b'"');
    }

    /// lua-cjson's array test: -1 for an object, else the array's length.
    fn array_len(&self, t: &Table) -> mlua::Result<i64> {
        let (mut max, mut items) = (0i64, 0i64);
        for pair in t.clone().pairs::<Value, Value>() {
            let (k, _) = pair?;
            let n = match k {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                _ => return Ok(-1),
            };
            if n < 1.0 || n.fract() != 0.0 {
                return Ok(-1);
            }
            max = max.max(n as i64);
            items += 1;
        }
        let c = self.cfg;
        if c.sparse_ratio > 0 && max > items * c.sparse_ratio && max > c.sparse_safe {
            if !c.sparse_convert {
                return Err(err("Cannot serialise table: excessively sparse array"));
            }
            return Ok(-1);
        }
        Ok(max)
    }

    fn table(&mut self, t: &Table, depth: i64) -> mlua::Result<()> {
        if depth > self.cfg.encode_max_depth {
            return Err(err(format!("Cannot serialise, excessive nesting ({depth})")));
        }
        let len = self.array_len(t)?;
        if len > 0 {
            self.out.push(b'[');
            for i in 1..=len {
                if i > 1 {
                    self.out.push(b',');
                }
                self.value(&t.raw_get::<Value>(i)?, depth)?;
            }
            self.out.push(b']');
            return Ok(());
        }
        self.out.push(b'{');
        let mut first = true;
        for pair in t.clone().pairs::<Value, Value>() {
            let (k, v) = pair?;
            if !first {
                self.out.push(b',');
            }
            first = false;
            match &k {
                Value::String(s) => self.string(&s.as_bytes()),
                Value::Integer(_) | Value::Number(_) => {
                    let n = match k {
                        Value::Integer(i) => i as f64,
                        Value::Number(n) => n,
                        _ => 0.0,
                    };
                    self.out.push(b'"');
                    self.number(n)?;
                    self.out.push(b'"');
                }
                other => {
                    return Err(err(format!(
                        "Cannot serialise {}: table key must be a number or string",
                        other.type_name()
                    )))
                }
            }
            self.out.push(b':');
            self.value(&v, depth)?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// A numeric setting: with an argument, set it (within `range`); returns the current value.
fn setting(
    lua: &Lua,
    cfg: &Arc<Mutex<Config>>,
    name: &'static str,
    range: (i64, i64),
    get: fn(&Config) -> i64,
    set: fn(&mut Config, i64),
) -> mlua::Result<mlua::Function> {
    let cfg = cfg.clone();
    lua.create_function(move |_, args: MultiValue| {
        let mut c = cfg.lock();
        match args.front() {
            None | Some(Value::Nil) => {}
            Some(Value::Integer(i)) if (range.0..=range.1).contains(i) => set(&mut c, *i),
            Some(Value::Number(n)) if (range.0 as f64..=range.1 as f64).contains(n) => set(&mut c, *n as i64),
            Some(_) => {
                return Err(err(format!(
                    "bad argument #1 to '{name}' (expected integer between {} and {})",
                    range.0, range.1
                )))
            }
        }
        Ok(get(&c))
    })
}

/// An on/off setting: `true`/`false` or "on"/"off"; returns the current value.
fn switch(
    lua: &Lua,
    cfg: &Arc<Mutex<Config>>,
    get: fn(&Config) -> bool,
    set: fn(&mut Config, bool),
) -> mlua::Result<mlua::Function> {
    let cfg = cfg.clone();
    lua.create_function(move |_, args: MultiValue| {
        let mut c = cfg.lock();
        match args.front() {
            Some(Value::Boolean(b)) => set(&mut c, *b),
            Some(Value::String(s)) => set(&mut c, s.as_bytes().eq_ignore_ascii_case(b"on")),
            _ => {}
        }
        Ok(get(&c))
    })
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let cfg = Arc::new(Mutex::new(Config::default()));
    let t = lua.create_table()?;
    let c = cfg.clone();
    t.raw_set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(err("bad argument #1 to 'encode' (expected 1 argument)"));
            }
            let cfg = c.lock();
            let mut e = Encoder { cfg: &cfg, out: Vec::new() };
            e.value(&args[0], 0)?;
            lua.create_string(&e.out)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            let s = match args.front() {
                Some(Value::String(s)) if args.len() == 1 => s.as_bytes().to_vec(),
                _ => return Err(err("bad argument #1 to 'decode' (expected 1 argument)")),
            };
            let cfg = c.lock();
            let mut d = Decoder {
                s: &s,
                pos: 0,
                allow_invalid_numbers: cfg.decode_invalid_numbers,
                max_depth: cfg.decode_max_depth,
                depth: 0,
            };
            let v = d.value(lua)?;
            d.ws();
            if d.pos < s.len() {
                return Err(d.fail("the end"));
            }
            Ok(v)
        })?,
    )?;
    t.raw_set(
        "encode_max_depth",
        setting(
            lua,
            &cfg,
            "encode_max_depth",
            (1, i32::MAX as i64),
            |c| c.encode_max_depth,
            |c, v| c.encode_max_depth = v,
        )?,
    )?;
    t.raw_set(
        "decode_max_depth",
        setting(
            lua,
            &cfg,
            "decode_max_depth",
            (1, i32::MAX as i64),
            |c| c.decode_max_depth,
            |c, v| c.decode_max_depth = v,
        )?,
    )?;
    t.raw_set(
        "encode_number_precision",
        setting(
            lua,
            &cfg,
            "encode_number_precision",
            (1, 14),
            |c| c.number_precision as i64,
            |c, v| c.number_precision = v as usize,
        )?,
    )?;
    t.raw_set(
        "encode_invalid_numbers",
        switch(lua, &cfg, |c| c.encode_invalid_numbers, |c, v| c.encode_invalid_numbers = v)?,
    )?;
    t.raw_set(
        "decode_invalid_numbers",
        switch(lua, &cfg, |c| c.decode_invalid_numbers, |c, v| c.decode_invalid_numbers = v)?,
    )?;
    t.raw_set("encode_keep_buffer", switch(lua, &cfg, |_| true, |_, _| {})?)?;
    let c = cfg.clone();
    t.raw_set(
        "encode_sparse_array",
        lua.create_function(move |_, args: MultiValue| {
            let mut c = c.lock();
            if let Some(Value::Boolean(b)) = args.front() {
                c.sparse_convert = *b;
            }
            if let Some(Value::Integer(r)) = args.get(1) {
                c.sparse_ratio = *r;
            }
            if let Some(Value::Integer(s)) = args.get(2) {
                c.sparse_safe = *s;
            }
            Ok((c.sparse_convert, c.sparse_ratio, c.sparse_safe))
        })?,
    )?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}
