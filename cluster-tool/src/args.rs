//! Command line of `slotbox-cluster`, shaped like `redis-cli --cluster`: a subcommand, its
//! positional arguments and `--cluster-*` options (same names, defaults and error lines),
//! plus redis-cli's `-a` / `--pass` / `--user` / `--no-auth-warning` / `--verbose`, and the
//! `REDISCLI_AUTH` / `REDISCLI_CLUSTER_YES` environment variables. Parsing only; no I/O
//! besides reading the environment.

use crate::conn::Auth;

/// Default `--cluster-timeout` (ms) for MIGRATE.
pub const DEFAULT_TIMEOUT_MS: u64 = 60000;
/// Default `--cluster-pipeline`: keys per GETKEYSINSLOT / MIGRATE round.
pub const DEFAULT_PIPELINE: usize = 10;
/// Default `--cluster-threshold` (percent) for rebalance.
pub const DEFAULT_THRESHOLD: f32 = 2.0;

/// Subcommands: name, arity (negative: at least that many), arguments, options.
pub const COMMANDS: &[(&str, i32, &str, &[&str])] = &[
    ("create", -2, "host1:port1 ... hostN:portN", &["replicas <arg>"]),
    ("check", -1, "host:port", &["search-multiple-owners"]),
    ("info", -1, "host:port", &[]),
    ("fix", -1, "host:port", &["search-multiple-owners", "fix-with-unreachable-masters"]),
    (
        "reshard",
        -1,
        "host:port",
        &["from <arg>", "to <arg>", "slots <arg>", "yes", "timeout <arg>", "pipeline <arg>", "replace"],
    ),
    (
        "rebalance",
        -1,
        "host:port",
        &[
            "weight <node1=w1...nodeN=wN>",
            "use-empty-masters",
            "timeout <arg>",
            "simulate",
            "pipeline <arg>",
            "threshold <arg>",
            "replace",
        ],
    ),
    ("add-node", 2, "new_host:new_port existing_host:existing_port", &["slave", "master-id <arg>"]),
    ("del-node", 2, "host:port node_id", &[]),
    ("call", -2, "host:port command arg arg .. arg", &["only-masters", "only-replicas"]),
    ("set-timeout", 2, "host:port milliseconds", &[]),
    ("help", 0, "", &[]),
];

/// Everything the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub command: String,
    pub args: Vec<String>,
    pub auth: Auth,
    pub replicas: usize,
    pub yes: bool,
    pub from: Option<String>,
    pub to: Option<String>,
    pub slots: usize,
    pub timeout_ms: u64,
    pub pipeline: usize,
    pub threshold: f32,
    pub weights: Vec<String>,
    pub use_empty_masters: bool,
    pub simulate: bool,
    pub replace: bool,
    pub slave: bool,
    pub master_id: Option<String>,
    pub search_multiple_owners: bool,
    pub fix_with_unreachable_masters: bool,
    pub only_masters: bool,
    pub only_replicas: bool,
    pub verbose: bool,
    /// Set by `fix` (check then repair).
    pub fix: bool,
    /// `-a` given on the command line (redis-cli then warns about it).
    pub password_on_command_line: bool,
    pub no_auth_warning: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            command: String::new(),
            args: Vec::new(),
            auth: Auth::default(),
            replicas: 0,
            yes: false,
            from: None,
            to: None,
            slots: 0,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            pipeline: DEFAULT_PIPELINE,
            threshold: DEFAULT_THRESHOLD,
            weights: Vec::new(),
            use_empty_masters: false,
            simulate: false,
            replace: false,
            slave: false,
            master_id: None,
            search_multiple_owners: false,
            fix_with_unreachable_masters: false,
            only_masters: false,
            only_replicas: false,
            verbose: false,
            fix: false,
            password_on_command_line: false,
            no_auth_warning: false,
        }
    }
}

/// Why the command line was refused (the message is printed as is, exit status 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, UsageError> {
    value.parse().map_err(|_| UsageError(format!("Invalid value for {flag}: '{value}'")))
}

/// Apply a flag that takes no value; false if `flag` is not one.
fn apply_switch(o: &mut Options, flag: &str) -> bool {
    let target = match flag {
        "--cluster-yes" => &mut o.yes,
        "--cluster-simulate" => &mut o.simulate,
        "--cluster-replace" => &mut o.replace,
        "--cluster-slave" | "--cluster-replica" => &mut o.slave,
        "--cluster-use-empty-masters" => &mut o.use_empty_masters,
        "--cluster-search-multiple-owners" => &mut o.search_multiple_owners,
        "--cluster-fix-with-unreachable-masters" => &mut o.fix_with_unreachable_masters,
        "--cluster-only-masters" => &mut o.only_masters,
        "--cluster-only-replicas" => &mut o.only_replicas,
        "--no-auth-warning" => &mut o.no_auth_warning,
        "--verbose" => &mut o.verbose,
        _ => return false,
    };
    *target = true;
    true
}

/// Apply a flag that takes one value; false if `flag` is not one.
fn apply_valued(o: &mut Options, flag: &str, v: &str) -> Result<bool, UsageError> {
    match flag {
        "-a" | "--pass" => {
            o.auth.pass = Some(v.to_string());
            o.password_on_command_line = true;
        }
        "--user" => o.auth.user = Some(v.to_string()),
        "--cluster-replicas" => o.replicas = number(flag, v)?,
        "--cluster-master-id" => o.master_id = Some(v.to_string()),
        "--cluster-from" => o.from = Some(v.to_string()),
        "--cluster-to" => o.to = Some(v.to_string()),
        "--cluster-slots" => o.slots = number(flag, v)?,
        "--cluster-timeout" => o.timeout_ms = number(flag, v)?,
        "--cluster-pipeline" => o.pipeline = number::<usize>(flag, v)?.max(1),
        "--cluster-threshold" => o.threshold = number(flag, v)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Parse `argv` (without the program name). `env` looks up environment variables.
pub fn parse(argv: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Options, UsageError> {
    let mut o = Options::default();
    let mut positional: Vec<String> = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let arg = argv[i].as_str();
        // After `call host:port command`, anything but a --cluster-* option is an argument.
        let passthrough = positional.len() >= 3 && positional[0] == "call" && !arg.starts_with("--cluster-");
        if passthrough || !arg.starts_with('-') || arg == "-" {
            positional.push(argv[i].clone());
        } else if arg == "--cluster" && positional.is_empty() {
            // `slotbox-cluster --cluster create ...` reads like redis-cli.
        } else if arg == "-h" || arg == "--help" {
            o.command = "help".into();
            return Ok(o);
        } else if arg == "-v" || arg == "--version" {
            o.command = "version".into();
            return Ok(o);
        } else if arg == "--cluster-weight" {
            i += take_weights(&mut o, &argv[i + 1..])?;
        } else if !apply_switch(&mut o, arg) {
            let known = match argv.get(i + 1) {
                Some(v) => apply_valued(&mut o, arg, v)?,
                None => false,
            };
            if !known {
                return Err(UsageError(format!("Unrecognized option or bad number of args for: '{arg}'")));
            }
            i += 1;
        }
        i += 1;
    }
    apply_env(&mut o, env);
    let mut positional = positional.into_iter();
    o.command = positional.next().unwrap_or_default();
    o.args = positional.collect();
    validate(&o)?;
    Ok(o)
}

/// `--cluster-weight id=w id=w ...`: takes the following `x=y` arguments; returns how many.
fn take_weights(o: &mut Options, rest: &[String]) -> Result<usize, UsageError> {
    if !o.weights.is_empty() {
        return Err(UsageError(
            "WARNING: you cannot use --cluster-weight more than once.\n\
             You can set more weights by adding them as a space-separated list, ie:\n\
             --cluster-weight n1=w n2=w"
                .into(),
        ));
    }
    let n = rest.iter().take_while(|a| !a.starts_with("--") && a.contains('=')).count();
    o.weights.extend(rest[..n].iter().cloned());
    Ok(n)
}

fn apply_env(o: &mut Options, env: impl Fn(&str) -> Option<String>) {
    if o.auth.pass.is_none() {
        o.auth.pass = env("REDISCLI_AUTH");
    }
    if env("REDISCLI_CLUSTER_YES").as_deref() == Some("1") {
        o.yes = true;
    }
}

fn validate(o: &Options) -> Result<(), UsageError> {
    if o.command.is_empty() {
        return Err(UsageError(help_text()));
    }
    let Some(&(_, arity, _, _)) = COMMANDS.iter().find(|c| c.0 == o.command) else {
        return Err(UsageError("Unknown --cluster subcommand".into()));
    };
    let n = o.args.len() as i32;
    if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
        return Err(UsageError("[ERR] Wrong number of arguments for specified --cluster sub command".into()));
    }
    Ok(())
}

/// Split `host:port[@busport]` (IPv6 hosts keep their colons).
pub fn parse_host_port(addr: &str) -> Option<(String, u16)> {
    let addr = addr.rsplit_once('@').map_or(addr, |(a, _)| a);
    let (host, port) = addr.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    (!host.is_empty() && port != 0).then(|| (host.to_string(), port))
}

/// The `host:port` of a one-address subcommand: `host:port` or `host port`.
pub fn single_host(args: &[String]) -> Option<(String, u16)> {
    match args {
        [addr] => parse_host_port(addr),
        [host, port, ..] if !host.contains(':') => Some((host.clone(), port.parse().ok().filter(|p| *p != 0)?)),
        [addr, ..] => parse_host_port(addr),
        [] => None,
    }
}

/// redis-cli's message for a bad address argument.
pub const INVALID_HOST_ARG: &str = "[ERR] Invalid arguments: you need to pass either a valid address \
(ie. 120.0.0.1:7000) or space separated IP and port (ie. 120.0.0.1 7000)";

/// The subcommand list printed by `help`.
pub fn help_text() -> String {
    let mut s = String::from("Usage: slotbox-cluster [-a password] [--user name] <command> [args...] [opts...]\n\n");
    s.push_str("Cluster Manager Commands:\n");
    for (name, _, args, opts) in COMMANDS {
        s.push_str(&format!("  {name:<15}{args}\n"));
        for opt in *opts {
            s.push_str(&format!("{:17}--cluster-{opt}\n", ""));
        }
    }
    s.push_str(&format!("\nSimulation (no cluster needed):\n  {}\n", crate::ring_sim::USAGE));
    s.push_str(
        "\nFor check, fix, reshard, del-node, set-timeout you can specify the host and port of \
         any working node in the cluster.\n\nCluster Manager Options:\n  \
         --cluster-yes  Automatic yes to cluster commands prompts\n",
    );
    s
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
