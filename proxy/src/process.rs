//! The process metrics every Prometheus client library exports (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_open_fds`,
//! `process_max_fds`, `process_start_time_seconds`), read from getrusage, getrlimit and
//! procfs when the metrics endpoint is scraped. A value that cannot be read is left out.

use std::fmt::Write as _;

/// Append the process families to `o`.
pub fn render(o: &mut String) {
    let mut put = |name: &str, kind: &str, help: &str, v: Option<f64>| {
        if let Some(v) = v {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
    };
    put("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu_seconds());
    let (virt, rss) = memory().unzip();
    put("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", virt);
    put("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss);
    put("process_open_fds", "gauge", "Number of open file descriptors.", open_fds());
    put("process_max_fds", "gauge", "Maximum number of open file descriptors.", max_fds());
    put("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", start_time());
}

fn cpu_seconds() -> Option<f64> {
    // SAFETY: `rusage` is plain data, valid zeroed; getrusage writes only into it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return None;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(secs(ru.ru_utime) + secs(ru.ru_stime))
}

fn page_size() -> f64 {
    // SAFETY: sysconf reads a system constant; no pointers.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as f64
    } else {
        4096.0
    }
}

/// (virtual, resident) bytes from `/proc/self/statm`.
fn memory() -> Option<(f64, f64)> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut f = statm.split_whitespace().map(|v| v.parse::<f64>().ok());
    let (size, resident) = (f.next()??, f.next()??);
    Some((size * page_size(), resident * page_size()))
}

fn open_fds() -> Option<f64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

fn max_fds() -> Option<f64> {
    // SAFETY: `rlimit` is plain data; getrlimit writes only into it.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return None;
    }
    Some(rl.rlim_cur as f64)
}

/// Boot time (`btime` of /proc/stat) plus the process's start in clock ticks after boot
/// (field 22 of /proc/self/stat).
fn start_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: fields count from after its ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let ticks: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let btime: f64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: sysconf reads a system constant; no pointers.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| btime + ticks / hz as f64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_family_has_a_plausible_value() {
        let mut o = String::new();
        super::render(&mut o);
        let value = |name: &str| -> f64 {
            o.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} in {o}"))
                .parse()
                .unwrap()
        };
        assert!(value("process_resident_memory_bytes") > 1e5);
        assert!(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
        assert!(value("process_open_fds") >= 3.0 && value("process_max_fds") >= value("process_open_fds"));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        let start = value("process_start_time_seconds");
        assert!(start <= now + 1.0 && start > now - 86400.0 * 365.0, "{start} vs {now}");
        assert!(value("process_cpu_seconds_total") >= 0.0);
    }
}
