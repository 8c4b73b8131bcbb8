//! Server configuration: the [`Config`] struct (`values.rs`), read from a redis.conf-style
//! file and command-line flags with Redis's directive names (`parse.rs`), changed at run time
//! by CONFIG SET and written back by CONFIG REWRITE (`rewrite.rs`). Every Redis 7.0 directive
//! is one row of the table in `directives/`; the kinds of values and their syntax are in
//! `kinds.rs`, `special.rs`, `numbers.rs` and `units.rs`. This file only assembles them.

pub mod directives;
mod field;
pub mod kinds;
pub mod notify_flags;
mod numbers;
mod parse;
pub mod rewrite;
pub mod special;
mod units;
mod values;

pub use directives::{Directive, Named};
pub use kinds::Value;
pub use numbers::memtoull;
pub use parse::ConfigError;
pub use values::{ClientClass, Config, Limits, MaxmemoryPolicy};

impl Config {
    /// Build a config from `slotbox-server [configfile] [--name value ...]` arguments.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        parse::from_args(args)
    }

    /// Parse config text (file contents); `origin` names it in errors.
    pub fn load_str(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        parse::load_str(self, text, origin)
    }
}
