//! A small JSON writer for `/api/cluster`: objects and arrays built field by field into one
//! `String`, strings escaped as RFC 8259 asks. Writing only; nothing here parses JSON.

use std::fmt::Write as _;

/// A JSON value under construction (the caller writes the right shape; no checks).
#[derive(Default)]
pub struct Json {
    out: String,
    /// Per open object/array: whether the next member needs a comma first.
    comma: Vec<bool>,
}

impl Json {
    pub fn new() -> Json {
        Json::default()
    }

    pub fn finish(self) -> String {
        self.out
    }

    fn sep(&mut self) {
        if let Some(c) = self.comma.last_mut() {
            if *c {
                self.out.push(',');
            }
            *c = true;
        }
    }

    fn key(&mut self, k: &str) {
        self.sep();
        escape_into(&mut self.out, k);
        self.out.push(':');
        // The value that follows is this member: no second comma.
        if let Some(c) = self.comma.last_mut() {
            *c = false;
        }
    }

    /// Start an object (as an array element / the top value, or as member `k`).
    pub fn obj(&mut self, k: Option<&str>) -> &mut Json {
        self.open(k, '{')
    }

    /// Start an array.
    pub fn arr(&mut self, k: Option<&str>) -> &mut Json {
        self.open(k, '[')
    }

    fn open(&mut self, k: Option<&str>, c: char) -> &mut Json {
        if let Some(k) = k {
            self.key(k);
        }
        self.sep();
        self.out.push(c);
        self.comma.push(false);
        self
    }

    /// Close the innermost object.
    pub fn end_obj(&mut self) -> &mut Json {
        self.comma.pop();
        self.out.push('}');
        self
    }

    /// Close the innermost array.
    pub fn end_arr(&mut self) -> &mut Json {
        self.comma.pop();
        self.out.push(']');
        self
    }

    /// A string member (`k`) or element (`None`).
    pub fn str(&mut self, k: Option<&str>, v: &str) -> &mut Json {
        self.lead(k);
        escape_into(&mut self.out, v);
        self
    }

    /// A number; NaN and infinities become `null`.
    pub fn num(&mut self, k: Option<&str>, v: f64) -> &mut Json {
        self.lead(k);
        if v.is_finite() {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                let _ = write!(self.out, "{}", v as i64);
            } else {
                let _ = write!(self.out, "{v:.3}");
            }
        } else {
            self.out.push_str("null");
        }
        self
    }

    pub fn int(&mut self, k: Option<&str>, v: i64) -> &mut Json {
        self.lead(k);
        let _ = write!(self.out, "{v}");
        self
    }

    pub fn bool(&mut self, k: Option<&str>, v: bool) -> &mut Json {
        self.lead(k);
        self.out.push_str(if v { "true" } else { "false" });
        self
    }

    pub fn null(&mut self, k: Option<&str>) -> &mut Json {
        self.lead(k);
        self.out.push_str("null");
        self
    }

    /// A string, or null for `None`.
    pub fn opt_str(&mut self, k: Option<&str>, v: Option<&str>) -> &mut Json {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    /// A number, or null for `None`.
    pub fn opt_num(&mut self, k: Option<&str>, v: Option<f64>) -> &mut Json {
        match v {
            Some(v) => self.num(k, v),
            None => self.null(k),
        }
    }

    fn lead(&mut self, k: Option<&str>) {
        if let Some(k) = k {
            self.key(k);
        }
        self.sep();
    }
}

/// `v` as a JSON string literal, appended to `out`.
pub fn escape_into(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // `<` too, so a key can never close the <script> the page embeds the JSON in.
            c if (c as u32) < 0x20 || c == '<' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_and_escapes() {
        let mut j = Json::new();
        j.obj(None).str(Some("a"), "x\"y\n</script>").int(Some("n"), -3).arr(Some("l"));
        j.num(None, 1.5).num(None, f64::NAN).bool(None, true).obj(None).null(Some("z")).end_obj();
        j.end_arr().opt_str(Some("o"), None).end_obj();
        assert_eq!(j.finish(), r#"{"a":"x\"y\n\u003c/script>","n":-3,"l":[1.500,null,true,{"z":null}],"o":null}"#);
    }
}
