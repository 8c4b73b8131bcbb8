//! The RESP2/RESP3 reply parser (`resp_parse::parse_frame`): what slotbox-proxy reads from its
//! backends and slotbox-cluster from the nodes it manages, plus the proxy's reading of a
//! `CLUSTER SLOTS` reply into its slot map.
//!
//! Checks: a parsed value's every strict prefix is "need more bytes" (never an error or a
//! different value); re-encoding a value as RESP3 and parsing it again is stable (one
//! normalization, then a fixed point); the slot map built from any reply stays in range.

use slotbox_protocol::resp_parse::parse_frame;
use slotbox_protocol::{encode, Frame, Protocol};
use slotbox_proxy::router::{parse_cluster_slots, ClusterSlots};

pub fn run(data: &[u8]) {
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
