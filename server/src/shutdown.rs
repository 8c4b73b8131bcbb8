//! Shutting down on SIGTERM / SIGINT as Redis's `prepareForShutdown` does for a signal: pause
//! writes, let the commands in flight finish, flush and fsync the AOF, save the final snapshot
//! when save points are set (or `shutdown-on-sig*` says `save`), then stop the event loops.
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
    pub force: bool,
}

impl Flags {
    pub fn parse(text: &str) -> Flags {
        let has = |w: &str| text.split_whitespace().any(|f| f.eq_ignore_ascii_case(w));
        Flags { save: has("save"), nosave: has("nosave"), force: has("force") }
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
        assert_eq!(Flags::parse("save now"), Flags { save: true, nosave: false, force: false });
        assert_eq!(Flags::parse("nosave force"), Flags { save: false, nosave: true, force: true });
    }
}
