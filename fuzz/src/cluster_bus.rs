//! The cluster bus message decoder (`cluster::message::decode`): what a node reads from every
//! peer on its bus port.
//!
//! Checks: every strict prefix of a decoded message is "need more bytes"; a decoded message
//! encodes to bytes that decode to the same message, of the length the encoding says.

use slotbox_server::cluster::message::{decode, encode};

pub fn run(data: &[u8]) {
    let mut rest = data;
    while let Ok(Some((msg, used))) = decode(rest) {
        assert!(used > 0 && used <= rest.len(), "used {used} of {}", rest.len());
        for cut in [used - 1, used / 2] {
            assert!(matches!(decode(&rest[..cut]), Ok(None)), "prefix {cut} of a complete message is not incomplete");
        }
        let bytes = encode(&msg);
        match decode(&bytes) {
            Ok(Some((again, n))) => {
                assert_eq!(n, bytes.len(), "re-encoded message length");
                assert_eq!(again, msg, "re-encoded message decodes differently");
            }
            other => panic!("re-encoded {msg:?} decodes as {other:?}"),
        }
        rest = &rest[used..];
    }
}
