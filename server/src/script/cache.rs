//! EVAL's interpreter and script cache: scripts by SHA1 (lower-case hex), compiled once, kept
//! until SCRIPT FLUSH (which replaces the interpreter).

use super::flags;
use super::rand48::Rand48;
use super::vm::{Callable, Kind, Vm};
use bytes::Bytes;
use hashbrown::HashMap;
use std::sync::Arc;

/// One cached script.
pub struct Script {
    pub body: Bytes,
    pub flags: u32,
    pub func: Callable,
}

pub struct EvalEngine {
    pub vm: Vm,
    scripts: HashMap<[u8; 40], Script>,
    /// Bytes of the cached bodies (INFO `used_memory_scripts_eval`).
    pub body_bytes: usize,
}

/// The SHA1 of `body` as 40 lower-case hex digits.
///
/// An EVAL hashes its body twice on the same thread (to learn whether the script runs in
/// place, then to find it in the cache), so each thread remembers its last body and digest:
/// comparing the bytes is far cheaper than hashing them again.
pub fn sha1_hex(body: &[u8]) -> [u8; 40] {
    thread_local! {
        static LAST: std::cell::RefCell<(Vec<u8>, [u8; 40])> = const { std::cell::RefCell::new((Vec::new(), [0; 40])) };
    }
    const MEMO_MAX: usize = 4096;
    let remembered = LAST
        .try_with(|l| {
            let l = l.borrow();
            (!l.0.is_empty() && l.0 == body).then_some(l.1)
        })
        .ok()
        .flatten();
    if let Some(sha) = remembered {
        return sha;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 40];
    for (i, b) in sha1_smol::Sha1::from(body).digest().bytes().iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    if body.len() <= MEMO_MAX {
        let _ = LAST.try_with(|l| {
            let mut l = l.borrow_mut();
            l.0.clear();
            l.0.extend_from_slice(body);
            l.1 = out;
        });
    }
    out
}

/// A client-given SHA as a cache key (any case), if it has the right length.
pub fn sha_key(sha: &[u8]) -> Option<[u8; 40]> {
    let mut out = [0u8; 40];
    if sha.len() != 40 {
        return None;
    }
    for (o, b) in out.iter_mut().zip(sha) {
        *o = b.to_ascii_lowercase();
    }
    Some(out)
}

impl EvalEngine {
    pub fn new(rand: Arc<Rand48>) -> Self {
        let vm = Vm::new(Kind::Eval, rand).expect("building the EVAL Lua interpreter");
        EvalEngine { vm, scripts: HashMap::new(), body_bytes: 0 }
    }

    pub fn get(&self, sha: &[u8; 40]) -> Option<&Script> {
        self.scripts.get(sha)
    }

    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Compile and cache `body` (SCRIPT LOAD, or EVAL of a new script); its SHA, or the error
    /// text of a bad shebang or a compile error.
    pub fn load(&mut self, body: &Bytes) -> Result<[u8; 40], String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = flags::parse_shebang(body)?;
        let func = self
            .vm
            .compile(&body[shebang_len..], "@user_script")
            .map_err(|e| format!("Error compiling script (new function): {e}"))?;
        let func = Callable::new(&self.vm.lua, func).map_err(|e| e.to_string())?;
        self.body_bytes += body.len() + 40;
        self.scripts.insert(sha, Script { body: body.clone(), flags, func });
        Ok(sha)
    }
}

#[cfg(test)]
mod tests {
    use super::sha1_hex;

    #[test]
    fn sha1_hex_of_known_bodies_again_and_alternating() {
        let abc = *b"a9993e364706816aba3e25717850c26c9cd0d89d";
        let empty = *b"da39a3ee5e6b4b0d3255bfef95601890afd80709";
        for _ in 0..2 {
            assert_eq!(sha1_hex(b"abc"), abc);
            assert_eq!(sha1_hex(b"abc"), abc);
            assert_eq!(sha1_hex(b""), empty);
        }
        assert_eq!(sha1_hex(b"abd")[..4], *b"cb4c");
        assert_eq!(sha1_hex(b"abc"), abc);
    }
}
