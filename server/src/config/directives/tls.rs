//! TLS directives (Redis built with TLS, as Debian's is). slotbox serves no TLS: the settings
//! are accepted and reported, and a value that would turn TLS on is refused with a clear error.

use super::checks;
use super::row::{int, nullable, one_of, yes, Directive, INT_MAX, MUTABLE};

type D = Directive;

const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];

pub static ROWS: &[Directive] = &[
    D::new("tls-port", MUTABLE, int(0, 65535, 0)).check(checks::no_tls_port),
    D::new("tls-cluster", MUTABLE, yes(false)).check(checks::no_tls),
    D::new("tls-replication", MUTABLE, yes(false)).check(checks::no_tls),
    D::new("tls-auth-clients", MUTABLE, one_of(TLS_AUTH_CLIENTS, 1)),
    D::new("tls-session-cache-size", MUTABLE, int(0, INT_MAX, 20 * 1024)),
    D::new("tls-session-cache-timeout", MUTABLE, int(0, INT_MAX, 300)),
    D::new("tls-prefer-server-ciphers", MUTABLE, yes(false)),
    D::new("tls-session-caching", MUTABLE, yes(true)),
    D::new("tls-cert-file", MUTABLE, nullable()),
    D::new("tls-key-file", MUTABLE, nullable()),
    D::new("tls-key-file-pass", MUTABLE, nullable()),
    D::new("tls-client-cert-file", MUTABLE, nullable()),
    D::new("tls-client-key-file", MUTABLE, nullable()),
    D::new("tls-client-key-file-pass", MUTABLE, nullable()),
    D::new("tls-dh-params-file", MUTABLE, nullable()),
    D::new("tls-ca-cert-file", MUTABLE, nullable()),
    D::new("tls-ca-cert-dir", MUTABLE, nullable()),
    D::new("tls-protocols", MUTABLE, nullable()),
    D::new("tls-ciphers", MUTABLE, nullable()),
    D::new("tls-ciphersuites", MUTABLE, nullable()),
];
