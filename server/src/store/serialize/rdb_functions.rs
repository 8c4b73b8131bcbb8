//! FUNCTION DUMP / FUNCTION RESTORE payloads in Redis 7.0's format, so a dump moves between
//! slotbox and real Redis both ways:
//!
//! ```text
//! payload  (245 · string code)* · rdb version (2 bytes LE) · CRC-64/Jones (8 bytes LE)
//! ```
//!
//! 245 is `RDB_OPCODE_FUNCTION2`; the code is an RDB string (written plain, read plain,
//! integer-encoded or LZF-compressed, as Redis writes it with `rdbcompression yes`).

use super::redis_stream::Reader;
use super::wire::crc64;
use bytes::Bytes;

const OPCODE_FUNCTION2: u8 = 245;
/// Redis 7.0 rc1 / rc2's layout (name, engine, description, code), which slotbox does not read.
const OPCODE_FUNCTION_PRE_GA: u8 = 246;
const RDB_VERSION: u16 = 10;

/// The payload of FUNCTION DUMP for these libraries' codes.
pub fn dump(codes: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::with_capacity(codes.iter().map(|c| c.len() + 10).sum::<usize>() + 10);
    for code in codes {
        out.push(OPCODE_FUNCTION2);
        put_len(&mut out, code.len() as u64);
        out.extend_from_slice(code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// An RDB length.
fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0x80);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The libraries' codes of a FUNCTION RESTORE payload, or the error reply's text.
pub fn restore(payload: &[u8]) -> Result<Vec<Bytes>, &'static str> {
    const WRONG: &str = "ERR DUMP payload version or checksum are wrong";
    if payload.len() < 10 {
        return Err(WRONG);
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if version > RDB_VERSION || crc64(0, body).to_le_bytes() != crc {
        return Err(WRONG);
    }
    let mut r = Reader(&body[..body.len() - 2]);
    let mut codes = Vec::new();
    while !r.0.is_empty() {
        match r.byte() {
            Ok(OPCODE_FUNCTION2) => {}
            Ok(OPCODE_FUNCTION_PRE_GA) => return Err("ERR Pre-GA function format not supported"),
            Ok(_) => return Err("ERR given type is not a function"),
            Err(_) => return Err("ERR can not read data type"),
        }
        match r.string() {
            Ok(code) => codes.push(Bytes::from(code)),
            Err(_) => return Err("ERR failed loading the given functions payload"),
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_read_back_and_damage_is_refused() {
        let long = Bytes::from(format!("#!lua name=big\n{}", "-- filler\n".repeat(2000)));
        let codes =
            vec![Bytes::from_static(b"#!lua name=a\nredis.register_function('f', function() return 1 end)"), long];
        let payload = dump(&codes);
        assert_eq!(restore(&payload).unwrap(), codes);
        let mut bad = payload.clone();
        bad[3] ^= 1;
        assert_eq!(restore(&bad), Err("ERR DUMP payload version or checksum are wrong"));
        assert_eq!(restore(b"short"), Err("ERR DUMP payload version or checksum are wrong"));
    }

    #[test]
    fn reads_what_redis_7_0_writes() {
        // `FUNCTION DUMP` of real redis-server 7.0.15 after
        // FUNCTION LOAD "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"
        let hex = "f5c34056405b1f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0b66756e\
                   6374696f6e28276d79400b02272c2040066012116b6579732c2061726773292072657475726e600c07\
                   5b315d20656e64290a008d5936adc6e707da";
        let payload: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let codes = restore(&payload).expect("a Redis 7.0 payload");
        assert_eq!(
            codes,
            vec![Bytes::from_static(
                b"#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"
            )]
        );
    }
}
