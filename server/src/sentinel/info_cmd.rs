//! INFO on a sentinel: the `server`, `clients`, `stats` and `sentinel` sections, as Redis
//! 7.0 prints them in sentinel mode.

use super::ctx::lower;
use super::instance::*;
use super::state::Sentinel;
use bytes::Bytes;
use slotbox_protocol::frame::Frame;

const SECTIONS: [&str; 4] = ["server", "clients", "stats", "sentinel"];

pub fn info(s: &Sentinel, clients: usize, args: &[Bytes]) -> Frame {
    let wanted: Vec<String> = args[1..].iter().map(|a| lower(a)).collect();
    let all = wanted.is_empty() || wanted.iter().any(|w| matches!(w.as_str(), "all" | "default" | "everything"));
    let mut out = String::new();
    for sec in SECTIONS {
        if !all && !wanted.iter().any(|w| w == sec) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        match sec {
            "server" => server(s, &mut out),
            "clients" => out.push_str(&format!("# Clients\r\nconnected_clients:{clients}\r\n")),
            "stats" => out.push_str(&format!(
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\n",
                s.total_connections, s.total_commands
            )),
            _ => sentinel(s, &mut out),
        }
    }
    Frame::Verbatim("txt", Bytes::from(out))
}

fn server(s: &Sentinel, out: &mut String) {
    let uptime = (mstime() - s.start_time) / 1000;
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    let conf = s.settings.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    out.push_str(&format!(
        "# Server\r\nredis_version:{}\r\nredis_mode:sentinel\r\nos:{} {}\r\narch_bits:64\r\nprocess_id:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nexecutable:{exe}\r\nconfig_file:{conf}\r\n",
        crate::core::REDIS_VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::process::id(),
        s.myid,
        s.settings.port,
        uptime / 86400,
    ));
}

fn sentinel(s: &Sentinel, out: &mut String) {
    let tilt_since = if s.tilt { (mstime() - s.tilt_start_time) / 1000 } else { -1 };
    out.push_str(&format!(
        "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\nsentinel_tilt_since_seconds:{tilt_since}\r\nsentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:{}\r\n",
        s.masters.len(),
        s.tilt as u8,
        s.simfailure_flags
    ));
    for (i, m) in s.masters.iter().enumerate() {
        let status = if m.inst.has(O_DOWN) {
            "odown"
        } else if m.inst.has(S_DOWN) {
            "sdown"
        } else {
            "ok"
        };
        let a = m.current_addr();
        out.push_str(&format!(
            "master{i}:name={},status={status},address={}:{},slaves={},sentinels={}\r\n",
            m.name(),
            a.ip,
            a.port,
            m.replicas.len(),
            m.sentinels.len() + 1
        ));
    }
}
