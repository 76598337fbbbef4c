//! How integration tests show a command's output in a failure message, and how they skip
//! loudly when an optional tool or artifact is missing (the test harness hides the output
//! of passing tests, so banners go straight to the process's stderr).

use std::io::Write;
use std::process::Output;

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit status, stdout and stderr of a finished command, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// A loud skip: this test proved nothing.
pub fn skipped(what: &str) {
    let banner = "!".repeat(78);
    let _ = std::io::stderr().lock().write_all(
        format!("\n{banner}\n!!! SKIPPED: {what}\n!!! This test proved NOTHING.\n{banner}\n")
            .as_bytes(),
    );
}

/// The one "are we in CI" predicate of the test suite: `CI` set to `true` (any case) or
/// `1`, as GitHub, GitLab and most other CI systems set it. Under CI every precondition a
/// test needs is installed by scripts/setup.sh, so a skip there is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value.eq_ignore_ascii_case("true") || value == "1")
}

/// A skip that is a failure under CI ([`under_ci`]), where everything a test needs is
/// installed.
#[track_caller]
pub fn skip_unless_ci(what: &str) {
    if under_ci() {
        panic!("{what} (CI: this test must run)");
    }
    skipped(what);
}
