//! Where `trustsync add` puts a CA on Linux, what it calls the file, and how it runs the
//! distro's update command.
//!
//! Every distro family has one directory where an administrator drops extra CAs (Debian's
//! `/usr/local/share/ca-certificates`, Fedora's `/etc/pki/ca-trust/source/anchors`, …) and a
//! command that merges them into the bundle and hashed directory every program reads
//! (`update-ca-certificates`, `update-ca-trust extract`). Both come from [`crate::linux::LAYOUTS`],
//! so the reader and the writer never disagree about a distro. Writing the file itself is
//! the core's job (its engine journals and writes atomically); this module only names the
//! place and runs the command.
//!
//! The update command is run directly (argv, no shell), resolved from a fixed list of system
//! directories rather than `$PATH`: `add` runs as root, and a `$PATH` entry someone else
//! controls must not decide which program root runs.

use crate::linux::Layout;
use crate::spawn::{self, Program, SpawnError};
use std::path::Path;
use std::time::Duration;

/// Prefix of every anchor file trustsync writes, so people listing the directory see whose
/// it is. Recognising trustsync's files is the journal's job, never the name's.
pub const FILE_PREFIX: &str = "trustsync-";

/// `PATH` the update command runs with: it is a script that runs helpers (`openssl`,
/// `run-parts`, `p11-kit`, hooks), and the caller's `PATH` is not what root should use.
pub const UPDATE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The directory `add` writes to for this layout: the first local anchor directory, which
/// in [`crate::linux::LAYOUTS`] is always the administrator's one under `/etc` or
/// `/usr/local` (the `/usr/share` ones belong to packages). `None` for a layout without one.
pub fn anchor_dir(layout: &Layout) -> Option<&'static str> {
    layout.local_anchor_dirs.first().copied()
}

/// The anchor file name for a certificate: `trustsync-<first 16 hex digits of its
/// SHA-256>.crt`. Derived from the certificate, never from user input, so it cannot carry a
/// path separator; `.crt` because Debian's `update-ca-certificates` only reads `*.crt` (the
/// p11-kit based tools read any name).
pub fn anchor_file_name(sha256: &[u8; 32]) -> String {
    format!("{FILE_PREFIX}{}.crt", hex::encode(&sha256[..8]))
}

/// Why the update command could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{0}")]
    Start(#[from] SpawnError),
    #[error("`{command}` failed ({status}): {output}")]
    Failed {
        command: String,
        status: String,
        output: String,
    },
}

/// What one run of the update command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRun {
    /// The argv run, program as the absolute path that was executed.
    pub argv: Vec<String>,
    /// Its stdout and stderr, trimmed (e.g. Debian's "1 added, 0 removed; done.").
    pub output: String,
}

/// Runs the distro's update command (`SystemStore::update_command`, e.g.
/// `["update-ca-certificates"]`) directly: no shell, program resolved from the fixed system
/// directories ([`spawn::resolve_system`]), started hermetically by [`spawn::Program`] with
/// `PATH` set to [`UPDATE_PATH`]. A non-zero exit is an error carrying the command's own
/// words.
pub fn run_update(command: &[String]) -> Result<UpdateRun, UpdateError> {
    let Some((program, args)) = command.split_first() else {
        return Err(SpawnError::NotAName {
            program: String::new(),
        }
        .into());
    };
    let path = spawn::resolve_system(Path::new("/"), program)?;
    // Rebuilding a store runs every update.d hook: generous, but still bounded.
    let output = Program::new(&path)
        .args(args)
        .env("PATH", UPDATE_PATH)
        .timeout(Duration::from_secs(300))
        .run()?;
    let mut text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(stderr.trim());
    }
    let argv: Vec<String> = std::iter::once(path.display().to_string())
        .chain(args.iter().cloned())
        .collect();
    if !output.status.success() {
        return Err(UpdateError::Failed {
            command: argv.join(" "),
            status: output.status.to_string(),
            output: text,
        });
    }
    Ok(UpdateRun { argv, output: text })
}

/// The update command to run after removing an anchor. Debian's `update-ca-certificates`
/// rebuilds the bundle but leaves the removed CA's `/etc/ssl/certs` links dangling unless
/// run with `--fresh` (which rebuilds only the links that point into its own source
/// directories); the p11-kit based tools regenerate everything anyway.
pub fn update_command_for_removal(flavor: &str, mut command: Vec<String>) -> Vec<String> {
    if flavor == "debian"
        && command.first().map(String::as_str) == Some("update-ca-certificates")
        && !command.iter().any(|a| a == "--fresh")
    {
        command.push("--fresh".into());
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::LAYOUTS;

    fn layout(flavor: &str) -> &'static Layout {
        LAYOUTS.iter().find(|l| l.flavor == flavor).unwrap()
    }

    #[test]
    fn each_family_writes_to_its_admin_anchor_dir() {
        assert_eq!(
            anchor_dir(layout("debian")),
            Some("/usr/local/share/ca-certificates")
        );
        assert_eq!(
            anchor_dir(layout("fedora")),
            Some("/etc/pki/ca-trust/source/anchors")
        );
        assert_eq!(
            anchor_dir(layout("arch")),
            Some("/etc/ca-certificates/trust-source/anchors")
        );
        assert_eq!(anchor_dir(layout("suse")), Some("/etc/pki/trust/anchors"));
        assert_eq!(anchor_dir(layout("generic")), None);
        // Never a directory that belongs to packages.
        for l in LAYOUTS {
            if let Some(dir) = anchor_dir(l) {
                assert!(!dir.starts_with("/usr/share"), "{}: {dir}", l.flavor);
            }
        }
    }

    #[test]
    fn file_name_comes_from_the_fingerprint() {
        let mut sha = [0u8; 32];
        sha[0] = 0xab;
        sha[7] = 0x01;
        sha[8] = 0xff; // beyond the 16 hex digits used
        assert_eq!(anchor_file_name(&sha), "trustsync-ab00000000000001.crt");
    }

    #[test]
    fn removal_on_debian_rebuilds_links_fresh() {
        let cmd = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            update_command_for_removal("debian", cmd(&["update-ca-certificates"])),
            cmd(&["update-ca-certificates", "--fresh"])
        );
        // SUSE's tool of the same name is p11-kit based: no --fresh there.
        assert_eq!(
            update_command_for_removal("suse", cmd(&["update-ca-certificates"])),
            cmd(&["update-ca-certificates"])
        );
        assert_eq!(
            update_command_for_removal("fedora", cmd(&["update-ca-trust", "extract"])),
            cmd(&["update-ca-trust", "extract"])
        );
    }

    #[cfg(unix)]
    #[test]
    fn update_command_runs_without_a_shell_and_reports_failure() {
        // `echo` with a shell metacharacter argument: printed literally, never interpreted.
        let run = run_update(&["echo".into(), "1 added; $(id)".into()]).unwrap();
        assert_eq!(run.output, "1 added; $(id)");
        assert!(run.argv[0].ends_with("/echo"), "{:?}", run.argv);
        let err = run_update(&["false".into()]).unwrap_err();
        assert!(matches!(err, UpdateError::Failed { .. }), "{err}");
        assert!(run_update(&[]).is_err());
    }
}
