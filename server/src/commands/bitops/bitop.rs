//! BITOP AND / OR / XOR / NOT: combine string values into a destination key, eight bytes at a
//! time. Missing sources are empty strings and shorter ones are zero-padded; an empty result
//! deletes the destination (event `del`), any other replaces it (event `set`, no TTL, `raw`).

use super::common::with_string;
use crate::commands::keys::lookup::read;
use crate::commands::{args, Ctx, Reply};
use crate::notify::class;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Xor,
    Not,
}

fn parse_op(arg: &[u8]) -> Option<Op> {
    [("and", Op::And), ("or", Op::Or), ("xor", Op::Xor), ("not", Op::Not)]
        .into_iter()
        .find(|(name, _)| args::is(arg, name))
        .map(|(_, op)| op)
}

pub fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let op = parse_op(&args[1]).ok_or_else(args::syntax_error)?;
    if op == Op::Not && args.len() != 4 {
        return Err(Frame::error_static("ERR BITOP NOT must be called with a single source key."));
    }
    let (dest, sources) = (&args[2], &args[3..]);
    // First pass: every source is a string (or missing), and the longest length.
    let mut max_len = 0usize;
    for key in sources {
        if let Some(e) = read(ctx.keys, &ctx.shared.stats, key) {
            let len = with_string(&e.value, <[u8]>::len).ok_or(Frame::error_static(errors::WRONGTYPE))?;
            max_len = max_len.max(len);
        }
    }
    if max_len == 0 {
        if ctx.keys.remove(dest).is_some() {
            ctx.notify(class::GENERIC, "del", dest);
        } else {
            ctx.propagate = Some(Vec::new());
        }
        return Ok(Frame::Integer(0));
    }
    let mut out = vec![0u8; max_len];
    for (i, key) in sources.iter().enumerate() {
        let Some(e) = ctx.keys.peek(key) else {
            if op == Op::And {
                out.fill(0);
            }
            continue;
        };
        with_string(&e.value, |src| {
            if i == 0 {
                out[..src.len()].copy_from_slice(src);
                if op == Op::Not {
                    out.iter_mut().for_each(|b| *b = !*b);
                }
            } else {
                combine(&mut out, src, op);
            }
        });
    }
    ctx.keys.insert(dest, Entry::new(Value::Str { data: out.into(), raw: true }));
    ctx.notify(class::STRING, "set", dest);
    Ok(Frame::Integer(max_len as i64))
}

/// `out op= src`, `src` zero-padded to `out`'s length.
fn combine(out: &mut [u8], src: &[u8], op: Op) {
    let n = src.len().min(out.len());
    let (head, tail) = out.split_at_mut(n);
    let word = |a: u64, b: u64| match op {
        Op::And => a & b,
        Op::Or => a | b,
        Op::Xor => a ^ b,
        Op::Not => !a,
    };
    let mut dst_words = head.chunks_exact_mut(8);
    let mut src_words = src[..n].chunks_exact(8);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        let a = u64::from_ne_bytes(d.try_into().unwrap_or([0; 8]));
        let b = u64::from_ne_bytes(s.try_into().unwrap_or([0; 8]));
        d.copy_from_slice(&word(a, b).to_ne_bytes());
    }
    for (d, s) in dst_words.into_remainder().iter_mut().zip(src_words.remainder()) {
        *d = word(u64::from(*d), u64::from(*s)) as u8;
    }
    if op == Op::And {
        tail.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::{combine, Op};

    #[test]
    fn combine_pads_with_zeros() {
        let src: Vec<u8> = (0..19).collect();
        for (op, f) in [(Op::And, (|a, b| a & b) as fn(u8, u8) -> u8), (Op::Or, |a, b| a | b), (Op::Xor, |a, b| a ^ b)]
        {
            let mut out = vec![0xa5u8; 23];
            combine(&mut out, &src, op);
            let want: Vec<u8> = (0..23).map(|i| f(0xa5, src.get(i).copied().unwrap_or(0))).collect();
            assert_eq!(out, want);
        }
    }
}
