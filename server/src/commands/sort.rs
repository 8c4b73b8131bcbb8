//! SORT and SORT_RO (group `generic`): sort a list, set or sorted set numerically or ALPHA, by
//! the elements or by keys and hash fields named by patterns, GET what patterns name, LIMIT the
//! result, STORE it as a list. `sort/` holds the option parser, the patterns, the ordering and
//! the handler; this file joins them into the registration table. Handlers see only locked
//! keys: a request whose patterns name other keys runs with the whole gate
//! ([`reads_other_keys`]).

mod options;
mod order;
mod pattern;
mod run;
#[cfg(test)]
mod tests;

use super::Registration;

pub use options::reads_other_keys;

pub const COMMANDS: Registration = &[("sort", run::sort), ("sort_ro", run::sort_ro)];
