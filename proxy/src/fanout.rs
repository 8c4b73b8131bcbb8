//! Fan-out and merge of multi-key commands, as nutcracker does them: MGET is split per
//! target and reassembled in key order, DEL / UNLINK / TOUCH / EXISTS are split and their
//! integers summed, MSET is split by key/value pairs and answers `+OK`. Any other command
//! whose keys span targets is refused with [`span_error`]. Pure data: no sockets here.

use bytes::Bytes;
use slotbox_protocol::{encode, Frame, Protocol};

/// How the replies of the parts become one reply.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeKind {
    /// `positions[part]` lists, for each key in that part, its index in the original MGET.
    Mget { positions: Vec<Vec<usize>>, nkeys: usize },
    /// Integers summed (DEL, UNLINK, TOUCH, EXISTS).
    Sum,
    /// Every part must answer `+OK` (MSET).
    Ok,
    /// The largest integer (PUBSUB NUMPAT in a plain pool, where every backend carries
    /// every client's patterns).
    Max,
    /// Arrays united, duplicates dropped, first-seen order (PUBSUB CHANNELS).
    Union,
    /// `[name, count, name, count ...]` arrays of the same names: counts summed by position
    /// (PUBSUB NUMSUB).
    PairSum,
    /// Every part answers the same (SCRIPT LOAD's SHA): the first reply.
    Same,
    /// Arrays of 0/1 by position, 1 only where every part says 1 (SCRIPT EXISTS).
    AllOf,
}

/// What a split request looks like: one argument list per target, in target order.
#[derive(Debug)]
pub struct Split<T> {
    pub parts: Vec<(T, Vec<Bytes>)>,
    pub merge: MergeKind,
}

/// The merge state of one fanned-out request.
#[derive(Debug)]
pub struct Merge {
    kind: MergeKind,
    replies: Vec<Option<Frame>>,
    left: usize,
}

/// Commands the proxy splits; their keys are every argument (MSET: every other one).
pub fn is_fanout(name: &str) -> bool {
    matches!(name, "mget" | "del" | "unlink" | "touch" | "exists" | "mset")
}

/// `-ERR` for a multi-key command whose keys live on different backends.
pub fn span_error(name: &str) -> Frame {
    Frame::error(format!("ERR keys of '{name}' map to different backends; use a hash tag to keep them together"))
}

/// Split `args` of fan-out command `name` whose key positions are `keys`, where `target`
/// says where each key goes. `None` if all keys share one target (forward unchanged).
pub fn split<T: PartialEq + Copy>(
    name: &str,
    args: &[Bytes],
    keys: &[usize],
    mut target: impl FnMut(&[u8]) -> T,
) -> Option<Split<T>> {
    let mut parts: Vec<(T, Vec<Bytes>)> = Vec::new();
    let mut positions: Vec<Vec<usize>> = Vec::new();
    for (n, &k) in keys.iter().enumerate() {
        let t = target(&args[k]);
        let i = match parts.iter().position(|(pt, _)| *pt == t) {
            Some(i) => i,
            None => {
                parts.push((t, vec![args[0].clone()]));
                positions.push(Vec::new());
                parts.len() - 1
            }
        };
        parts[i].1.push(args[k].clone());
        if name == "mset" {
            parts[i].1.push(args.get(k + 1).cloned().unwrap_or_default());
        }
        positions[i].push(n);
    }
    if parts.len() <= 1 {
        return None;
    }
    let merge = match name {
        "mget" => MergeKind::Mget { positions, nkeys: keys.len() },
        "mset" => MergeKind::Ok,
        _ => MergeKind::Sum,
    };
    Some(Split { parts, merge })
}

impl Merge {
    pub fn new(kind: MergeKind, parts: usize) -> Merge {
        Merge { kind, replies: vec![None; parts], left: parts }
    }

    /// Record the reply of `part`; true when every part has answered.
    pub fn add(&mut self, part: usize, reply: Frame) -> bool {
        if let Some(slot) = self.replies.get_mut(part) {
            if slot.is_none() {
                self.left -= 1;
            }
            *slot = Some(reply);
        }
        self.left == 0
    }

    /// The merged reply, encoded for the client's protocol.
    pub fn finish(self, proto: Protocol) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&self.merged(), proto, &mut out);
        out
    }

    fn merged(self) -> Frame {
        let replies: Vec<Frame> = self.replies.into_iter().map(|r| r.unwrap_or(Frame::Null)).collect();
        if let Some(e) = replies.iter().find(|r| r.is_error()) {
            return e.clone();
        }
        match self.kind {
            MergeKind::Same => replies.into_iter().next().unwrap_or(Frame::Null),
            MergeKind::AllOf => {
                let mut parts = replies.into_iter();
                let Some(Frame::Array(mut out)) = parts.next() else {
                    return Frame::error("ERR unexpected reply to a fanned-out SCRIPT EXISTS");
                };
                for reply in parts {
                    let Frame::Array(items) = reply else {
                        return Frame::error("ERR unexpected reply to a fanned-out SCRIPT EXISTS");
                    };
                    for (slot, item) in out.iter_mut().zip(items) {
                        if item.as_integer() != Some(1) {
                            *slot = Frame::Integer(0);
                        }
                    }
                }
                Frame::Array(out)
            }
            MergeKind::Sum => Frame::Integer(replies.iter().filter_map(Frame::as_integer).sum()),
            MergeKind::Ok => Frame::ok(),
            MergeKind::Max => Frame::Integer(replies.iter().filter_map(Frame::as_integer).max().unwrap_or(0)),
            MergeKind::Union => {
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::new();
                for reply in replies {
                    let Frame::Array(items) = reply else {
                        return Frame::error("ERR unexpected reply to a fanned-out PUBSUB");
                    };
                    for item in items {
                        if seen.insert(item.as_bytes().map(|b| b.to_vec()).unwrap_or_default()) {
                            out.push(item);
                        }
                    }
                }
                Frame::Array(out)
            }
            MergeKind::PairSum => {
                let mut parts = replies.into_iter();
                let Some(Frame::Array(mut out)) = parts.next() else {
                    return Frame::error("ERR unexpected reply to a fanned-out PUBSUB");
                };
                for reply in parts {
                    let Frame::Array(items) = reply else {
                        return Frame::error("ERR unexpected reply to a fanned-out PUBSUB");
                    };
                    for (i, item) in items.into_iter().enumerate().filter(|(i, _)| i % 2 == 1) {
                        if let (Some(Frame::Integer(total)), Some(n)) = (out.get_mut(i), item.as_integer()) {
                            *total += n;
                        }
                    }
                }
                Frame::Array(out)
            }
            MergeKind::Mget { positions, nkeys } => {
                let mut out = vec![Frame::Null; nkeys];
                for (part, reply) in replies.into_iter().enumerate() {
                    let Frame::Array(items) = reply else {
                        return Frame::error("ERR unexpected reply to a split MGET");
                    };
                    for (item, &pos) in items.into_iter().zip(&positions[part]) {
                        out[pos] = item;
                    }
                }
                Frame::Array(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn mget_is_reassembled_in_key_order() {
        let args: Vec<Bytes> = ["mget", "a1", "b1", "a2"].iter().map(|s| b(s)).collect();
        let s = split("mget", &args, &[1, 2, 3], |k| k[0]).unwrap();
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.parts[0].1, vec![b("mget"), b("a1"), b("a2")]);
        let mut m = Merge::new(s.merge, 2);
        assert!(!m.add(1, Frame::Array(vec![Frame::bulk("B1")])));
        assert!(m.add(0, Frame::Array(vec![Frame::bulk("A1"), Frame::Null])));
        assert_eq!(m.finish(Protocol::Resp2), b"*3\r\n$2\r\nA1\r\n$2\r\nB1\r\n$-1\r\n");
    }

    #[test]
    fn mset_pairs_and_sums() {
        let args: Vec<Bytes> = ["mset", "a", "1", "b", "2"].iter().map(|s| b(s)).collect();
        let s = split("mset", &args, &[1, 3], |k| k[0]).unwrap();
        assert_eq!(s.parts[1].1, vec![b("mset"), b("b"), b("2")]);
        assert_eq!(s.merge, MergeKind::Ok);
        let mut m = Merge::new(MergeKind::Sum, 2);
        m.add(0, Frame::Integer(2));
        m.add(1, Frame::Integer(1));
        assert_eq!(m.finish(Protocol::Resp2), b":3\r\n");
    }

    #[test]
    fn pubsub_lists_are_united_and_counts_summed() {
        let mut m = Merge::new(MergeKind::Union, 2);
        m.add(0, Frame::Array(vec![Frame::bulk("a"), Frame::bulk("b")]));
        m.add(1, Frame::Array(vec![Frame::bulk("b"), Frame::bulk("c")]));
        assert_eq!(m.finish(Protocol::Resp2), b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        let mut m = Merge::new(MergeKind::PairSum, 2);
        m.add(0, Frame::Array(vec![Frame::bulk("a"), Frame::Integer(2), Frame::bulk("b"), Frame::Integer(0)]));
        m.add(1, Frame::Array(vec![Frame::bulk("a"), Frame::Integer(1), Frame::bulk("b"), Frame::Integer(3)]));
        assert_eq!(m.finish(Protocol::Resp2), b"*4\r\n$1\r\na\r\n:3\r\n$1\r\nb\r\n:3\r\n");
    }

    #[test]
    fn script_replies_are_merged() {
        let mut m = Merge::new(MergeKind::AllOf, 2);
        m.add(0, Frame::Array(vec![Frame::Integer(1), Frame::Integer(1)]));
        assert!(m.add(1, Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)])));
        assert_eq!(m.merged(), Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)]));
        let mut m = Merge::new(MergeKind::Same, 2);
        m.add(0, Frame::bulk_static("sha"));
        assert!(m.add(1, Frame::bulk_static("sha")));
        assert_eq!(m.merged(), Frame::bulk_static("sha"));
    }

    #[test]
    fn one_target_is_not_split_and_errors_win() {
        let args: Vec<Bytes> = ["del", "a", "a2"].iter().map(|s| b(s)).collect();
        assert!(split("del", &args, &[1, 2], |k| k[0]).is_none());
        let mut m = Merge::new(MergeKind::Sum, 2);
        m.add(0, Frame::Integer(1));
        m.add(1, Frame::error("ERR boom"));
        assert_eq!(m.finish(Protocol::Resp2), b"-ERR boom\r\n");
    }
}
