//! Commands the proxy answers itself, never forwarding them: PING, ECHO, QUIT, SELECT 0,
//! COMMAND, HELLO 2/3, AUTH (against `redis_auth`), CLIENT SETINFO/SETNAME/GETNAME/ID and
//! INFO. Connection state lives in [`Session`]; this module never touches a socket.

use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::{Frame, Protocol};

/// Per-client connection state the local commands read and change.
#[derive(Debug)]
pub struct Session {
    pub id: u64,
    pub proto: Protocol,
    pub authed: bool,
    pub name: Option<Bytes>,
}

/// What to do with a request.
#[derive(Debug, PartialEq)]
pub enum Local {
    Reply(Frame),
    /// Reply `+OK`, then close once everything before it is written.
    Quit,
    Forward,
}

/// Pool facts the local commands need.
pub struct PoolView<'a> {
    pub auth: Option<&'a str>,
    pub info: &'a dyn Fn() -> String,
}

fn lower(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

/// True when `name` must be refused with NOAUTH: a password is set and not given yet.
pub fn auth_required(name: &str, s: &Session, auth: Option<&str>) -> bool {
    !s.authed && auth.is_some() && !matches!(name, "auth" | "hello" | "quit")
}

/// Answer `args` locally if it is a local command (or the client must authenticate first).
pub fn handle(name: &str, args: &[Bytes], s: &mut Session, pool: &PoolView) -> Local {
    if auth_required(name, s, pool.auth) {
        return Local::Reply(Frame::error_static(errors::NOAUTH));
    }
    let reply = match name {
        "ping" => match args.len() {
            1 => Frame::simple_static("PONG"),
            2 => Frame::Bulk(args[1].clone()),
            _ => arity(name),
        },
        "echo" if args.len() == 2 => Frame::Bulk(args[1].clone()),
        "echo" => arity(name),
        "quit" => return Local::Quit,
        "select" => select(args),
        "auth" => auth(args, s, pool),
        "hello" => hello(args, s, pool),
        "client" => client(args, s),
        "command" => command(args),
        "info" => Frame::Bulk(Bytes::from((pool.info)())),
        _ => return Local::Forward,
    };
    Local::Reply(reply)
}

fn arity(name: &str) -> Frame {
    Frame::error(errors::wrong_arity(name))
}

fn select(args: &[Bytes]) -> Frame {
    match args {
        [_, db] if db.as_ref() == b"0" => Frame::ok(),
        [_, _] => Frame::error_static("ERR DB index is out of range"),
        _ => arity("select"),
    }
}

fn check_password(pass: &[u8], s: &mut Session, pool: &PoolView) -> Result<(), Frame> {
    match pool.auth {
        None => Err(Frame::error_static(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        )),
        Some(p) if p.as_bytes() == pass => {
            s.authed = true;
            Ok(())
        }
        Some(_) => Err(Frame::error_static("WRONGPASS invalid username-password pair or user is disabled.")),
    }
}

fn auth(args: &[Bytes], s: &mut Session, pool: &PoolView) -> Frame {
    let pass = match args {
        [_, p] => p,
        [_, user, p] if user.as_ref() == b"default" => p,
        [_, _, _] => return Frame::error_static("WRONGPASS invalid username-password pair or user is disabled."),
        _ => return arity("auth"),
    };
    match check_password(pass, s, pool) {
        Ok(()) => Frame::ok(),
        Err(e) => e,
    }
}

fn hello(args: &[Bytes], s: &mut Session, pool: &PoolView) -> Frame {
    let mut proto = s.proto;
    if let Some(v) = args.get(1) {
        proto = match v.as_ref() {
            b"2" => Protocol::Resp2,
            b"3" => Protocol::Resp3,
            _ => {
                if std::str::from_utf8(v).ok().and_then(|t| t.parse::<i64>().ok()).is_none() {
                    return Frame::error_static("ERR Protocol version is not an integer or out of range");
                }
                return Frame::error_static("NOPROTO unsupported protocol version");
            }
        };
    }
    let mut i = 2;
    while i < args.len() {
        match lower(&args[i]).as_str() {
            "auth" if i + 2 < args.len() => {
                if let Err(e) = check_password(&args[i + 2], s, pool) {
                    return e;
                }
                i += 3;
            }
            "setname" if i + 1 < args.len() => {
                s.name = Some(args[i + 1].clone());
                i += 2;
            }
            _ => {
                return Frame::error(format!(
                    "ERR Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(&args[i])
                ))
            }
        }
    }
    if !s.authed && pool.auth.is_some() {
        return Frame::error_static(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time",
        );
    }
    s.proto = proto;
    let kv = |k: &'static str, v: Frame| (Frame::bulk_static(k), v);
    Frame::Map(vec![
        kv("server", Frame::bulk_static("redis")),
        kv("version", Frame::bulk_static("7.0.0")),
        kv("proto", Frame::Integer(proto.version())),
        kv("id", Frame::Integer(s.id as i64)),
        kv("mode", Frame::bulk_static("standalone")),
        kv("role", Frame::bulk_static("master")),
        kv("modules", Frame::Array(Vec::new())),
    ])
}

fn client(args: &[Bytes], s: &mut Session) -> Frame {
    let Some(sub) = args.get(1) else {
        return arity("client");
    };
    match (lower(sub).as_str(), args.len()) {
        ("setinfo", 4) => Frame::ok(),
        ("setname", 3) => {
            if args[2].iter().any(|&b| b <= b' ' || b > b'~') {
                return Frame::error_static("ERR Client names cannot contain spaces, newlines or special characters.");
            }
            s.name = if args[2].is_empty() { None } else { Some(args[2].clone()) };
            Frame::ok()
        }
        ("getname", 2) => s.name.clone().map(Frame::Bulk).unwrap_or(Frame::Null),
        ("id", 2) => Frame::Integer(s.id as i64),
        ("setinfo" | "setname" | "getname" | "id", _) => {
            Frame::error(errors::wrong_arity(&format!("client|{}", lower(sub))))
        }
        (other, _) => {
            Frame::error(format!("ERR CLIENT {} is not supported by slotbox-proxy", other.to_ascii_uppercase()))
        }
    }
}

fn command(args: &[Bytes]) -> Frame {
    match args.get(1).map(|a| lower(a)).as_deref() {
        None | Some("docs") | Some("info") => Frame::Array(Vec::new()),
        Some("count") => Frame::Integer(slotbox_protocol::command::COMMANDS.len() as i64),
        Some(other) => {
            Frame::error(format!("ERR COMMAND {} is not supported by slotbox-proxy", other.to_ascii_uppercase()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<Bytes> {
        v.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
    }

    fn session() -> Session {
        Session { id: 7, proto: Protocol::Resp2, authed: false, name: None }
    }

    fn info() -> String {
        "# Server\r\n".into()
    }

    #[test]
    fn auth_gate_and_password() {
        let pool = PoolView { auth: Some("sekret"), info: &info };
        let mut s = session();
        let r = handle("get", &args(&["get", "k"]), &mut s, &pool);
        assert_eq!(r, Local::Reply(Frame::error_static(errors::NOAUTH)));
        let r = handle("auth", &args(&["auth", "nope"]), &mut s, &pool);
        assert!(matches!(r, Local::Reply(Frame::Error(_))));
        assert_eq!(handle("auth", &args(&["auth", "sekret"]), &mut s, &pool), Local::Reply(Frame::ok()));
        assert_eq!(handle("get", &args(&["get", "k"]), &mut s, &pool), Local::Forward);
    }

    #[test]
    fn hello_switches_protocol_and_client_names() {
        let pool = PoolView { auth: None, info: &info };
        let mut s = session();
        let r = handle("hello", &args(&["hello", "3", "setname", "app"]), &mut s, &pool);
        assert!(matches!(r, Local::Reply(Frame::Map(_))));
        assert_eq!(s.proto, Protocol::Resp3);
        let r = handle("client", &args(&["client", "getname"]), &mut s, &pool);
        assert_eq!(r, Local::Reply(Frame::bulk_static("app")));
        let r = handle("hello", &args(&["hello", "4"]), &mut s, &pool);
        assert_eq!(r, Local::Reply(Frame::error_static("NOPROTO unsupported protocol version")));
        let r = handle("client", &args(&["client", "setinfo", "lib-name", "x"]), &mut s, &pool);
        assert_eq!(r, Local::Reply(Frame::ok()));
        assert_eq!(handle("select", &args(&["select", "0"]), &mut s, &pool), Local::Reply(Frame::ok()));
    }
}
