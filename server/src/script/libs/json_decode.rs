//! The JSON decoder of `cjson.decode`: lua-cjson's grammar (NaN / Infinity / hex numbers
//! when allowed), its depth limit and its error texts (`Expected value but found T_END at
//! character 4`).

use mlua::{LightUserData, Lua, Value};

pub fn err(msg: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(msg.into())
}

/// `cjson.null`: a NULL light userdata.
pub fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

pub struct Decoder<'a> {
    pub s: &'a [u8],
    pub pos: usize,
    /// `cjson.decode_invalid_numbers`: NaN, Infinity and hex numbers accepted.
    pub allow_invalid_numbers: bool,
    /// `cjson.decode_max_depth`.
    pub max_depth: i64,
    pub depth: i64,
}

impl Decoder<'_> {
    pub fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    pub fn fail(&self, what: &str) -> mlua::Error {
        let found = match self.s.get(self.pos) {
            None => "T_END",
            Some(b'{') => "T_OBJ_BEGIN",
            Some(b'}') => "T_OBJ_END",
            Some(b'[') => "T_ARR_BEGIN",
            Some(b']') => "T_ARR_END",
            Some(b',') => "T_COMMA",
            Some(b':') => "T_COLON",
            Some(b'"') => "T_STRING",
            _ => "invalid token",
        };
        err(format!("Expected {what} but found {found} at character {}", self.pos + 1))
    }

    pub fn value(&mut self, lua: &Lua) -> mlua::Result<Value> {
        self.ws();
        let Some(&c) = self.s.get(self.pos) else { return Err(self.fail("value")) };
        match c {
            b'{' => self.object(lua),
            b'[' => self.array(lua),
            b'"' => Ok(Value::String(lua.create_string(self.string()?)?)),
            b't' if self.s[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            b'f' if self.s[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            b'n' if self.s[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(null())
            }
            _ => self.number(),
        }
    }

    fn number(&mut self) -> mlua::Result<Value> {
        let start = self.pos;
        while self.pos < self.s.len()
            && matches!(self.s[self.pos], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'x' | b'X' | b'a'..=b'd' | b'f' | b'A'..=b'D' | b'F' | b'i' | b'n' | b'I' | b'N')
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
        let lower = text.to_ascii_lowercase();
        let allowed_special = self.allow_invalid_numbers;
        let n = match lower.as_str() {
            "nan" | "-nan" if allowed_special => Some(f64::NAN),
            "inf" | "infinity" if allowed_special => Some(f64::INFINITY),
            "-inf" | "-infinity" if allowed_special => Some(f64::NEG_INFINITY),
            t if t.starts_with("0x") && allowed_special => i64::from_str_radix(&t[2..], 16).ok().map(|v| v as f64),
            t => t.parse::<f64>().ok().filter(|_| !t.is_empty() && !t.contains(['i', 'n'])),
        };
        match n {
            Some(n) => Ok(Value::Number(n)),
            None => {
                self.pos = start;
                Err(self.fail("value"))
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn string(&mut self) -> mlua::Result<Vec<u8>> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                self.pos = start;
                return Err(err(format!("Expected value but found invalid token at character {}", start + 1)));
            };
            self.pos += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = *self.s.get(self.pos).ok_or_else(|| err("unexpected end of string"))?;
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => self.unicode(&mut out, start)?,
                        _ => {
                            return Err(err(format!(
                                "Expected value but found invalid escape code at character {}",
                                start + 1
                            )))
                        }
                    }
                }
                _ => out.push(c),
            }
        }
    }

    fn unicode(&mut self, out: &mut Vec<u8>, start: usize) -> mlua::Result<()> {
        let bad = || err(format!("Expected value but found invalid unicode escape code at character {}", start + 1));
        let mut cp = self.hex4().ok_or_else(bad)?;
        if (0xD800..0xDC00).contains(&cp) {
            if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return Err(bad());
            }
            self.pos += 2;
            let lo = self.hex4().ok_or_else(bad)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(bad());
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (0xDC00..0xE000).contains(&cp) {
            return Err(bad());
        }
        let ch = char::from_u32(cp).ok_or_else(bad)?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn enter(&mut self) -> mlua::Result<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(err(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth,
                self.pos + 1
            )));
        }
        Ok(())
    }

    fn array(&mut self, lua: &Lua) -> mlua::Result<Value> {
        self.enter()?;
        self.pos += 1;
        let t = lua.create_table()?;
        self.ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        let mut i = 1;
        loop {
            let v = self.value(lua)?;
            t.raw_set(i, v)?;
            i += 1;
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.fail("comma or array end")),
            }
        }
        self.depth -= 1;
        Ok(Value::Table(t))
    }

    fn object(&mut self, lua: &Lua) -> mlua::Result<Value> {
        self.enter()?;
        self.pos += 1;
        let t = lua.create_table()?;
        self.ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        loop {
            self.ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(self.fail("object key string"));
            }
            let k = self.string()?;
            self.ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.fail("colon"));
            }
            self.pos += 1;
            let v = self.value(lua)?;
            t.raw_set(lua.create_string(&k)?, v)?;
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.fail("comma or object end")),
            }
        }
        self.depth -= 1;
        Ok(Value::Table(t))
    }
}
