//! Exit codes, one place for all of them.

use std::process::ExitCode;

/// How `storesnap` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, nothing of error severity found.
    Success,
    /// 1: done, and the store has problems of error severity (`check`).
    Findings,
    /// 2: usage, input or I/O error; nothing useful was produced.
    Error,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(match e {
            Exit::Success => 0,
            Exit::Findings => 1,
            Exit::Error => 2,
        })
    }
}
