//! Lua 5.1 bytecode without its debug information, for the sandbox's own chunk: line numbers,
//! local variable names and upvalue names take about half of a compiled function's memory,
//! and that memory stays live in every script VM for its lifetime, so every collector cycle
//! walks it (Redis steps the collector every 50 scripts: the cost of a step grows with the
//! live heap). Lua 5.1's `lua_dump` always writes debug information (its `luaU_dump` has a
//! strip flag that the API does not pass); this rewrites a dump without it.
//!
//! The dump format (`ldump.c`): a 12-byte header giving the sizes of `int`, `size_t`,
//! `Instruction` and `lua_Number`, then the main function: source, line range, four bytes
//! (upvalue count, parameter count, vararg flag, stack size), code, constants, nested
//! functions, then the debug lists (line info, locals, upvalue names), which become empty.
//! Sources stay: the error handler recognises the sandbox's frames by theirs.

/// `dump` with every function's debug lists emptied; `None` if it is not a Lua 5.1 dump of
/// this layout (the caller then keeps the dump as it is).
pub fn strip(dump: &[u8]) -> Option<Vec<u8>> {
    let header = dump.get(..12)?;
    if &header[..5] != b"\x1bLua\x51" {
        return None;
    }
    let mut r = Reader { d: dump, at: 12, int: header[7] as usize, size_t: header[8] as usize };
    let (instruction, number) = (header[9] as usize, header[10] as usize);
    if r.int != 4 || !matches!(r.size_t, 4 | 8) || instruction != 4 || header[6] != 1 {
        return None; // not a little-endian layout this reads
    }
    let mut out = header.to_vec();
    function(&mut r, &mut out, number)?;
    (r.at == dump.len()).then_some(out)
}

struct Reader<'a> {
    d: &'a [u8],
    at: usize,
    int: usize,
    size_t: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.d.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn int(&mut self) -> Option<usize> {
        let b = self.take(self.int)?;
        usize::try_from(i32::from_le_bytes(b.try_into().ok()?)).ok()
    }

    fn size(&mut self) -> Option<usize> {
        let b = self.take(self.size_t)?;
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        usize::try_from(u64::from_le_bytes(w)).ok()
    }

    /// A string: its size (0 for none), then that many bytes.
    fn string(&mut self) -> Option<&[u8]> {
        let start = self.at;
        let n = self.size()?;
        self.take(n)?;
        Some(&self.d[start..self.at])
    }
}

fn function(r: &mut Reader, out: &mut Vec<u8>, number: usize) -> Option<()> {
    let start = r.at;
    r.string()?; // source
    r.take(2 * r.int + 4)?; // line range, upvalues, parameters, vararg, stack size
    let n = r.int()?;
    r.take(n * 4)?; // code
    let n = r.int()?;
    for _ in 0..n {
        match r.take(1)?[0] {
            0 => {}
            1 => {
                r.take(1)?;
            }
            3 => {
                r.take(number)?;
            }
            4 => {
                r.string()?;
            }
            _ => return None,
        }
    }
    out.extend_from_slice(&r.d[start..r.at]);
    let n = r.int()?;
    out.extend_from_slice(&(n as i32).to_le_bytes());
    for _ in 0..n {
        function(r, out, number)?;
    }
    let n = r.int()?;
    r.take(n * r.int)?; // line info
    let n = r.int()?;
    for _ in 0..n {
        r.string()?; // local name
        r.take(2 * r.int)?; // its pc range
    }
    let n = r.int()?;
    for _ in 0..n {
        r.string()?; // upvalue name
    }
    for _ in 0..3 {
        out.extend_from_slice(&0i32.to_le_bytes());
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::{ChunkMode, Function, Lua};

    const CODE: &str = r#"
        local up = 40
        local function add(a, b) local s = a + b + up return s end
        return function(x) local t = { 'k', 1.5, true, nil } return add(x, #t) .. '!' end
    "#;

    #[test]
    fn a_stripped_chunk_runs_as_the_original_in_less_memory() {
        // SAFETY: a test state, for loading binary chunks (which safe mode refuses).
        let lua = unsafe { Lua::unsafe_new() };
        let f = lua.load(CODE).set_name("@chunk").into_function().unwrap();
        let dump = f.dump(false);
        let small = strip(&dump).expect("a Lua 5.1 dump");
        assert!(small.len() < dump.len() * 3 / 4, "{} -> {}", dump.len(), small.len());
        let load = |bytes: &[u8]| -> Function {
            let g: Function = lua.load(bytes).set_mode(ChunkMode::Binary).call(()).unwrap();
            g
        };
        assert_eq!(load(&small).call::<String>(2).unwrap(), "45!");
        assert_eq!(load(&dump).call::<String>(2).unwrap(), "45!");
        // The source survives (the sandbox's error handler matches it); lines do not.
        let info: (String, i64) = lua
            .load("local f = ... local i = debug.getinfo(f, 'S') return i.source, i.linedefined")
            .call(load(&small))
            .unwrap();
        assert_eq!(info, ("@chunk".to_string(), 4));
    }

    #[test]
    fn anything_else_is_left_alone() {
        assert_eq!(strip(b""), None);
        assert_eq!(strip(b"return 1"), None);
        let lua = Lua::new();
        let dump = lua.load("return 1").into_function().unwrap().dump(false);
        assert_eq!(strip(&dump[..dump.len() - 1]), None, "a truncated dump");
        let mut longer = dump.clone();
        longer.push(0);
        assert_eq!(strip(&longer), None, "trailing bytes");
    }
}
