//! Keyspace notifications (`notify-keyspace-events`), as Redis 7.0's `notify.c`: an event of a
//! class that is on is published as `__keyspace@<db>__:<key>` → event (flag `K`) and
//! `__keyevent@<db>__:<event>` → key (flag `E`). Commands report their events through
//! `Ctx::notify`; expiry, eviction and new keys through the keyspace's hook.

use crate::core::Core;
use crate::pubsub::PubSub;
use bytes::Bytes;

pub use crate::config::notify_flags::class;

/// Publish `event` on `key` of database `db` if its class is on.
pub fn emit(core: &Core, pubsub: &PubSub, class: u32, event: &str, key: &[u8], db: usize) {
    let flags = core.hot.notify_flags.load(std::sync::atomic::Ordering::Relaxed);
    if flags & class == 0 {
        return;
    }
    let event_bytes = Bytes::copy_from_slice(event.as_bytes());
    if flags & class::KEYSPACE != 0 {
        let mut chan = format!("__keyspace@{db}__:").into_bytes();
        chan.extend_from_slice(key);
        pubsub.publish(core, &Bytes::from(chan), &event_bytes);
    }
    if flags & class::KEYEVENT != 0 {
        let chan = Bytes::from(format!("__keyevent@{db}__:{event}"));
        pubsub.publish(core, &chan, &Bytes::copy_from_slice(key));
    }
}
