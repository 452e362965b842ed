//! The error type of the core library.

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a snapshot or an identifier could not be read.
///
/// Integrity problems inside a readable store are not errors: they are reported as findings.
/// An `Error` means the input itself could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid {kind} {value:?}: {reason}")]
    InvalidId {
        kind: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("not a storesnap snapshot: {0}")]
    NotASnapshot(String),
    #[error("not a `docker save` archive: {0}")]
    NotAnArchive(String),
    #[error("malformed snapshot: {0}")]
    Format(String),
    #[error("snapshot exceeds a limit: {0}")]
    Limit(String),
    #[error("unsupported snapshot: {0}")]
    Unsupported(String),
    #[error("invalid json in {path}: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}
