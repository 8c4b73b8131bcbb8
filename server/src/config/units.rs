//! The `client-output-buffer-limit` value: groups of `<class> <hard> <soft> <soft-seconds>`
//! read as Redis reads them, and the canonical text CONFIG GET prints.

use super::numbers::{memtoull, strtoll};
use super::values::{ClientClass, Limits};

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
        let (hard, soft, secs) = (memtoull(group[1]), memtoull(group[2]), strtoll(group[3], 10));
        let (Some(hard), Some(soft), Some(soft_secs)) = (hard, soft, secs.filter(|s| *s >= 0)) else {
            return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
        };
        let limit = Limits { hard: hard as usize, soft: soft as usize, soft_secs: soft_secs as u64 };
        parsed.push((class, limit));
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

/// The limits a text of [`format_output_limits`] describes (Redis's defaults where it says
/// nothing).
pub fn read_output_limits(text: &str) -> [Limits; 3] {
    let mut limits = [Limits::NORMAL, Limits::REPLICA, Limits::PUBSUB];
    let words: Vec<&str> = text.split_whitespace().collect();
    let _ = parse_output_limits(&words, &mut limits);
    limits
}
