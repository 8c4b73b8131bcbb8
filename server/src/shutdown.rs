//! Shutting down on SIGTERM / SIGINT as Redis's `prepareForShutdown` does for a signal: pause
//! writes, give lagging replicas up to `shutdown-timeout` seconds to acknowledge everything
//! (unless `now`), let the commands in flight finish, flush and fsync the AOF, save the final
//! snapshot when save points are set (or `shutdown-on-sig*` says `save`), then stop the event
//! loops.
//! When the save fails (and `force` was not asked for) the server goes on serving, as Redis
//! does. The binary (`main.rs`) owns the signals themselves, the pid file and the last log
//! line; this module never exits the process.

use crate::clock::unix_time_ms;
use crate::pause::{PauseKind, Purpose};
use crate::shared::Shared;
use std::sync::atomic::Ordering;

/// The signal that asked for the shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Term,
    Int,
}

impl Signal {
    /// "SIGTERM" / "SIGINT", as Redis names them in its log.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
        }
    }

    /// The directive that sets this signal's shutdown flags.
    fn directive(self) -> &'static str {
        match self {
            Signal::Term => "shutdown-on-sigterm",
            Signal::Int => "shutdown-on-sigint",
        }
    }
}

/// The flags of `shutdown-on-sigterm` / `shutdown-on-sigint` ("default", or any of save,
/// nosave, now, force).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub save: bool,
    pub nosave: bool,
    pub now: bool,
    pub force: bool,
}

impl Flags {
    pub fn parse(text: &str) -> Flags {
        let has = |w: &str| text.split_whitespace().any(|f| f.eq_ignore_ascii_case(w));
        Flags { save: has("save"), nosave: has("nosave"), now: has("now"), force: has("force") }
    }
}

/// Prepare to exit after `sig`. `status` receives what a supervisor should be told
/// (systemd's `STOPPING=1`, `STATUS=...` lines). True when the server stopped serving and the
/// process may exit; false when it goes on (the final save failed without `force`).
pub fn on_signal(shared: &Shared, sig: Signal, status: &dyn Fn(&str)) -> bool {
    let flags = Flags::parse(&shared.config.read().get(sig.directive()).unwrap_or_default());
    crate::log::warning("User requested shutdown...");
    status("STOPPING=1\n");
    shared.pause.pause(Purpose::Shutdown, PauseKind::Write, i64::MAX, unix_time_ms());
    if !flags.now {
        wait_for_replicas(shared);
    }
    report_replicas(shared);
    let saved = {
        // Every command that passed the pause check before it began has finished once the
        // whole gate is ours; new writes wait for the pause.
        let _quiet = shared.exec_gate.write_all();
        final_save(shared, flags, status)
    };
    if !saved {
        crate::log::warning(&format!(
            "{} received but errors trying to shut down the server, check the logs for more information",
            sig.name()
        ));
        shared.pause.unpause(Purpose::Shutdown, unix_time_ms());
        return false;
    }
    shared.request_shutdown();
    true
}

/// Have the replicas acknowledged everything the master wrote?
fn replicas_in_sync(shared: &Shared) -> bool {
    let offset = shared.repl.offset();
    shared.repl.replica_acks().iter().all(|r| r.1 == offset)
}

/// With writes paused, ask the replicas for an ACK and wait up to `shutdown-timeout` seconds
/// for every one of them to acknowledge the master's offset (Redis 7.0's shutdown).
fn wait_for_replicas(shared: &Shared) {
    let secs: u64 = shared.config.read().get("shutdown-timeout").and_then(|v| v.parse().ok()).unwrap_or(10);
    if secs == 0 || replicas_in_sync(shared) {
        return;
    }
    {
        // Feeding the stream is a write: under the whole gate, as for any command.
        let _quiet = shared.exec_gate.write_all();
        shared.repl.request_acks(&shared.stream);
    }
    crate::log::notice("Waiting for replicas before shutting down.");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline && !replicas_in_sync(shared) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Log each replica still behind, and how many are in sync (Redis's `finishShutdown`).
fn report_replicas(shared: &Shared) {
    let offset = shared.repl.offset();
    let replicas = shared.repl.replica_acks();
    let mut lagging = 0;
    for (name, acked, lag, state) in &replicas {
        if *acked != offset {
            lagging += 1;
            crate::log::warning(&format!(
                "Lagging replica {name} reported offset {} behind master, lag={lag}, state={state}.",
                offset as i64 - *acked as i64
            ));
        }
    }
    if !replicas.is_empty() {
        crate::log::notice(&format!(
            "{} of {} replicas are in sync when shutting down.",
            replicas.len() - lagging,
            replicas.len()
        ));
    }
}

/// Flush and fsync the AOF, then write the snapshot when asked; false when the server must
/// not exit.
fn final_save(shared: &Shared, flags: Flags, status: &dyn Fn(&str)) -> bool {
    let p = &shared.persist;
    if p.aof.enabled.load(Ordering::Acquire) {
        crate::log::notice("Calling fsync() on the AOF file.");
        p.commit();
        p.aof.sync_pending();
    }
    let save_points = !crate::persist::save_rules(&shared.config.read().save).is_empty();
    if !((save_points && !flags.nosave) || flags.save) {
        return true;
    }
    crate::log::notice("Saving the final RDB snapshot before exiting.");
    status("STATUS=Saving the final RDB snapshot\n");
    match crate::persist::save::save_now(p) {
        Ok(()) => true,
        Err(_) if flags.force => {
            crate::log::warning("Error trying to save the DB. Exit anyway.");
            true
        }
        Err(_) => {
            crate::log::warning("Error trying to save the DB, can't exit.");
            status("STATUS=Error trying to save the DB, can't exit.\n");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Flags;

    #[test]
    fn flags_from_the_directive_text() {
        assert_eq!(Flags::parse("default"), Flags::default());
        assert_eq!(Flags::parse("save now"), Flags { save: true, nosave: false, now: true, force: false });
        assert_eq!(Flags::parse("nosave force"), Flags { save: false, nosave: true, now: false, force: true });
    }
}
