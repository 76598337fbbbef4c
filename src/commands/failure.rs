//! The one JSON document a `--json` command prints when it fails without a document of its
//! own (a bad argument found after parsing, an unreadable OS store, another run holding the
//! lock, an internal error, a clap usage error): scripts that parse stdout get an answer
//! on every exit code, not an empty string. It is the shape `probe --json` has always used
//! for "no chain obtained" (`schema`, `error`, `message`, `exit_code`), now shared by every
//! command, with `command` added; `probe` keeps its `trustsync-probe/1` tag so its readers
//! see no change.

use serde::Serialize;

/// `schema` of the error document of every command but `probe`.
pub const SCHEMA: &str = "trustsync-error/1";

/// What `--json` prints on a failure that has no document of its own.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// `trustsync-probe/1` for `probe` (its readers' tag), [`SCHEMA`] for the rest.
    pub schema: &'static str,
    /// The subcommand that failed (`status`, `fix`, `hook status`, …).
    pub command: String,
    /// A stable kebab-case code: `usage`, `store-unreadable`, `lock-held`, … (probe: its
    /// `ProbeError` codes, `connect-failed`, …).
    pub error: &'static str,
    /// The one-line error, as on stderr.
    pub message: String,
    pub exit_code: i32,
}

impl ErrorReport {
    pub fn for_command(
        command: &str,
        error: &'static str,
        message: String,
        exit_code: i32,
    ) -> ErrorReport {
        ErrorReport {
            schema: if command == "probe" {
                super::probe::SCHEMA
            } else {
                SCHEMA
            },
            command: command.to_string(),
            error,
            message,
            exit_code,
        }
    }
}
