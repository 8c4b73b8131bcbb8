//! The command line of `slotbox-cluster ring-sim`: `--nodes N (--add N | --remove N)
//! [--keys N] [--hash NAME] [--vnodes N]`. Parsing and validation only.

use slotbox_partition::hash::HashKind;
use slotbox_partition::router::POINTS_PER_SERVER;

/// Usage line, also printed by `slotbox-cluster help`.
pub const USAGE: &str = "ring-sim --nodes <n> (--add <n> | --remove <n>) [--keys <n>] [--hash <name>] [--vnodes <n>]";

/// Most nodes and keys a simulation takes (bounds on memory and time, far above any sandbox).
const MAX_NODES: usize = 1000;
const MAX_KEYS: usize = 10_000_000;
/// Most key × node scores (rendezvous scores every node for every key).
const MAX_WORK: usize = 200_000_000;
/// Most ketama points on one ring.
const MAX_POINTS: usize = 10_000_000;

/// Whether servers join or leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add(usize),
    Remove(usize),
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimArgs {
    pub nodes: usize,
    pub change: Change,
    pub keys: usize,
    pub hash: HashKind,
    /// Ketama points per server of weight 1.
    pub vnodes: u32,
}

impl SimArgs {
    /// Nodes after the change.
    pub fn nodes_after(&self) -> usize {
        match self.change {
            Change::Add(n) => self.nodes + n,
            Change::Remove(n) => self.nodes - n,
        }
    }
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<&String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("ring-sim: {flag} needs a value"))?;
    v.parse().map_err(|_| format!("ring-sim: invalid value for {flag}: '{v}'"))
}

/// Parse the arguments after `ring-sim`.
pub fn parse(argv: &[String]) -> Result<SimArgs, String> {
    let (mut nodes, mut add, mut remove) = (None, None, None);
    let (mut keys, mut hash, mut vnodes) = (100_000usize, HashKind::Fnv1a64, POINTS_PER_SERVER);
    let mut i = 0;
    while i < argv.len() {
        let flag = argv[i].as_str();
        let value = argv.get(i + 1);
        match flag {
            "--nodes" => nodes = Some(number::<usize>(flag, value)?),
            "--add" => add = Some(number::<usize>(flag, value)?),
            "--remove" => remove = Some(number::<usize>(flag, value)?),
            "--keys" => keys = number(flag, value)?,
            "--vnodes" => vnodes = number(flag, value)?,
            "--hash" => {
                let name = value.ok_or("ring-sim: --hash needs a value")?;
                hash = HashKind::from_name(name).ok_or_else(|| {
                    let names: Vec<&str> = HashKind::ALL.iter().map(|(_, n)| *n).collect();
                    format!("ring-sim: unknown hash '{name}' (one of: {})", names.join(", "))
                })?;
            }
            _ => return Err(format!("ring-sim: unrecognized option '{flag}'\nUsage: slotbox-cluster {USAGE}")),
        }
        i += 2;
    }
    let nodes = nodes.ok_or_else(|| format!("ring-sim: --nodes is required\nUsage: slotbox-cluster {USAGE}"))?;
    let change = match (add, remove) {
        (Some(_), Some(_)) => return Err("ring-sim: give --add or --remove, not both".into()),
        (None, None) => {
            return Err(format!("ring-sim: give --add <n> or --remove <n>\nUsage: slotbox-cluster {USAGE}"))
        }
        (Some(n), None) => Change::Add(n),
        (None, Some(n)) => Change::Remove(n),
    };
    validate(SimArgs { nodes, change, keys, hash, vnodes })
}

fn validate(a: SimArgs) -> Result<SimArgs, String> {
    if a.nodes == 0 || a.nodes > MAX_NODES {
        return Err(format!("ring-sim: --nodes must be between 1 and {MAX_NODES}"));
    }
    match a.change {
        Change::Add(0) | Change::Remove(0) => return Err("ring-sim: --add / --remove must be at least 1".into()),
        Change::Add(n) if a.nodes + n > MAX_NODES => {
            return Err(format!("ring-sim: at most {MAX_NODES} nodes after --add"));
        }
        Change::Remove(n) if n >= a.nodes => {
            return Err(format!("ring-sim: --remove {n} would leave no node of {}", a.nodes));
        }
        _ => {}
    }
    if a.keys == 0 || a.keys > MAX_KEYS {
        return Err(format!("ring-sim: --keys must be between 1 and {MAX_KEYS}"));
    }
    if a.vnodes < 4 || !a.vnodes.is_multiple_of(4) || a.vnodes > 100_000 {
        return Err(format!(
            "ring-sim: --vnodes must be a multiple of 4 between 4 and 100000 (each MD5 gives four ketama points), got {}",
            a.vnodes
        ));
    }
    let most = a.nodes.max(a.nodes_after());
    if a.keys * most > MAX_WORK {
        return Err(format!(
            "ring-sim: --keys x nodes must be at most {MAX_WORK} (rendezvous scores every node per key)"
        ));
    }
    if a.vnodes as usize * most > MAX_POINTS {
        return Err(format!("ring-sim: --vnodes x nodes must be at most {MAX_POINTS} ketama points"));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<SimArgs, String> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn defaults_and_flags() {
        let a = p("--nodes 4 --add 1").unwrap();
        assert_eq!((a.nodes, a.change, a.keys, a.hash, a.vnodes), (4, Change::Add(1), 100_000, HashKind::Fnv1a64, 160));
        let a = p("--nodes 5 --remove 2 --keys 10 --hash murmur --vnodes 40").unwrap();
        assert_eq!(
            (a.change, a.keys, a.hash, a.vnodes, a.nodes_after()),
            (Change::Remove(2), 10, HashKind::Murmur, 40, 3)
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        for (line, says) in [
            ("--add 1", "--nodes is required"),
            ("--nodes 4", "--add <n> or --remove <n>"),
            ("--nodes 4 --add 1 --remove 1", "not both"),
            ("--nodes 4 --remove 4", "would leave no node"),
            ("--nodes 0 --add 1", "--nodes must be"),
            ("--nodes 4 --add 0", "at least 1"),
            ("--nodes 4 --add 1 --keys 0", "--keys must be"),
            ("--nodes 4 --add 1 --vnodes 150", "multiple of 4"),
            ("--nodes 4 --add 1 --hash sha1", "unknown hash 'sha1'"),
            ("--nodes four --add 1", "invalid value for --nodes: 'four'"),
            ("--nodes 4 --add", "--add needs a value"),
            ("--nodes 4 --add 1 --bogus 2", "unrecognized option '--bogus'"),
            ("--nodes 1000 --add 1", "at most 1000 nodes"),
            ("--nodes 500 --add 1 --keys 10000000", "--keys x nodes"),
            ("--nodes 500 --add 1 --keys 1000 --vnodes 40000", "--vnodes x nodes"),
        ] {
            let e = p(line).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
    }
}
