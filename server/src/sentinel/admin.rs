//! Changing what a sentinel monitors at run time: SENTINEL MONITOR, REMOVE, SET,
//! CONFIG GET/SET and FLUSHCONFIG, each persisted to the config file as Redis does.

use super::ctx::lower;
use super::instance::*;
use super::state::{Level, Loc, Sentinel};
use bytes::Bytes;
use slotbox_protocol::frame::Frame;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Rewrite the config file now; OK, or Redis's error when it cannot be written.
pub fn flush_and_reply(s: &mut Sentinel) -> Frame {
    s.config_dirty = false;
    if s.settings.config_file.is_none() {
        return Frame::ok();
    }
    match super::rewrite::flush(s) {
        Ok(()) => Frame::ok(),
        Err(e) => {
            crate::log::warning(&format!("Failed to save config file: {e}"));
            Frame::error_static("ERR Failed to save config file")
        }
    }
}

/// `SENTINEL MONITOR <name> <ip> <port> <quorum>`.
pub fn monitor(s: &mut Sentinel, args: &[Bytes]) -> Frame {
    let Ok(quorum) = text(&args[5]).parse::<i64>() else { return Frame::error_static("ERR Invalid quorum") };
    let Ok(port) = text(&args[4]).parse::<i64>() else { return Frame::error_static("ERR Invalid port") };
    if quorum <= 0 {
        return Frame::error_static("ERR Quorum must be 1 or greater.");
    }
    let ip = text(&args[3]);
    if ip.parse::<std::net::IpAddr>().is_err() {
        return Frame::error_static("ERR Invalid IP address or hostname specified");
    }
    let name = text(&args[2]);
    if s.master_by_name(&name).is_some() {
        return Frame::error_static("ERR Duplicate master name.");
    }
    if !(1..=65535).contains(&port) {
        return Frame::error_static("ERR Invalid port number");
    }
    let id = s.next_id();
    s.masters.push(Master::new(id, &name, Addr::new(&ip, port as u16), quorum as u32));
    let reply = flush_and_reply(s);
    let m = s.masters.len() - 1;
    s.event_at(Level::Warning, "+monitor", Loc::master(m), &format!(" quorum {quorum}"));
    reply
}

/// `SENTINEL REMOVE <name>`.
pub fn remove(s: &mut Sentinel, m: usize) -> Frame {
    s.event_at(Level::Warning, "-monitor", Loc::master(m), "");
    s.masters.remove(m);
    flush_and_reply(s)
}

fn positive(v: &str) -> Option<i64> {
    v.parse::<i64>().ok().filter(|&n| n > 0)
}

/// `SENTINEL SET <name> <option> <value> [<option> <value> ...]`.
pub fn set(s: &mut Sentinel, m: usize, opts: &[Bytes]) -> Frame {
    for (changes, pair) in opts.chunks(2).enumerate() {
        let (option, value) = (text(&pair[0]), text(&pair[1]));
        let master = &mut s.masters[m];
        let ok = match lower(&pair[0]).as_str() {
            "down-after-milliseconds" => positive(&value).map(|n| master.down_after = n).is_some(),
            "failover-timeout" => positive(&value).map(|n| master.failover_timeout = n).is_some(),
            "parallel-syncs" => positive(&value).map(|n| master.parallel_syncs = n as u32).is_some(),
            "quorum" => positive(&value).map(|n| master.quorum = n as u32).is_some(),
            "auth-pass" => {
                master.auth_pass = (!value.is_empty()).then(|| value.clone());
                master.inst.link.cc = None;
                master.inst.link.pc = None;
                true
            }
            "auth-user" => {
                master.auth_user = (!value.is_empty()).then(|| value.clone());
                master.inst.link.cc = None;
                master.inst.link.pc = None;
                true
            }
            _ => {
                if changes > 0 {
                    s.config_dirty = true;
                }
                return Frame::error(format!("ERR Unknown option or number of arguments for SENTINEL SET '{option}'"));
            }
        };
        if !ok {
            if changes > 0 {
                s.config_dirty = true;
            }
            return Frame::error(format!("ERR Invalid argument '{value}' for SENTINEL SET '{option}'"));
        }
        let redacted = lower(&pair[0]) == "auth-pass";
        let shown = if redacted { "******".to_string() } else { value };
        s.event_at(Level::Warning, "+set", Loc::master(m), &format!(" {option} {shown}"));
    }
    flush_and_reply(s)
}

/// `SENTINEL CONFIG GET <pattern>` / `SENTINEL CONFIG SET <option> <value>`.
pub fn config(s: &mut Sentinel, args: &[Bytes]) -> Frame {
    match (lower(&args[0]).as_str(), args.len()) {
        ("get", 2) => config_get(s, &args[1]),
        ("set", 3) => config_set(s, &text(&args[1]), &text(&args[2])),
        _ => Frame::error_static("ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported."),
    }
}

fn config_get(s: &Sentinel, pattern: &[u8]) -> Frame {
    let st = &s.settings;
    let items: [(&str, String); 6] = [
        ("resolve-hostnames", "no".into()),
        ("announce-hostnames", "no".into()),
        ("announce-ip", st.announce_ip.clone().unwrap_or_default()),
        ("announce-port", st.announce_port.to_string()),
        ("sentinel-user", st.sentinel_user.clone().unwrap_or_default()),
        ("sentinel-pass", st.sentinel_pass.clone().unwrap_or_default()),
    ];
    Frame::Map(
        items
            .into_iter()
            .filter(|(k, _)| crate::glob::glob_match(pattern, k.as_bytes(), true))
            .map(|(k, v)| (Frame::bulk(k.to_string()), Frame::bulk(v)))
            .collect(),
    )
}

fn config_set(s: &mut Sentinel, option: &str, value: &str) -> Frame {
    let bad = || Frame::error(format!("ERR Invalid value '{value}' to SENTINEL CONFIG SET '{option}'"));
    let mut drop_conns = false;
    match option.to_ascii_lowercase().as_str() {
        "resolve-hostnames" | "announce-hostnames" => match value.to_ascii_lowercase().as_str() {
            "no" => {}
            "yes" => return Frame::error_static("ERR hostnames are not supported by slotbox sentinels"),
            _ => return bad(),
        },
        "announce-ip" => s.settings.announce_ip = (!value.is_empty()).then(|| value.to_string()),
        "announce-port" => match value.parse::<u16>() {
            Ok(p) => s.settings.announce_port = p,
            Err(_) => return bad(),
        },
        "sentinel-user" => {
            s.settings.sentinel_user = (!value.is_empty()).then(|| value.to_string());
            drop_conns = true;
        }
        "sentinel-pass" => {
            s.settings.sentinel_pass = (!value.is_empty()).then(|| value.to_string());
            drop_conns = true;
        }
        _ => return Frame::error(format!("ERR Invalid argument '{option}' to SENTINEL CONFIG SET")),
    }
    let reply = flush_and_reply(s);
    if drop_conns {
        for m in &mut s.masters {
            for si in &mut m.sentinels {
                si.link.cc = None;
            }
        }
    }
    reply
}
