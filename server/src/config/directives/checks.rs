//! The further checks some directives make of a value: Redis's own (file names, host names,
//! title templates, flag combinations) with Redis's error strings, and slotbox's refusals of
//! values that need a feature it does not have (named in the error).

use super::super::kinds::Value;

/// Redis's `pathIsBaseName`.
fn is_base_name(s: &str) -> bool {
    !s.contains(['/', '\\'])
}

pub fn dbfilename(v: &Value) -> Result<(), String> {
    if !is_base_name(v.as_text()) {
        return Err("dbfilename can't be a path, just a filename".into());
    }
    Ok(())
}

pub fn appendfilename(v: &Value) -> Result<(), String> {
    match v.as_text() {
        "" => Err("appendfilename can't be empty".into()),
        s if !is_base_name(s) => Err("appendfilename can't be a path, just a filename".into()),
        _ => Ok(()),
    }
}

pub fn appenddirname(v: &Value) -> Result<(), String> {
    match v.as_text() {
        "" => Err("appenddirname can't be empty".into()),
        s if !is_base_name(s) => Err("appenddirname can't be a path, just a dirname".into()),
        _ => Ok(()),
    }
}

/// `shutdown-on-sigint` / `-sigterm`: SAVE and NOSAVE exclude each other.
pub fn shutdown_flags(v: &Value) -> Result<(), String> {
    let words: Vec<&str> = v.as_text().split(' ').collect();
    if words.contains(&"save") && words.contains(&"nosave") {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    Ok(())
}

pub fn announced_hostname(v: &Value) -> Result<(), String> {
    let s = v.as_text();
    if s.len() >= 256 {
        return Err("Hostnames must be less than 256 characters".into());
    }
    if !s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into());
    }
    Ok(())
}

/// `proc-title-template`: Redis's `sdstemplate` expansion must succeed (known `{variables}`,
/// `{{` for a brace) and give a non-blank title.
pub fn proc_title_template(v: &Value) -> Result<(), String> {
    const INVALID: &str = "template format is invalid or contains unknown variables";
    let mut rest = v.as_text();
    let mut expanded = String::new();
    while let Some(open) = rest.find('{') {
        expanded.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.is_empty() {
            return Err(INVALID.into());
        }
        if let Some(quoted) = after.strip_prefix('{') {
            expanded.push('{');
            rest = quoted;
            continue;
        }
        let close = after.find('}').ok_or(INVALID)?;
        expanded.push_str(match &after[..close] {
            "title" | "server-mode" | "unixsocket" => "",
            "listen-addr" => "*:6379",
            "config-file" => "-",
            "port" | "tls-port" => "0",
            _ => return Err(INVALID.into()),
        });
        rest = &after[close + 1..];
    }
    expanded.push_str(rest);
    if expanded.trim_matches(' ').is_empty() {
        return Err(INVALID.into());
    }
    Ok(())
}

/// Debian's Redis (built without its own jemalloc) refuses active defragmentation; so does
/// slotbox, which has none.
pub fn activedefrag(v: &Value) -> Result<(), String> {
    if v.as_bool() {
        return Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified \
                    Jemalloc like the one shipped by default with the Redis source distribution"
            .into());
    }
    Ok(())
}

fn unsupported(what: &str) -> Result<(), String> {
    Err(format!("{what} is not supported by slotbox-server"))
}

pub fn no_unixsocket(v: &Value) -> Result<(), String> {
    if v.as_text().is_empty() {
        return Ok(());
    }
    unsupported("listening on a unix socket")
}

pub fn no_aclfile(v: &Value) -> Result<(), String> {
    if v.as_text().is_empty() {
        return Ok(());
    }
    unsupported("an ACL file")
}

pub fn no_tls_port(v: &Value) -> Result<(), String> {
    if v.as_int() == 0 {
        return Ok(());
    }
    unsupported("TLS")
}

pub fn no_tls(v: &Value) -> Result<(), String> {
    if !v.as_bool() {
        return Ok(());
    }
    unsupported("TLS")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn redis_checks() {
        assert!(dbfilename(&text("dump.rdb")).is_ok());
        assert_eq!(dbfilename(&text("a/b")), Err("dbfilename can't be a path, just a filename".into()));
        assert_eq!(appendfilename(&text("")), Err("appendfilename can't be empty".into()));
        assert!(shutdown_flags(&text("save now")).is_ok());
        assert!(shutdown_flags(&text("save nosave")).is_err());
        assert!(announced_hostname(&text("node-1.example")).is_ok());
        assert!(announced_hostname(&text("a_b")).is_err());
        assert!(proc_title_template(&text("{title} {listen-addr} {server-mode}")).is_ok());
        assert!(proc_title_template(&text("{title}")).is_err(), "expands to nothing");
        assert!(proc_title_template(&text("{nosuch}")).is_err());
        assert!(proc_title_template(&text("x {{")).is_ok());
        assert!(proc_title_template(&text("x {")).is_err());
        assert!(no_tls_port(&Value::Int(0)).is_ok());
        assert_eq!(no_tls_port(&Value::Int(6380)), Err("TLS is not supported by slotbox-server".into()));
    }
}
