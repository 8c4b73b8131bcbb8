//! Unit tests of command-line parsing in `args.rs`.

use super::*;

fn argv(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn create_with_replicas_and_yes() {
    let o =
        parse(&argv("create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 --cluster-replicas 1 --cluster-yes"), no_env)
            .unwrap();
    assert_eq!(o.command, "create");
    assert_eq!(o.args.len(), 3);
    assert_eq!((o.replicas, o.yes), (1, true));
    assert_eq!((o.timeout_ms, o.pipeline, o.threshold), (60000, 10, 2.0));
}

#[test]
fn redis_cli_style_prefix_and_auth() {
    let o = parse(&argv("-a secret --user bob --cluster check 127.0.0.1 7000"), no_env).unwrap();
    assert_eq!(o.command, "check");
    assert_eq!(single_host(&o.args), Some(("127.0.0.1".to_string(), 7000)));
    assert_eq!((o.auth.user.as_deref(), o.auth.pass.as_deref()), (Some("bob"), Some("secret")));
    assert!(o.password_on_command_line);
}

#[test]
fn reshard_and_rebalance_options() {
    let o = parse(
        &argv("reshard h:1 --cluster-from a,b --cluster-to c --cluster-slots 1000 --cluster-pipeline 50 --cluster-timeout 5000 --cluster-replace"),
        no_env,
    )
    .unwrap();
    assert_eq!((o.from.as_deref(), o.to.as_deref(), o.slots), (Some("a,b"), Some("c"), 1000));
    assert_eq!((o.pipeline, o.timeout_ms, o.replace), (50, 5000, true));
    let o = parse(
        &argv("rebalance h:1 --cluster-weight ab=2 cd=0.5 --cluster-use-empty-masters --cluster-threshold 1.5"),
        no_env,
    )
    .unwrap();
    assert_eq!(o.weights, vec!["ab=2", "cd=0.5"]);
    assert!(o.use_empty_masters);
    assert_eq!(o.threshold, 1.5);
}

#[test]
fn call_passes_dash_arguments_through() {
    let o = parse(&argv("call h:1 config set maxmemory -1 --cluster-only-masters"), no_env).unwrap();
    assert_eq!(o.args, vec!["h:1", "config", "set", "maxmemory", "-1"]);
    assert!(o.only_masters);
}

#[test]
fn errors_use_redis_cli_wording() {
    assert_eq!(parse(&argv("frobnicate h:1"), no_env).unwrap_err().0, "Unknown --cluster subcommand");
    assert_eq!(
        parse(&argv("info"), no_env).unwrap_err().0,
        "[ERR] Wrong number of arguments for specified --cluster sub command"
    );
    assert_eq!(
        parse(&argv("add-node h:1"), no_env).unwrap_err().0,
        "[ERR] Wrong number of arguments for specified --cluster sub command"
    );
    assert_eq!(
        parse(&argv("check h:1 --bogus"), no_env).unwrap_err().0,
        "Unrecognized option or bad number of args for: '--bogus'"
    );
    assert!(parse(&argv("create a:1 b:1 c:1 --cluster-replicas x"), no_env).is_err());
    assert!(parse(&argv("rebalance h:1 --cluster-weight a=1 --cluster-weight b=2"), no_env).is_err());
}

#[test]
fn environment_supplies_password_and_yes() {
    let env = |k: &str| match k {
        "REDISCLI_AUTH" => Some("pw".to_string()),
        "REDISCLI_CLUSTER_YES" => Some("1".to_string()),
        _ => None,
    };
    let o = parse(&argv("reshard h:1"), env).unwrap();
    assert_eq!(o.auth.pass.as_deref(), Some("pw"));
    assert!(o.yes && !o.password_on_command_line);
}

#[test]
fn host_port_forms() {
    assert_eq!(parse_host_port("127.0.0.1:7000@17000"), Some(("127.0.0.1".into(), 7000)));
    assert_eq!(parse_host_port("::1:7000"), Some(("::1".into(), 7000)));
    assert_eq!(parse_host_port("nohost"), None);
    assert_eq!(parse_host_port("h:0"), None);
    assert_eq!(single_host(&["h".into(), "x".into()]), None);
}
