//! What comes back on the outgoing links: replies to PING / INFO / PUBLISH /
//! IS-MASTER-DOWN-BY-ADDR (matched to what was asked by the link's `Pending` queue), and the
//! hello messages on the pub/sub link. Also closing a broken link.

use super::instance::*;
use super::link::Pending;
use super::state::{Loc, Sentinel};
use mio::Registry;
use slotbox_protocol::frame::Frame;

fn text(f: &Frame) -> Option<&[u8]> {
    match f {
        Frame::Simple(b) | Frame::Error(b) | Frame::Bulk(b) | Frame::Verbatim(_, b) => Some(b),
        _ => None,
    }
}

impl Sentinel {
    /// A readiness event on the link `pubsub` of instance `id`.
    pub fn on_link_event(&mut self, reg: &Registry, id: u64, pubsub: bool, writable: bool) {
        let Some(loc) = self.locate(id) else { return };
        let link = &mut self.inst_mut(loc).link;
        let conn = if pubsub { link.pc.as_mut() } else { link.cc.as_mut() };
        let Some(conn) = conn else { return };
        let result = conn.on_event(reg, writable);
        let (frames, closed) = match result {
            Ok(r) => r,
            Err(e) => {
                crate::log::verbose(&format!("sentinel link to {} closed: {e}", self.describe(loc)));
                self.close_link(reg, id, pubsub);
                return;
            }
        };
        for f in frames {
            let Some(loc) = self.locate(id) else { return };
            if pubsub {
                self.on_pubsub_frame(loc, f);
            } else {
                let what = self.inst_mut(loc).link.cc.as_mut().and_then(|c| c.pending.pop_front());
                if let Some(what) = what {
                    self.on_reply(loc, what, f);
                }
            }
        }
        if closed {
            self.close_link(reg, id, pubsub);
        }
    }

    /// Flush every link's queued commands; close the ones that fail.
    pub fn flush_links(&mut self, reg: &Registry) {
        let mut broken = Vec::new();
        for m in &mut self.masters {
            let all = std::iter::once(&mut m.inst).chain(m.replicas.iter_mut()).chain(m.sentinels.iter_mut());
            for inst in all {
                if let Some(c) = inst.link.cc.as_mut() {
                    if c.flush(reg).is_err() {
                        broken.push((inst.id, false));
                    }
                }
                if let Some(c) = inst.link.pc.as_mut() {
                    if c.flush(reg).is_err() {
                        broken.push((inst.id, true));
                    }
                }
            }
        }
        for (id, pubsub) in broken {
            self.close_link(reg, id, pubsub);
        }
    }

    pub fn close_link(&mut self, reg: &Registry, id: u64, pubsub: bool) {
        let Some(loc) = self.locate(id) else { return };
        let link = &mut self.inst_mut(loc).link;
        let conn = if pubsub { link.pc.take() } else { link.cc.take() };
        if let Some(mut c) = conn {
            c.deregister(reg);
        }
    }

    fn on_reply(&mut self, loc: Loc, what: Pending, f: Frame) {
        let now = mstime();
        match what {
            Pending::Discard => {}
            Pending::Ping => self.on_ping_reply(loc, &f, now),
            Pending::Info => {
                if let Frame::Bulk(b) | Frame::Verbatim(_, b) = &f {
                    let info = String::from_utf8_lossy(b).into_owned();
                    self.refresh_info(loc, &info);
                }
            }
            Pending::Publish => {
                if !f.is_error() {
                    self.inst_mut(loc).last_pub_time = now;
                }
            }
            Pending::IsMasterDown => self.on_is_master_down_reply(loc, f, now),
        }
    }

    fn on_ping_reply(&mut self, loc: Loc, f: &Frame, now: i64) {
        let inst = self.inst_mut(loc);
        if let (Frame::Simple(_) | Frame::Error(_), Some(t)) = (f, text(f)) {
            if t.starts_with(b"PONG") || t.starts_with(b"LOADING") || t.starts_with(b"MASTERDOWN") {
                inst.link.last_avail_time = now;
                inst.link.act_ping_time = 0;
            } else if t.starts_with(b"BUSY") && inst.has(S_DOWN) && !inst.has(SCRIPT_KILL_SENT) {
                if let Some(cc) = inst.link.cc.as_mut() {
                    cc.command(&[b"SCRIPT", b"KILL"], Pending::Discard);
                }
                inst.flags |= SCRIPT_KILL_SENT;
            }
        }
        inst.link.last_pong_time = now;
    }

    fn on_is_master_down_reply(&mut self, loc: Loc, f: Frame, now: i64) {
        let Frame::Array(items) = f else { return };
        let [Frame::Integer(down), Frame::Bulk(leader), Frame::Integer(epoch)] = &items[..] else { return };
        let inst = self.inst_mut(loc);
        inst.last_master_down_reply_time = now;
        if *down == 1 {
            inst.flags |= MASTER_DOWN;
        } else {
            inst.flags &= !MASTER_DOWN;
        }
        if leader.as_ref() != b"*" {
            let leader = String::from_utf8_lossy(leader).into_owned();
            if inst.leader_epoch != *epoch as u64 {
                crate::log::warning(&format!("{} voted for {leader} {epoch}", inst.name));
            }
            inst.leader = Some(leader);
            inst.leader_epoch = *epoch as u64;
        }
    }

    fn on_pubsub_frame(&mut self, loc: Loc, f: Frame) {
        self.inst_mut(loc).link.pc_last_activity = mstime();
        let (Frame::Array(items) | Frame::Push(items)) = f else { return };
        let [Frame::Bulk(kind), Frame::Bulk(_channel), Frame::Bulk(payload)] = &items[..] else { return };
        if kind.as_ref() != b"message" {
            return;
        }
        let payload = String::from_utf8_lossy(payload).into_owned();
        if payload.contains(&self.myid) {
            return;
        }
        self.process_hello(&payload);
    }
}
