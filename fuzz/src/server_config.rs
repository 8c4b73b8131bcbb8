//! The server's config file parser (`Config::load_str`): redis.conf-style files, and the same
//! lines as `--name value` flags and CONFIG SET apply them.
//!
//! `include` lines are skipped (they read other files). Checks: a text that loads, written
//! back as CONFIG REWRITE writes it, loads again to the same value for every directive.

use slotbox_server::config::directives;
use slotbox_server::config::rewrite::rewritten_text;
use slotbox_server::Config;
use std::sync::OnceLock;

/// The defaults, built once (`Config::default` asks the OS for the core count).
fn defaults() -> &'static Config {
    static DEFAULTS: OnceLock<Config> = OnceLock::new();
    DEFAULTS.get_or_init(Config::default)
}

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if text.to_ascii_lowercase().contains("include") {
        return;
    }
    let mut config = defaults().clone();
    if config.load_str(&text, "fuzz.conf").is_err() {
        return;
    }
    let rewritten = rewritten_text(&config, &text);
    let mut again = defaults().clone();
    if let Err(e) = again.load_str(&rewritten, "rewritten.conf") {
        panic!("CONFIG REWRITE of\n{text}\nwrote\n{rewritten}\nwhich does not load: {e}");
    }
    for d in directives::all() {
        let (before, after) = (d.kind.show(&config.value(d)), d.kind.show(&again.value(d)));
        assert_eq!(after, before, "directive '{}' after CONFIG REWRITE:\n{rewritten}", d.name);
    }
}
