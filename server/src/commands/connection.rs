//! Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT and RESET, with Redis 7.0's
//! replies. The CLIENT container is in `client_cmd.rs`. Only the `default` user exists: its
//! password is `requirepass` (none configured = `nopass`, any password is accepted).
//!
//! slotbox has one database: `SELECT 0` succeeds and every other index (even one below
//! `databases`) gets `ERR DB index is out of range`.

use super::args::{self, is};
use super::client_cmd::set_client_name;
use super::{Ctx, Registration};
use crate::commands::session::{ClientState, ReplyMode};
use crate::commands::Reply;
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::{Frame, Protocol};

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const AUTH_NOPASS: &str = "ERR AUTH <password> called without any password configured for the default user. \
                           Are you sure your configuration is correct?";
const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
                            HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
                            the RESP protocol version at the same time";

/// `PING [message]`; a subscribed RESP2 client gets `["pong", message-or-""]` instead.
fn ping(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 2 {
        return Ok(Frame::error(errors::wrong_arity("ping")));
    }
    let message = args.get(1).map(|m| Frame::Bulk(m.clone()));
    if ctx.client.resp == Protocol::Resp2 && ctx.client.in_pubsub() {
        let message = message.unwrap_or(Frame::bulk_static(""));
        return Ok(Frame::Array(vec![Frame::bulk_static("pong"), message]));
    }
    Ok(message.unwrap_or(Frame::simple_static("PONG")))
}

fn echo(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(Frame::Bulk(args[1].clone()))
}

/// `QUIT`: `+OK`, then the connection closes once the reply is written.
fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.client.close_after_reply = true;
    Ok(Frame::ok())
}

/// Check `user` / `pass` against the only user, `default`. Without `requirepass` the default
/// user is `nopass`: any password works.
fn credentials_ok(shared: &Shared, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &shared.config.read().requirepass {
        None => true,
        Some(p) => p.as_slice() == pass,
    }
}

/// `AUTH [username] password`.
fn auth(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (user, pass): (&[u8], &[u8]) = match args.len() {
        2 => {
            if ctx.shared.config.read().requirepass.is_none() {
                return Ok(Frame::error_static(AUTH_NOPASS));
            }
            (b"default", &args[1])
        }
        3 => (&args[1], &args[2]),
        _ => return Ok(args::syntax_error()),
    };
    Ok(if credentials_ok(ctx.shared, user, pass) {
        ctx.client.authenticated = true;
        Frame::ok()
    } else {
        Frame::error_static(WRONGPASS)
    })
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`: options take effect in
/// order, so a later bad option leaves the earlier ones applied (as in Redis).
fn hello(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut version = None;
    if args.len() >= 2 {
        let v = (args::int(&args[1])
            .map_err(|_| Frame::error_static("ERR Protocol version is not an integer or out of range")))?;
        version = match v {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => return Ok(Frame::error_static("NOPROTO unsupported protocol version")),
        };
    }
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j];
        if is(opt, "auth") && more >= 2 {
            if !credentials_ok(ctx.shared, &args[j + 1], &args[j + 2]) {
                return Ok(Frame::error_static(WRONGPASS));
            }
            ctx.client.authenticated = true;
            j += 3;
        } else if is(opt, "setname") && more >= 1 {
            set_client_name(ctx.client, &args[j + 1])?;
            j += 2;
        } else {
            return Ok(Frame::error(format!("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(opt))));
        }
    }
    if !ctx.client.authenticated {
        return Ok(Frame::error_static(HELLO_NOAUTH));
    }
    if let Some(v) = version {
        ctx.client.set_resp(v);
    }
    Ok(hello_reply(ctx.shared, ctx.client))
}

/// The HELLO map: server, version, proto, id, mode, role, modules.
fn hello_reply(shared: &Shared, client: &ClientState) -> Frame {
    let mode = if shared.config.read().cluster_enabled { "cluster" } else { "standalone" };
    let pair = |k: &'static str, v: Frame| (Frame::bulk_static(k), v);
    Frame::Map(vec![
        pair("server", Frame::bulk_static("redis")),
        pair("version", Frame::bulk_static(crate::core::REDIS_VERSION)),
        pair("proto", Frame::Integer(client.resp.version())),
        pair("id", Frame::Integer(client.id() as i64)),
        pair("mode", Frame::bulk_static(mode)),
        pair("role", Frame::bulk_static("master")),
        pair("modules", Frame::Array(Vec::new())),
    ])
}

/// `SELECT index`: only database 0 exists.
fn select(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let id = args::int(&args[1])?;
    if i32::try_from(id).is_err() {
        return Ok(Frame::error_static(errors::NOT_INTEGER));
    }
    if id != 0 && ctx.shared.config.read().cluster_enabled {
        return Ok(Frame::error_static("ERR SELECT is not allowed in cluster mode"));
    }
    ctx.client.db = super::keys::databases::existing_db(ctx, id)?;
    Ok(Frame::ok())
}

/// `RESET`: back to a fresh connection's state, as Redis's `resetCommand` (a replication link
/// is refused).
fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.client.is_master_link {
        return Ok(Frame::error_static("ERR can only reset normal client connections"));
    }
    clear_connection_state(ctx.shared, ctx.client);
    Ok(Frame::simple_static("RESET"))
}

/// Redis's `clearClientConnectionState`: out of MONITOR, database 0, RESP2, the default user's
/// authentication (none when a password is set), no transaction or watched keys, no
/// subscriptions (left without confirmations), no name, no ASKING / READONLY, replies on. A
/// reply being skipped (CLIENT REPLY SKIP just before) stays skipped, and CLIENT NO-EVICT
/// stays, as in Redis.
fn clear_connection_state(shared: &Shared, client: &mut ClientState) {
    if client.info.monitor.swap(false, std::sync::atomic::Ordering::Relaxed) {
        shared.monitors.remove(client.id());
    }
    client.db = 0;
    client.set_resp(Protocol::Resp2);
    client.authenticated = shared.config.read().requirepass.is_none();
    client.multi = None;
    super::tx::unwatch_all(shared, client);
    super::pubsub::unsubscribe_all(shared, client);
    shared.tracking.disable(client.id());
    client.info.shown.tracking.store(0, std::sync::atomic::Ordering::Relaxed);
    client.tracking_caching = false;
    *client.info.name.lock() = None;
    client.asking = false;
    client.readonly = false;
    if client.reply_mode != ReplyMode::Skip {
        client.reply_mode = ReplyMode::On;
    }
}

pub const COMMANDS: Registration = &[
    ("ping", ping),
    ("echo", echo),
    ("quit", quit),
    ("auth", auth),
    ("hello", hello),
    ("select", select),
    ("reset", reset),
];

/// A client driving commands through [`super::execute`] without a socket (unit tests).
#[cfg(test)]
pub(super) mod testing {
    use crate::client::ClientInfo;
    use crate::commands::session::ClientState;
    use crate::config::Config;
    use crate::shared::Shared;
    use bytes::Bytes;
    use slotbox_protocol::encode::to_vec;
    use slotbox_protocol::Frame;
    use std::sync::Arc;

    pub struct TestClient {
        pub shared: Arc<Shared>,
        pub client: ClientState,
    }

    impl TestClient {
        pub fn new() -> Self {
            Self::with_config(Config::ephemeral())
        }

        pub fn with_config(config: Config) -> Self {
            let shared = Arc::new(Shared::new(config));
            Self::on(shared)
        }

        /// Another client of the same server.
        pub fn on(shared: Arc<Shared>) -> Self {
            let id = shared.next_client_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let addr = format!("127.0.0.1:{}", 40000 + id).parse().unwrap();
            let laddr = "127.0.0.1:6379".parse().unwrap();
            let info = Arc::new(ClientInfo::new(id, addr, laddr, -1, 0));
            shared.clients.lock().insert(id, info.clone());
            let auth = shared.config.read().requirepass.is_some();
            TestClient { shared, client: ClientState::new(info, auth) }
        }

        pub fn run(&mut self, args: &[&str]) -> Frame {
            let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
            crate::commands::execute(&self.shared, &mut self.client, &args)
        }

        /// Run each request and check its encoded reply.
        pub fn expect(&mut self, cases: &[(&[&str], &str)]) {
            for (args, want) in cases {
                assert_eq!(self.wire(args), *want, "{args:?}");
            }
        }

        /// The reply as the client's protocol encodes it.
        pub fn wire(&mut self, args: &[&str]) -> String {
            let f = self.run(args);
            String::from_utf8_lossy(&to_vec(&f, self.client.resp)).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::TestClient;
    use crate::config::Config;
    use slotbox_protocol::Frame;

    #[test]
    fn ping_echo_quit() {
        let mut c = TestClient::new();
        assert_eq!(c.wire(&["PING"]), "+PONG\r\n");
        assert_eq!(c.wire(&["ping", "hi"]), "$2\r\nhi\r\n");
        assert_eq!(c.wire(&["ECHO", "x"]), "$1\r\nx\r\n");
        assert_eq!(c.wire(&["QUIT"]), "+OK\r\n");
        assert!(c.client.close_after_reply);
    }

    #[test]
    fn hello_3_is_a_map() {
        let mut c = TestClient::new();
        let id = c.client.id();
        let want = format!(
            "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n\
             $2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
             $7\r\nmodules\r\n*0\r\n"
        );
        assert_eq!(c.wire(&["HELLO", "3"]), want);
        assert_eq!(c.wire(&["HELLO", "2"]).lines().next(), Some("*14"));
        assert_eq!(c.wire(&["HELLO", "4"]), "-NOPROTO unsupported protocol version\r\n");
        assert_eq!(c.wire(&["HELLO", "x"]), "-ERR Protocol version is not an integer or out of range\r\n");
        assert_eq!(c.wire(&["HELLO", "2", "SETNAME", "a", "b"]), "-ERR Syntax error in HELLO option 'b'\r\n");
        assert_eq!(c.wire(&["CLIENT", "GETNAME"]), "$1\r\na\r\n");
        assert_eq!(c.wire(&["HELLO", "3", "AUTH", "default", "whatever"]).lines().next(), Some("%7"));
        assert_eq!(
            c.wire(&["HELLO", "3", "AUTH", "bob", "x"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
    }

    #[test]
    fn auth_with_and_without_requirepass() {
        let mut c = TestClient::new();
        assert!(c.wire(&["AUTH", "x"]).starts_with("-ERR AUTH <password> called without any password"));
        assert_eq!(c.wire(&["AUTH", "default", "x"]), "+OK\r\n");
        assert_eq!(c.wire(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");

        let config = Config { requirepass: Some(b"secret".to_vec()), ..Config::ephemeral() };
        let mut c = TestClient::with_config(config);
        assert_eq!(c.wire(&["PING"]), "-NOAUTH Authentication required.\r\n");
        assert!(c.wire(&["HELLO", "3"]).starts_with("-NOAUTH HELLO must be called"));
        assert!(c.wire(&["AUTH", "bad"]).starts_with("-WRONGPASS"));
        assert_eq!(c.wire(&["AUTH", "secret"]), "+OK\r\n");
        assert_eq!(c.wire(&["PING"]), "+PONG\r\n");
        assert_eq!(c.wire(&["RESET"]), "+RESET\r\n");
        assert!(!c.client.authenticated);
        assert_eq!(c.wire(&["HELLO", "3", "AUTH", "default", "secret"]).lines().next(), Some("%7"));
    }

    #[test]
    fn select_databases() {
        let mut c = TestClient::new();
        assert_eq!(c.run(&["SELECT", "0"]), Frame::ok());
        assert_eq!(c.run(&["SELECT", "15"]), Frame::ok());
        assert_eq!(c.client.db, 15);
        assert_eq!(c.wire(&["SELECT", "16"]), "-ERR DB index is out of range\r\n");
        assert_eq!(c.wire(&["SELECT", "-1"]), "-ERR DB index is out of range\r\n");
        assert_eq!(c.wire(&["SELECT", "x"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(c.wire(&["SELECT", "99999999999"]), "-ERR value is not an integer or out of range\r\n");
    }

    #[test]
    fn ping_while_subscribed() {
        let mut c = TestClient::new();
        c.client.channels.push(bytes::Bytes::from_static(b"ch"));
        assert_eq!(c.wire(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(c.wire(&["PING", "x"]), "*2\r\n$4\r\npong\r\n$1\r\nx\r\n");
        c.client.set_resp(slotbox_protocol::Protocol::Resp3);
        assert_eq!(c.wire(&["PING"]), "+PONG\r\n");
    }

    #[test]
    fn reset_restores_defaults() {
        let mut c = TestClient::new();
        c.run(&["MULTI"]);
        assert!(c.client.multi.is_some());
        assert_eq!(c.wire(&["RESET"]), "+RESET\r\n");
        assert!(c.client.multi.is_none());
        c.run(&["SUBSCRIBE", "ch"]);
        c.run(&["RESET"]);
        assert!(!c.client.in_pubsub());
        c.run(&["HELLO", "3", "SETNAME", "n"]);
        assert_eq!(c.wire(&["RESET"]), "+RESET\r\n");
        assert_eq!(c.wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
    }
}
