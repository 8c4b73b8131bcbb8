//! The `sentinel <directive> ...` lines of a sentinel's config file (Redis's
//! `sentinelHandleConfiguration`), with Redis's error strings.

use super::settings::{yes_no, MasterSpec, Parsed};

const NO_MASTER: &str = "No such master with specified name.";

fn master<'a>(p: &'a mut Parsed, name: &str) -> Result<&'a mut MasterSpec, String> {
    p.masters.iter_mut().find(|m| m.name == name).ok_or_else(|| NO_MASTER.to_string())
}

fn positive_ms(v: &str) -> Result<i64, String> {
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("negative or zero time parameter.".into()),
    }
}

/// A valid run id: 40 hex characters.
pub fn valid_runid(id: &str) -> bool {
    id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn parse_port(v: &str) -> Result<u16, String> {
    match v.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err("Invalid port number".into()),
    }
}

pub fn apply(p: &mut Parsed, a: &[String]) -> Result<(), String> {
    let d = a[0].to_ascii_lowercase();
    match (d.as_str(), a.len()) {
        ("monitor", 5) => {
            let quorum: i64 = a[4].parse().unwrap_or(0);
            if quorum <= 0 {
                return Err("Quorum must be 1 or greater.".into());
            }
            if p.masters.iter().any(|m| m.name == a[1]) {
                return Err("Duplicate master name.".into());
            }
            if a[2].parse::<std::net::IpAddr>().is_err() {
                return Err("Can't resolve instance hostname.".into());
            }
            let port = parse_port(&a[3])?;
            p.masters.push(MasterSpec {
                name: a[1].clone(),
                ip: a[2].clone(),
                port,
                quorum: quorum as u32,
                ..Default::default()
            });
        }
        ("down-after-milliseconds", 3) => master(p, &a[1])?.down_after = Some(positive_ms(&a[2])?),
        ("failover-timeout", 3) => master(p, &a[1])?.failover_timeout = Some(positive_ms(&a[2])?),
        ("parallel-syncs", 3) => {
            let n = a[2].parse::<u32>().map_err(|_| "Invalid parallel-syncs value".to_string())?;
            master(p, &a[1])?.parallel_syncs = Some(n);
        }
        ("auth-pass", 3) => master(p, &a[1])?.auth_pass = Some(a[2].clone()),
        ("auth-user", 3) => master(p, &a[1])?.auth_user = Some(a[2].clone()),
        ("current-epoch", 2) => p.current_epoch = p.current_epoch.max(a[1].parse().unwrap_or(0)),
        ("myid", 2) => {
            if !valid_runid(&a[1]) {
                return Err("Malformed Sentinel id in myid option.".into());
            }
            p.myid = Some(a[1].to_ascii_lowercase());
        }
        ("config-epoch", 3) => {
            let e = a[2].parse().unwrap_or(0);
            master(p, &a[1])?.config_epoch = e;
            p.current_epoch = p.current_epoch.max(e);
        }
        ("leader-epoch", 3) => master(p, &a[1])?.leader_epoch = a[2].parse().unwrap_or(0),
        ("known-slave" | "known-replica", 4) => {
            let port = parse_port(&a[3])?;
            master(p, &a[1])?.known_replicas.push((a[2].clone(), port));
        }
        ("known-sentinel", 4 | 5) => {
            let port = parse_port(&a[3])?;
            let runid = a.get(4).cloned().unwrap_or_default();
            if !valid_runid(&runid) {
                return Err("Malformed Sentinel id in known-sentinel option.".into());
            }
            master(p, &a[1])?.known_sentinels.push((a[2].clone(), port, runid));
        }
        ("announce-ip", 2) => p.settings.announce_ip = (!a[1].is_empty()).then(|| a[1].clone()),
        ("announce-port", 2) => {
            p.settings.announce_port = a[1].parse().map_err(|_| "Invalid port number".to_string())?
        }
        ("deny-scripts-reconfig", 2) => {
            p.settings.deny_scripts_reconfig = yes_no(&a[1])
                .map_err(|_| "Please specify yes or no for the deny-scripts-reconfig options.".to_string())?
        }
        ("sentinel-user", 2) => p.settings.sentinel_user = (!a[1].is_empty()).then(|| a[1].clone()),
        ("sentinel-pass", 2) => p.settings.sentinel_pass = (!a[1].is_empty()).then(|| a[1].clone()),
        // Written by Redis's own config rewrite; slotbox sentinels work with IP addresses only.
        ("resolve-hostnames" | "announce-hostnames", 2) => match yes_no(&a[1]) {
            Ok(false) => {}
            Ok(true) => return Err("Hostnames are not supported by slotbox sentinels: use IP addresses.".into()),
            Err(_) => return Err(format!("Please specify yes or no for the {d} option.")),
        },
        _ => return Err("Unrecognized sentinel configuration statement.".into()),
    }
    Ok(())
}
