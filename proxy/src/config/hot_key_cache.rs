//! A pool's `hot_key_cache:` (a slotbox extension of nutcracker.yml): the near cache for hot
//! keys, off unless the key is present. Parsing only; the cache itself is `crate::hot_cache`.
//!
//! ```yaml
//! hot_key_cache: {size: 1000, ttl_ms: 1000, min_hits: 50}
//! ```

use yaml_rust2::Yaml;

/// The near cache's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotKeyCache {
    /// Most keys held (per worker thread).
    pub size: usize,
    /// Longest a reply is served from memory, whatever the invalidations.
    pub ttl_ms: u64,
    /// Reads of a key within one second (on one worker) that make it hot, so that its next
    /// read fills the cache.
    pub min_hits: u32,
}

impl Default for HotKeyCache {
    fn default() -> Self {
        HotKeyCache { size: 10_000, ttl_ms: 1000, min_hits: 100 }
    }
}

/// Most keys one worker may hold (a bound against a typo costing gigabytes).
const MAX_SIZE: u64 = 10_000_000;
/// Longest TTL: one day.
const MAX_TTL_MS: u64 = 86_400_000;

/// Parse the value of `hot_key_cache:` (a mapping; `false` turns it off).
pub fn parse(v: &Yaml) -> Result<Option<HotKeyCache>, String> {
    let map = match v {
        Yaml::Boolean(false) => return Ok(None),
        Yaml::Hash(m) => m,
        _ => return Err("must be a mapping {size, ttl_ms, min_hits} (or false)".into()),
    };
    let mut c = HotKeyCache::default();
    for (k, v) in map {
        let name = match k {
            Yaml::String(s) => s.as_str(),
            _ => return Err("has a key that is not a string".into()),
        };
        let n = match v {
            Yaml::Integer(i) if *i >= 0 => *i as u64,
            _ => return Err(format!("{name} is not a number")),
        };
        match name {
            "size" if (1..=MAX_SIZE).contains(&n) => c.size = n as usize,
            "size" => return Err(format!("size must be between 1 and {MAX_SIZE}")),
            "ttl_ms" if (1..=MAX_TTL_MS).contains(&n) => c.ttl_ms = n,
            "ttl_ms" => return Err(format!("ttl_ms must be between 1 and {MAX_TTL_MS}")),
            "min_hits" => c.min_hits = u32::try_from(n).map_err(|_| "min_hits is too large".to_string())?,
            other => return Err(format!("{other} is unknown (size, ttl_ms, min_hits)")),
        }
    }
    Ok(Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::YamlLoader;

    fn p(text: &str) -> Result<Option<HotKeyCache>, String> {
        parse(&YamlLoader::load_from_str(text).unwrap()[0])
    }

    #[test]
    fn values_defaults_and_errors() {
        assert_eq!(
            p("{size: 5, ttl_ms: 250, min_hits: 2}").unwrap(),
            Some(HotKeyCache { size: 5, ttl_ms: 250, min_hits: 2 })
        );
        assert_eq!(p("{size: 5}").unwrap(), Some(HotKeyCache { size: 5, ..HotKeyCache::default() }));
        assert_eq!(p("false").unwrap(), None);
        for (text, says) in [
            ("{size: 0}", "size must be between"),
            ("{ttl_ms: 0}", "ttl_ms must be between"),
            ("{ttl_ms: soon}", "ttl_ms is not a number"),
            ("{size: -1}", "size is not a number"),
            ("{colour: 1}", "colour is unknown"),
            ("true", "must be a mapping"),
            ("{min_hits: 99999999999}", "too large"),
        ] {
            let e = p(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
