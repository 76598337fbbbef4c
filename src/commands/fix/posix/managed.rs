//! trustsync's own files for the env strategy: the managed bundle (the OS store as one PEM
//! file), the profile.d snippet and the environment.d file that point runtimes at it; where
//! a variable set outside trustsync comes from; and the note for shells started before fix.

use super::*;

impl Builder<'_> {
    pub(super) fn managed_files(&mut self) -> Result<(), ApplyError> {
        if cfg!(target_os = "macos") {
            // macOS shells run /etc/zshrc and /etc/profile, neither of which reads
            // /etc/profile.d; those files are the user's, so trustsync only says so.
            self.advice.push(Advice {
                runtime: "login shells".into(),
                code: "profile-not-read",
                message: format!("macOS shells do not read /etc/profile.d: add `. {PROFILE_SNIPPET}` to /etc/zshrc (and /etc/bashrc), or set the variables with `launchctl setenv` for GUI apps"),
            });
        }
        let bundle = Path::new(MANAGED_BUNDLE);
        self.ensure_parents(bundle, "trustsync keeps its managed files here")?;
        let body = managed_bundle(&self.status.os, self.ctx);
        let write = self.planner.write_bundle(
            bundle,
            body.into_bytes(),
            0o644,
            "the OS store as one PEM file, for runtimes that read a bundle of their own",
        )?;
        self.push(write);
        let snippet = Path::new(PROFILE_SNIPPET);
        self.ensure_parents(snippet, "the profile snippet directory")?;
        let write = self.planner.write_file(
            snippet,
            profile_snippet().into_bytes(),
            0o644,
            "login shells point bundle-reading runtimes at the managed bundle",
        )?;
        self.push(write);
        let envd = Path::new(ENVIRONMENT_D);
        self.ensure_parents(envd, "systemd reads environment.d here")?;
        let write = self.planner.write_file(
            envd,
            environment_d().into_bytes(),
            0o644,
            "systemd user sessions and their services get the same variables",
        )?;
        self.push(write);
        if !cfg!(target_os = "macos") {
            self.pam_environment()?;
        }
        Ok(())
    }

    /// The variables in `/etc/environment`, which pam_env reads for sudo, su, login, sshd
    /// and cron: processes that never run a login shell. A missing file is created. The
    /// OS's existing file is trustsync's to change only when the user asked
    /// (`--etc-environment`), or once they have (its block is there: it is kept current);
    /// then it gets a marked block, whose exact previous bytes undo restores. A variable
    /// the file already sets outside the block is left alone: pam_env would let a later
    /// line override it.
    fn pam_environment(&mut self) -> Result<(), ApplyError> {
        let target = Path::new(PAM_ENVIRONMENT);
        let (state, bytes) = self.planner.state(target)?;
        let reason = "sudo, su, login, ssh sessions and cron jobs (pam_env) get the same variables";
        match (state, bytes) {
            (crate::apply::posix::safe_fs::TargetState::File { .. }, Some(bytes)) => {
                let host = self.ctx.host_path(target);
                let without =
                    crate::apply::posix::marked_block::remove_block(&host, &bytes, PAM_BLOCK_ID)?;
                if without.is_none() && !self.opts.etc_environment {
                    self.advice.push(Advice {
                        runtime: "su, login, ssh, cron".into(),
                        code: "etc-environment-not-changed",
                        message: format!("{PAM_ENVIRONMENT} is the OS's file, so trustsync leaves it alone: rerun with `--etc-environment` to add the variables there for su, login, ssh and cron (pam_env)"),
                    });
                    return Ok(());
                }
                let outside = without.unwrap_or_else(|| bytes.clone());
                let outside = String::from_utf8_lossy(&outside);
                let lines: String = MANAGED_VARS
                    .iter()
                    .filter(|v| assignment_line(&outside, v).is_none())
                    .map(|v| format!("{v}={MANAGED_BUNDLE}\n"))
                    .collect();
                let action = if lines.is_empty() {
                    self.planner
                        .remove_marked_block(target, PAM_BLOCK_ID, reason)?
                } else {
                    self.planner
                        .append_marked_block(target, PAM_BLOCK_ID, &lines, reason)?
                };
                self.push(action);
            }
            (crate::apply::posix::safe_fs::TargetState::Absent, _) => {
                let write = self.planner.write_file(
                    target,
                    environment_d().into_bytes(),
                    0o644,
                    reason,
                )?;
                self.push(write);
            }
            // A directory, link or device there is not trustsync's to replace.
            _ => self.advice.push(Advice {
                runtime: "sudo, su, cron".into(),
                code: "pam-environment-odd",
                message: format!("{PAM_ENVIRONMENT} is not a regular file, so trustsync leaves it alone; sudo, su and cron will not get the variables"),
            }),
        }
        Ok(())
    }
}

pub(super) fn managed_bundle(os: &OsStore, ctx: &Context) -> String {
    let sources: Vec<String> = os
        .sources
        .iter()
        .map(|s| ctx.logical_path(Path::new(s)).display().to_string())
        .collect();
    crate::apply::managed_bundle(os, &sources, "sudo ")
}

fn profile_snippet() -> String {
    let mut out = format!(
        "# Generated by trustsync: points runtimes that read a CA bundle of their own at the OS\n# trust store (managed copy: {MANAGED_BUNDLE}). A variable already set elsewhere is left\n# alone. Remove with `sudo trustsync undo`.\n"
    );
    for var in MANAGED_VARS {
        out.push_str(&format!(
            "[ -n \"${{{var}:-}}\" ] || export {var}='{MANAGED_BUNDLE}'\n"
        ));
    }
    out
}

fn environment_d() -> String {
    let mut out = "# Generated by trustsync (see /etc/profile.d/trustsync.sh). Remove with `sudo trustsync undo`.\n".to_string();
    for var in MANAGED_VARS {
        out.push_str(&format!("{var}={MANAGED_BUNDLE}\n"));
    }
    out
}

/// Which contexts the env strategy's variables reach on this machine, and which they do
/// not, in words: login shells read `/etc/profile.d`, systemd user managers
/// `/etc/environment.d`, and each PAM service whose stack has pam_env reads
/// `/etc/environment` (Debian 12's sudo does not; Ubuntu's does).
/// `pam`: whether the variables are in `/etc/environment`.
pub fn variable_reach(root: &Path, pam: bool) -> (Vec<String>, Vec<String>) {
    let mut reached = vec![
        "new login shells".to_string(),
        "systemd user services (from the next login)".to_string(),
    ];
    let mut not = Vec::new();
    let reader = trustsync_platform::read::Reader::under(root);
    for (service, context) in [
        ("su", "su"),
        ("login", "console logins"),
        ("sshd", "ssh sessions"),
        ("sudo", "sudo"),
        ("cron", "cron jobs"),
    ] {
        let Ok(text) = reader.read_to_string(&root.join("etc/pam.d").join(service)) else {
            continue;
        };
        let has_env = text
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("pam_env"));
        if has_env && pam {
            reached.push(context.to_string());
        } else if has_env {
            not.push(format!("{context} (needs `--etc-environment`)"));
        } else {
            not.push(format!("{context} (its PAM stack has no pam_env)"));
        }
    }
    (reached, not)
}

/// Where a variable is probably set, as ` (set in FILE line N)`, or empty.
pub(super) fn where_set(var: &str, ctx: &Context, home: Option<&str>) -> String {
    let home = home.unwrap_or_default();
    let mut files: Vec<PathBuf> = [
        "/etc/environment",
        "/etc/profile",
        "/etc/bash.bashrc",
        "/etc/zsh/zshenv",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    for dir in ["/etc/profile.d", "/etc/environment.d"] {
        if let Ok(entries) = std::fs::read_dir(ctx.host_path(Path::new(dir))) {
            let mut more: Vec<PathBuf> = entries
                .flatten()
                .map(|e| ctx.logical_path(&e.path()))
                .collect();
            more.sort();
            files.extend(more);
        }
    }
    if !home.is_empty() {
        for f in [
            ".bashrc",
            ".profile",
            ".bash_profile",
            ".zshrc",
            ".zshenv",
            ".pam_environment",
        ] {
            files.push(Path::new(&home).join(f));
        }
    }
    for f in files {
        if f == Path::new(PROFILE_SNIPPET) || f == Path::new(ENVIRONMENT_D) {
            continue;
        }
        let Ok(text) =
            trustsync_platform::read::Reader::under(&ctx.root).read_to_string(&ctx.host_path(&f))
        else {
            continue;
        };
        if let Some(line) = assignment_line(&text, var) {
            return format!(" (set in {} line {line})", f.display());
        }
    }
    " (not in the usual profile files: likely the parent process, a service unit, a CI config or a Dockerfile ENV)".into()
}

/// The 1-based line of a profile or environment file (text another user may have written)
/// that assigns `var` (`VAR=…` or `export VAR=…`, not commented out). Public for the
/// parser fuzz tests.
#[doc(hidden)]
pub fn assignment_line(text: &str, var: &str) -> Option<usize> {
    text.lines().enumerate().find_map(|(i, line)| {
        let l = line.trim_start();
        if l.starts_with('#') {
            return None;
        }
        let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
        l.strip_prefix(var)
            .is_some_and(|rest| rest.starts_with('='))
            .then_some(i + 1)
    })
}

/// After `fix` with the env strategy, a shell started earlier still lacks the variables:
/// say so under each runtime the snippet will fix, instead of leaving a bare `drift`.
pub fn note_pending_login(diagnoses: &mut [Diagnosis], root: &Path, env: &HashMap<String, String>) {
    let snippet = root.join(PROFILE_SNIPPET.trim_start_matches('/'));
    // A tree's snippet may be a FIFO or a link out of the tree: read it bounded, inside.
    let Ok(text) = trustsync_platform::read::Reader::under(root).read_to_string(&snippet) else {
        return;
    };
    for d in diagnoses
        .iter_mut()
        .filter(|d| d.verdict == Verdict::Drift && !d.missing.is_empty())
    {
        let Some(var) = managed_var_for(d) else {
            continue;
        };
        if env.contains_key(var) || !text.contains(&format!("export {var}=")) {
            continue;
        }
        d.problems.push(crate::diagnose::Problem {
            code: "fixed-for-new-shells",
            severity: crate::diagnose::Severity::Info,
            message: format!("{PROFILE_SNIPPET} sets ${var} for new login shells; this one started before it: run `. {PROFILE_SNIPPET}` or log in again"),
        });
    }
}
