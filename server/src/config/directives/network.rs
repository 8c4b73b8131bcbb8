//! Network and client directives: where the server listens, how long clients may idle, and the
//! limits on what one client may send, receive and hold.

use super::super::kinds::{Form, Kind, Num};
use super::super::special::{BIND, CLIENT_OUTPUT_BUFFER_LIMIT};
use super::checks;
use super::row::UINT_MAX;
use super::row::{field, int, mem, nullable, special, uint, umem, yes, Directive, INT_MAX, LONG_MAX, MUTABLE};

type D = Directive;

pub static ROWS: &[Directive] = &[
    D::new("bind", MUTABLE, special(&BIND)).field(field!(bind)),
    D::new("bind-source-addr", MUTABLE, nullable()),
    D::new("port", MUTABLE, int(0, 65535, 6379)).field(field!(port)),
    D::new("tcp-backlog", 0, int(0, INT_MAX, 511)),
    D::new("unixsocket", 0, nullable()).check(checks::no_unixsocket),
    D::new("unixsocketperm", 0, Kind::Num(Num { min: 0, max: 0o777, default: 0, unsigned: true, form: Form::Octal })),
    D::new("socket-mark-id", 0, uint(0, UINT_MAX, 0)),
    D::new("protected-mode", MUTABLE, yes(true)).field(field!(protected_mode)),
    D::new("timeout", MUTABLE, int(0, INT_MAX, 0)).field(field!(timeout)),
    D::new("tcp-keepalive", MUTABLE, int(0, INT_MAX, 300)),
    D::new("maxclients", MUTABLE, uint(1, UINT_MAX, 10000)).field(field!(maxclients)),
    D::new(
        "maxmemory-clients",
        MUTABLE,
        Kind::Num(Num { min: -100, max: isize::MAX as i128, default: 0, unsigned: false, form: Form::MemoryOrPercent }),
    ),
    D::new("client-output-buffer-limit", MUTABLE, special(&CLIENT_OUTPUT_BUFFER_LIMIT))
        .field(field!(client_output_buffer_limit)),
    D::new("client-query-buffer-limit", MUTABLE, umem(1024 * 1024, LONG_MAX, 1024 * 1024 * 1024))
        .field(field!(client_query_buffer_limit)),
    D::new("proto-max-bulk-len", MUTABLE, mem(1024 * 1024, LONG_MAX, 512 * 1024 * 1024))
        .field(field!(proto_max_bulk_len)),
];
