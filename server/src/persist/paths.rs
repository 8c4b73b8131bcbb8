//! Where persistence keeps its files, and the `save` rules' syntax.

use std::path::PathBuf;

/// `dir/appenddirname/appendfilename`.
pub fn aof_path(c: &crate::config::Config) -> PathBuf {
    c.dir.join(&c.appenddirname).join(&c.appendfilename)
}

/// `dir/dbfilename`.
pub fn snapshot_path(c: &crate::config::Config) -> PathBuf {
    c.dir.join(&c.dbfilename)
}

/// `save` rules as (seconds, changes) pairs.
pub fn save_rules(save: &str) -> Vec<(u64, u64)> {
    let nums: Vec<u64> = save.split_whitespace().filter_map(|s| s.parse().ok()).collect();
    nums.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_save_rules() {
        assert_eq!(save_rules("3600 1 300 100"), vec![(3600, 1), (300, 100)]);
        assert!(save_rules("").is_empty());
    }
}
