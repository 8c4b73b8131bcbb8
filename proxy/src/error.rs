//! The proxy crate's one error type. A config error names the pool, the key and the problem;
//! I/O errors carry what was being done. Request-level failures never become a `ProxyError`:
//! they are `-ERR` replies on the client's connection.

use std::fmt;

/// A problem in a nutcracker.yml file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub pool: Option<String>,
    pub key: Option<String>,
    pub problem: String,
}

impl ConfigError {
    pub fn new(pool: Option<&str>, key: Option<&str>, problem: impl Into<String>) -> Self {
        ConfigError { pool: pool.map(str::to_string), key: key.map(str::to_string), problem: problem.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("configuration error")?;
        if let Some(p) = &self.pool {
            write!(f, ": pool '{p}'")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key '{k}'")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// Everything that can stop the proxy from starting.
#[derive(Debug)]
pub enum ProxyError {
    Config(ConfigError),
    Io { context: String, source: std::io::Error },
}

impl ProxyError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ProxyError::Io { context: context.into(), source }
    }

    /// True for errors in the configuration (as opposed to the environment).
    pub fn is_config(&self) -> bool {
        matches!(self, ProxyError::Config(_))
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Config(e) => e.fmt(f),
            ProxyError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for ProxyError {}

impl From<ConfigError> for ProxyError {
    fn from(e: ConfigError) -> Self {
        ProxyError::Config(e)
    }
}

impl From<ProxyError> for std::io::Error {
    fn from(e: ProxyError) -> Self {
        match e {
            ProxyError::Io { source, .. } => source,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        }
    }
}
