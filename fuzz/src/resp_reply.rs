//! The RESP2/RESP3 reply parser (`resp_parse::parse_frame`): what slotbox-proxy reads from its
//! backends and slotbox-cluster from the nodes it manages, plus the proxy's reading of a
//! `CLUSTER SLOTS` reply into its slot map.
//!
//! Checks: a parsed value's every strict prefix is "need more bytes" (never an error or a
//! different value); the incremental [`ReplyDecoder`] the proxy and the tool use gives the
//! same values and the same ending fed in pieces as `parse_frame` on the whole; re-encoding a
//! value as RESP3 and parsing it again is stable (one normalization, then a fixed point); the
//! slot map built from any reply stays in range.

use slotbox_protocol::resp_parse::{parse_frame, ReplyDecoder};
use slotbox_protocol::{encode, Frame, Protocol};
use slotbox_proxy::router::{parse_cluster_slots, ClusterSlots};

pub fn run(data: &[u8]) {
    let chunk = 1 + data.len() % 13;
    assert_eq!(in_pieces(data, chunk), whole(data), "ReplyDecoder in {chunk}-byte pieces differs from parse_frame");
    let mut rest = data;
    // A pipeline of replies, as a connection's buffer holds them.
    while let Ok(Some((frame, used))) = parse_frame(rest) {
        assert!(used > 0 && used <= rest.len(), "used {used} of {}", rest.len());
        for cut in [used - 1, used / 2] {
            assert!(
                matches!(parse_frame(&rest[..cut]), Ok(None)),
                "prefix {cut} of a complete reply is not incomplete"
            );
        }
        reencode(&frame);
        slot_map(&frame);
        rest = &rest[used..];
    }
}

fn reencode(frame: &Frame) {
    let once = encode::to_vec(frame, Protocol::Resp3);
    let (again, used) = match parse_frame(&once) {
        Ok(Some(parsed)) => parsed,
        other => panic!("re-encoded {frame:?} as {once:?} parses as {other:?}"),
    };
    assert_eq!(used, once.len(), "re-encoded {frame:?} is {once:?}, parsed only {used} bytes");
    assert_eq!(encode::to_vec(&again, Protocol::Resp3), once, "re-encoding {frame:?} is not stable");
    // RESP2 (what a RESP2 client of the proxy gets) must parse back whole too.
    let resp2 = encode::to_vec(frame, Protocol::Resp2);
    assert!(matches!(parse_frame(&resp2), Ok(Some((_, n))) if n == resp2.len()), "RESP2 of {frame:?}: {resp2:?}");
}

fn slot_map(frame: &Frame) {
    let Some(ranges) = parse_cluster_slots(frame) else { return };
    let mut addrs: Vec<String> = Vec::new();
    let map = ClusterSlots::from_ranges(&ranges, |a| {
        addrs.iter().position(|x| x == a).unwrap_or_else(|| {
            addrs.push(a.to_string());
            addrs.len() - 1
        })
    });
    for slot in [0u16, 1, 8191, 16383] {
        if let Some(m) = map.master_of(slot) {
            assert!(m < addrs.len(), "slot {slot} maps to backend {m} of {}", addrs.len());
        }
        assert!(map.replicas_of(slot).iter().all(|&r| (r as usize) < addrs.len()));
    }
}

/// The replies in `data` (RESP3-encoded, so NaN compares equal) and whether it ended on an
/// error, by `parse_frame` on the whole buffer.
fn whole(data: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let (mut rest, mut out) = (data, Vec::new());
    loop {
        match parse_frame(rest) {
            Ok(Some((f, used))) => {
                out.push(encode::to_vec(&f, Protocol::Resp3));
                rest = &rest[used..];
            }
            Ok(None) => return (out, false),
            Err(_) => return (out, true),
        }
    }
}

/// The same through a [`ReplyDecoder`] fed `chunk` bytes at a time, as a connection reads.
fn in_pieces(data: &[u8], chunk: usize) -> (Vec<Vec<u8>>, bool) {
    let (mut dec, mut buf, mut out) = (ReplyDecoder::default(), Vec::new(), Vec::new());
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match dec.decode(&buf) {
                Ok(Some((f, used))) => {
                    out.push(encode::to_vec(&f, Protocol::Resp3));
                    buf.drain(..used);
                }
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}
