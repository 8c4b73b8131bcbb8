//! Value syntaxes shared by directives: Redis memory units and the
//! `client-output-buffer-limit` groups.

use super::values::{ClientClass, Limits};

/// Redis memory units: plain bytes, k/kb/m/mb/g/gb (k = 1000, kb = 1024), case-insensitive.
pub fn parse_memory(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    let (digits, mul): (&str, usize) = [
        ("gb", 1024 * 1024 * 1024),
        ("mb", 1024 * 1024),
        ("kb", 1024),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suf, m)| lower.strip_suffix(suf).map(|d| (d, *m)))
    .unwrap_or((lower.as_str(), 1));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_mul(mul)
}

/// `client-output-buffer-limit` words: groups of `<class> <hard> <soft> <soft-seconds>`
/// (class `normal`, `replica` / `slave` or `pubsub`; sizes with memory units), checked
/// whole before any is applied to `limits`. Errors are Redis's.
pub fn parse_output_limits(words: &[&str], limits: &mut [Limits; 3]) -> Result<(), String> {
    // No words changes nothing (Redis answers OK too).
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut parsed = Vec::new();
    for group in words.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => ClientClass::Normal,
            "replica" | "slave" => ClientClass::Replica,
            "pubsub" => ClientClass::Pubsub,
            _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
        };
        let (hard, soft, secs) = (parse_memory(group[1]), parse_memory(group[2]), group[3].parse::<u64>());
        let (Some(hard), Some(soft), Ok(soft_secs)) = (hard, soft, secs) else {
            return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
        };
        parsed.push((class, Limits { hard, soft, soft_secs }));
    }
    for (class, l) in parsed {
        limits[class as usize] = l;
    }
    Ok(())
}

/// CONFIG GET's form: `normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60`.
pub fn format_output_limits(limits: &[Limits; 3]) -> String {
    let classes = [ClientClass::Normal, ClientClass::Replica, ClientClass::Pubsub];
    let groups: Vec<String> = classes
        .iter()
        .map(|&c| {
            let l = limits[c as usize];
            format!("{} {} {} {}", c.name(), l.hard, l.soft, l.soft_secs)
        })
        .collect();
    groups.join(" ")
}
