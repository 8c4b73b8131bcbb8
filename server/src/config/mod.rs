//! Server configuration: the [`Config`] struct (`values.rs`), read from a redis.conf-style
//! file and command-line flags with Redis's directive names (`parse.rs`), and changed at run
//! time by CONFIG SET. Every directive is one row of the table in `directives.rs`; value
//! syntaxes shared by directives are in `units.rs`. This file only assembles them.

mod directives;
pub mod notify_flags;
mod parse;
mod units;
mod values;

pub use directives::{Directive, DIRECTIVES};
pub use parse::ConfigError;
pub use units::parse_memory;
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
