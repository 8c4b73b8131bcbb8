//! `SENTINEL <subcommand>`: the queries (MASTERS, MASTER, REPLICAS, SENTINELS,
//! GET-MASTER-ADDR-BY-NAME, IS-MASTER-DOWN-BY-ADDR, MYID, CKQUORUM, INFO-CACHE) and the
//! actions (FAILOVER, RESET, FLUSHCONFIG, SIMULATE-FAILURE); MONITOR / REMOVE / SET / CONFIG
//! are in `admin`.

use super::ctx::{arity, lower, Ctx};
use super::instance::*;
use super::render;
use super::state::{Loc, Sentinel, Which, SIMFAILURE_CRASH_AFTER_ELECTION, SIMFAILURE_CRASH_AFTER_PROMOTION};
use bytes::Bytes;
use slotbox_protocol::frame::Frame;

pub const NO_SUCH_MASTER: &str = "ERR No such master with that name";

pub fn master_or_err(s: &Sentinel, name: &[u8]) -> Result<usize, Frame> {
    s.master_by_name(&String::from_utf8_lossy(name)).ok_or(Frame::error_static(NO_SUCH_MASTER))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn sentinel(ctx: &mut Ctx, args: &[Bytes]) -> Frame {
    if args.len() < 2 {
        return arity("sentinel");
    }
    let sub = lower(&args[1]);
    let s = &mut *ctx.s;
    let want = |n: usize| args.len() == n;
    let r = match sub.as_str() {
        "masters" if want(2) => {
            Ok(Frame::Array((0..s.masters.len()).map(|m| render::instance(s, Loc::master(m))).collect()))
        }
        "master" if want(3) => master_or_err(s, &args[2]).map(|m| render::instance(s, Loc::master(m))),
        "replicas" | "slaves" if want(3) => master_or_err(s, &args[2]).map(|m| {
            Frame::Array(
                (0..s.masters[m].replicas.len())
                    .map(|i| render::instance(s, Loc { m, w: Which::Replica(i) }))
                    .collect(),
            )
        }),
        "sentinels" if want(3) => master_or_err(s, &args[2]).map(|m| {
            Frame::Array(
                (0..s.masters[m].sentinels.len())
                    .map(|i| render::instance(s, Loc { m, w: Which::Sentinel(i) }))
                    .collect(),
            )
        }),
        "myid" if want(2) => Ok(Frame::bulk(s.myid.clone())),
        "get-master-addr-by-name" if want(3) => Ok(match s.master_by_name(&text(&args[2])) {
            None => Frame::NullArray,
            Some(m) => {
                let a = s.masters[m].current_addr();
                Frame::Array(vec![Frame::bulk(a.ip), Frame::bulk(a.port.to_string())])
            }
        }),
        "is-master-down-by-addr" if want(6) => is_master_down_by_addr(s, args),
        "ckquorum" if want(3) => master_or_err(s, &args[2]).map(|m| ckquorum(s, m)),
        "failover" if want(3) => master_or_err(s, &args[2]).map(|m| failover(s, m)),
        "reset" if want(3) => Ok(reset(s, &args[2])),
        "flushconfig" if want(2) => Ok(super::admin::flush_and_reply(s)),
        "info-cache" => Ok(info_cache(s, &args[2..])),
        "simulate-failure" => Ok(simulate_failure(s, &args[2..])),
        "monitor" if want(6) => Ok(super::admin::monitor(s, args)),
        "remove" if want(3) => master_or_err(s, &args[2]).map(|m| super::admin::remove(s, m)),
        "set" if args.len() >= 5 && args.len() % 2 == 1 => {
            master_or_err(s, &args[2]).map(|m| super::admin::set(s, m, &args[3..]))
        }
        "config" if args.len() >= 3 => Ok(super::admin::config(s, &args[2..])),
        "help" if want(2) => Ok(help()),
        "masters"
        | "master"
        | "replicas"
        | "slaves"
        | "sentinels"
        | "myid"
        | "get-master-addr-by-name"
        | "is-master-down-by-addr"
        | "ckquorum"
        | "failover"
        | "reset"
        | "flushconfig"
        | "monitor"
        | "remove"
        | "set"
        | "config" => Ok(arity(&format!("sentinel|{sub}"))),
        _ => Ok(Frame::error(format!("ERR unknown subcommand '{}'. Try SENTINEL HELP.", text(&args[1])))),
    };
    r.unwrap_or_else(|e| e)
}

fn is_master_down_by_addr(s: &mut Sentinel, args: &[Bytes]) -> Result<Frame, Frame> {
    let port = text(&args[3])
        .parse::<i64>()
        .map_err(|_| Frame::error_static("ERR value is not an integer or out of range"))?;
    let req_epoch = text(&args[4])
        .parse::<i64>()
        .map_err(|_| Frame::error_static("ERR value is not an integer or out of range"))?;
    let ip = text(&args[2]);
    let m = s.masters.iter().position(|m| m.inst.addr.ip.eq_ignore_ascii_case(&ip) && m.inst.addr.port as i64 == port);
    let mut down = 0;
    let mut leader: Option<String> = None;
    let mut leader_epoch = 0u64;
    if let Some(m) = m {
        if !s.tilt && s.masters[m].inst.has(S_DOWN) {
            down = 1;
        }
        let runid = text(&args[5]);
        if runid != "*" {
            let (l, e) = s.vote_leader(m, req_epoch.max(0) as u64, &runid);
            leader = l;
            leader_epoch = e;
        }
    }
    Ok(Frame::Array(vec![
        Frame::Integer(down),
        Frame::bulk(leader.unwrap_or_else(|| "*".into())),
        Frame::Integer(leader_epoch as i64),
    ]))
}

fn ckquorum(s: &Sentinel, m: usize) -> Frame {
    let master = &s.masters[m];
    let voters = master.sentinels.len() + 1;
    let usable = 1 + master.sentinels.iter().filter(|r| r.flags & (S_DOWN | O_DOWN) == 0).count();
    let noquorum = usable < master.quorum as usize;
    let noauth = usable < voters / 2 + 1;
    if !noquorum && !noauth {
        return Frame::Simple(Bytes::from(format!(
            "OK {usable} usable Sentinels. Quorum and failover authorization can be reached"
        )));
    }
    let mut e = format!("NOQUORUM {usable} usable Sentinels. ");
    if noquorum {
        e.push_str("Not enough available Sentinels to reach the specified quorum for this master");
    }
    if noauth {
        if noquorum {
            e.push_str(". ");
        }
        e.push_str("Not enough available Sentinels to reach the majority and authorize a failover");
    }
    Frame::error(e)
}

fn failover(s: &mut Sentinel, m: usize) -> Frame {
    if s.masters[m].inst.has(FAILOVER_IN_PROGRESS) {
        return Frame::error_static("INPROG Failover already in progress");
    }
    if s.select_slave(m).is_none() {
        return Frame::error_static("NOGOODSLAVE No suitable replica to promote");
    }
    crate::log::warning(&format!("Executing user requested FAILOVER of '{}'", s.masters[m].name()));
    s.start_failover(m);
    s.masters[m].inst.flags |= FORCE_FAILOVER;
    Frame::ok()
}

fn reset(s: &mut Sentinel, pattern: &[u8]) -> Frame {
    let mut n = 0;
    for m in 0..s.masters.len() {
        if crate::glob::glob_match(pattern, s.masters[m].name().as_bytes(), false) {
            s.reset_master(m, false, true);
            n += 1;
        }
    }
    if n > 0 {
        s.config_dirty = true;
    }
    Frame::Integer(n)
}

fn info_cache(s: &Sentinel, names: &[Bytes]) -> Frame {
    let now = mstime();
    let chosen: Vec<usize> = if names.is_empty() {
        (0..s.masters.len()).collect()
    } else {
        let mut v: Vec<usize> = names.iter().filter_map(|n| s.master_by_name(&text(n))).collect();
        v.dedup();
        v
    };
    let entry = |refresh: i64, info: &str| {
        let age = if refresh != 0 { now - refresh } else { 0 };
        let body = if info.is_empty() { Frame::Null } else { Frame::bulk(info.to_string()) };
        Frame::Array(vec![Frame::Integer(age), body])
    };
    let mut out = Vec::new();
    for m in chosen {
        let master = &s.masters[m];
        out.push(Frame::bulk(master.name().to_string()));
        let mut infos = vec![entry(master.inst.info_refresh, &master.inst.info)];
        infos.extend(master.replicas.iter().map(|r| entry(r.info_refresh, &r.info)));
        out.push(Frame::Array(infos));
    }
    Frame::Array(out)
}

fn simulate_failure(s: &mut Sentinel, opts: &[Bytes]) -> Frame {
    s.simfailure_flags = 0;
    for o in opts {
        match lower(o).as_str() {
            "crash-after-election" => {
                s.simfailure_flags |= SIMFAILURE_CRASH_AFTER_ELECTION;
                crate::log::warning(
                    "Failure simulation: this Sentinel will crash after being successfully elected as failover leader",
                );
            }
            "crash-after-promotion" => {
                s.simfailure_flags |= SIMFAILURE_CRASH_AFTER_PROMOTION;
                crate::log::warning(
                    "Failure simulation: this Sentinel will crash after promoting the selected replica to master",
                );
            }
            "help" => {
                return Frame::Array(vec![Frame::bulk("crash-after-election"), Frame::bulk("crash-after-promotion")]);
            }
            _ => return Frame::error_static("ERR Unknown failure simulation specified"),
        }
    }
    Frame::ok()
}

fn help() -> Frame {
    let lines = [
        "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CKQUORUM <master-name>",
        "    Check if the current Sentinel configuration is able to reach the quorum",
        "    needed to failover a master and the majority needed to authorize the",
        "    failover.",
        "CONFIG SET <param> <value>",
        "    Set a global Sentinel configuration parameter.",
        "CONFIG GET <param>",
        "    Get global Sentinel configuration parameter.",
        "GET-MASTER-ADDR-BY-NAME <master-name>",
        "    Return the ip and port number of the master with that name.",
        "FAILOVER <master-name>",
        "    Manually failover a master node without asking for agreement from other",
        "    Sentinels",
        "FLUSHCONFIG",
        "    Force Sentinel to rewrite its configuration on disk, including the current",
        "    Sentinel state.",
        "INFO-CACHE <master-name>",
        "    Return last cached INFO output from masters and all its replicas.",
        "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
        "    Check if the master specified by ip:port is down from current Sentinel's",
        "    point of view.",
        "MASTER <master-name>",
        "    Show the state and info of the specified master.",
        "MASTERS",
        "    Show a list of monitored masters and their state.",
        "MONITOR <name> <ip> <port> <quorum>",
        "    Start monitoring a new master with the specified name, ip, port and quorum.",
        "MYID",
        "    Return the ID of the Sentinel instance.",
        "REMOVE <master-name>",
        "    Remove master from Sentinel's monitor list.",
        "REPLICAS <master-name>",
        "    Show a list of replicas for this master and their state.",
        "RESET <pattern>",
        "    Reset masters for specific master name matching this pattern.",
        "SENTINELS <master-name>",
        "    Show a list of Sentinel instances for this master and their state.",
        "SET <master-name> <option> <value> [<option> <value> ...]",
        "    Set configuration parameters for certain masters.",
        "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
        "    Simulate a Sentinel crash.",
        "HELP",
        "    Print this help.",
    ];
    Frame::Array(lines.iter().map(|l| Frame::Simple(Bytes::from_static(l.as_bytes()))).collect())
}
