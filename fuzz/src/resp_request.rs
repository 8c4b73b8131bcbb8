//! The RESP request decoder ([`RequestDecoder`]): what the server, the proxy and a replica
//! read from a client or master, and what the AOF loader replays.
//!
//! The control byte picks the limits (default, before AUTH, the AOF loader's unbounded bulk
//! length, tiny) and a chunk size. Checks: feeding the bytes in chunks gives the same requests
//! and the same ending (error or waiting for more) as feeding them at once; the `want` hint is
//! past what is buffered; every request re-encoded as a multibulk decodes to itself.

use bytes::{Bytes, BytesMut};
use slotbox_protocol::{Limits, RequestDecoder};

/// What decoding a whole stream gave: the requests, then whether it stopped on an error.
#[derive(Debug, PartialEq)]
struct Outcome {
    requests: Vec<Vec<Bytes>>,
    failed: bool,
}

pub fn run(data: &[u8]) {
    let (ctl, input) = crate::control(data);
    let limits = match ctl & 3 {
        0 => Limits::default(),
        1 => Limits::unauthenticated(),
        2 => Limits { max_bulk_len: usize::MAX, ..Limits::default() },
        _ => Limits { max_bulk_len: 8, max_multibulk_len: 3 },
    };
    let whole = decode(limits, input, input.len().max(1));
    let chunked = decode(limits, input, 1 + usize::from(ctl >> 2));
    assert_eq!(whole, chunked, "chunked decoding differs from decoding at once");
    for req in &whole.requests {
        assert!(!req.is_empty(), "a request with no arguments");
        roundtrip(limits, req);
    }
}

/// Decode `input` arriving `chunk` bytes at a time, as a connection reading a socket does.
fn decode(limits: Limits, input: &[u8], chunk: usize) -> Outcome {
    let mut dec = RequestDecoder::new(limits);
    let mut buf = BytesMut::new();
    let mut requests = Vec::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(req)) => requests.push(req),
                Ok(None) => {
                    assert!(dec.want == 0 || dec.want > buf.len(), "want {} <= buffered {}", dec.want, buf.len());
                    break;
                }
                Err(_) => return Outcome { requests, failed: true },
            }
        }
    }
    Outcome { requests, failed: false }
}

fn roundtrip(limits: Limits, req: &[Bytes]) {
    let mut out = format!("*{}\r\n", req.len()).into_bytes();
    for a in req {
        slotbox_protocol::encode::bulk(&mut out, a);
    }
    let mut buf = BytesMut::from(&out[..]);
    let again = RequestDecoder::new(limits).decode(&mut buf);
    match again {
        Ok(Some(args)) => {
            assert_eq!(args, req, "re-encoded request decodes differently");
            assert!(buf.is_empty(), "re-encoded request left {} bytes", buf.len());
        }
        // Inline requests are not bound by the bulk limits a multibulk is.
        Err(_) if req.iter().any(|a| a.len() > limits.max_bulk_len) || req.len() > limits.max_multibulk_len => {}
        other => panic!("re-encoded request {req:?} gave {other:?}"),
    }
}
