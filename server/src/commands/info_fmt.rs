//! The text shapes of INFO: `name:value` lines, fixed lines, Redis's `bytesToHuman`, and
//! reading a procfs file. Shared by the section files; no server state here.

use std::fmt::Write;

/// Append `name:value\r\n`.
pub fn field(out: &mut String, name: &str, value: impl std::fmt::Display) {
    let _ = write!(out, "{name}:{value}\r\n");
}

/// Append the fixed `name:value` lines of `lines` (separated by whitespace).
pub fn fixed(out: &mut String, lines: &str) {
    for kv in lines.split_ascii_whitespace() {
        out.push_str(kv);
        out.push_str("\r\n");
    }
}

pub fn read_proc(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Redis's `bytesToHuman`: B, then K/M/G/T/P with two decimals.
pub fn human_bytes(n: u64) -> String {
    if n < 1024 {
        return format!("{n}B");
    }
    let mut d = n as f64 / 1024.0;
    for unit in ["K", "M", "G", "T", "P"] {
        if d < 1024.0 {
            return format!("{d:.2}{unit}");
        }
        d /= 1024.0;
    }
    format!("{n}B")
}
