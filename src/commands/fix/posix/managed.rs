//! trustsync's own files for the env strategy: the managed bundle (the OS store as one PEM
//! file), the profile.d snippet and the environment.d file that point runtimes at it; where
//! a variable set outside trustsync comes from; and the note for shells started before fix.

use super::*;

impl Builder<'_> {
    /// The file the variables name. On Linux, the OS's own bundle: the distro's update
    /// tool keeps it current, so nothing trustsync wrote freezes trust, and removing
    /// trustsync leaves variables that still follow the OS store. Where the OS has no such
    /// file (macOS), the managed copy, which the hooks keep current.
    pub(super) fn variable_target(&self) -> String {
        match &self.status.os.bundle {
            Some(bundle) if cfg!(target_os = "linux") => {
                self.ctx.logical_path(bundle).display().to_string()
            }
            _ => MANAGED_BUNDLE.to_string(),
        }
    }

    /// Whether a variable's value is one trustsync sets: the OS bundle or the managed copy.
    pub(super) fn is_trustsync_value(&self, value: Option<&str>) -> bool {
        value.is_some_and(|v| v == MANAGED_BUNDLE || v == self.variable_target())
    }

    pub(super) fn managed_files(&mut self) -> Result<(), ApplyError> {
        if cfg!(target_os = "macos") {
            // macOS shells run /etc/zshrc and /etc/profile, neither of which reads
            // /etc/profile.d; those files are the user's, so trustsync only says so.
            self.advice.push(Advice::about(
                "login shells",
                "profile-not-read",
                msg!("advice-profile-not-read", snippet = PROFILE_SNIPPET),
            ));
        }
        let target = self.variable_target();
        let bundle = Path::new(MANAGED_BUNDLE);
        // The copy is written where the variables need it, where a variable set outside
        // trustsync names it (an image's `ENV`), and kept current once it exists (an
        // earlier version pointed the variables at it).
        let named = self.opts.env.values().any(|v| v == MANAGED_BUNDLE);
        if target == MANAGED_BUNDLE || named || self.planner.state(bundle)?.0 != TargetState::Absent
        {
            self.ensure_parents(bundle, msg!("reason-dir-managed"))?;
            let body = managed_bundle(&self.status.os, self.ctx);
            let why = msg!("reason-managed-bundle");
            let write = self
                .planner
                .write_bundle(bundle, body.into_bytes(), 0o644, &why.en())?
                .said(why);
            self.push(write);
        }
        let snippet = Path::new(PROFILE_SNIPPET);
        self.ensure_parents(snippet, msg!("reason-dir-profile"))?;
        let why = msg!("reason-profile-snippet");
        let write = self
            .planner
            .write_file(
                snippet,
                profile_snippet(&target).into_bytes(),
                0o644,
                &why.en(),
            )?
            .said(why);
        self.push(write);
        let envd = Path::new(ENVIRONMENT_D);
        self.ensure_parents(envd, msg!("reason-dir-environment-d"))?;
        let why = msg!("reason-environment-d");
        let write = self
            .planner
            .write_file(envd, environment_d(&target).into_bytes(), 0o644, &why.en())?
            .said(why);
        self.push(write);
        if !cfg!(target_os = "macos") {
            self.systemd_system(&target)?;
            self.sudoers()?;
            self.pam_environment(&target)?;
        }
        Ok(())
    }

    /// `DefaultEnvironment=` for the systemd system manager: every system service started
    /// after `systemctl daemon-reexec` (or the next boot) gets the variables; a unit's own
    /// `Environment=` still wins. Only where systemd is installed (`/etc/systemd` exists).
    fn systemd_system(&mut self, target: &str) -> Result<(), ApplyError> {
        if self.planner.state(Path::new("/etc/systemd"))?.0 == TargetState::Absent {
            return Ok(());
        }
        let conf = Path::new(SYSTEMD_SYSTEM_CONF);
        self.ensure_parents(conf, msg!("reason-dir-systemd"))?;
        let why = msg!("reason-systemd-system");
        let write = self
            .planner
            .write_file(
                conf,
                systemd_manager_conf(target).into_bytes(),
                0o644,
                &why.en(),
            )?
            .said(why);
        self.push(write);
        Ok(())
    }

    /// sudo resets the environment (env_reset) and, on Debian 12 and others, has no
    /// pam_env: a sudoers drop-in naming trustsync's environment file (`env_file`, whose
    /// variables sudo adds only where the command's environment lacks them) gives
    /// `sudo` and `sudo -u` the variables. Written only where `/etc/sudoers` includes
    /// `/etc/sudoers.d` and no sudoers file sets `env_file` already (that choice is the
    /// administrator's; a second one would override it).
    fn sudoers(&mut self) -> Result<(), ApplyError> {
        let reader = trustsync_platform::read::Reader::under(&self.ctx.root);
        let Ok(main) = reader.read_to_string(&self.ctx.host_path(Path::new("/etc/sudoers"))) else {
            return Ok(());
        };
        let includes = main.lines().any(|l| {
            let l = l.trim();
            (l.starts_with("@includedir") || l.starts_with("#includedir"))
                && l.split_whitespace().nth(1) == Some(SUDOERS_DIR)
        });
        if !includes {
            return Ok(());
        }
        let drop_in = Path::new(SUDOERS_DROP_IN);
        let mut texts = vec![main];
        if let Ok(entries) = std::fs::read_dir(self.ctx.host_path(Path::new(SUDOERS_DIR))) {
            for e in entries.flatten() {
                if self.ctx.logical_path(&e.path()) == drop_in {
                    continue;
                }
                if let Ok(t) = reader.read_to_string(&e.path()) {
                    texts.push(t);
                }
            }
        }
        let set_elsewhere = texts.iter().any(|t| {
            t.lines()
                .any(|l| !l.trim_start().starts_with('#') && l.contains("env_file"))
        });
        if set_elsewhere {
            self.advice.push(Advice::about(
                "sudo",
                "sudo-env-file-set",
                msg!("advice-sudo-env-file-set", file = ENVIRONMENT_D),
            ));
            return Ok(());
        }
        // Written like every file (temp, fsync, rename): sudo skips names with a dot, so
        // it never parses the half-written `.trustsync-tmp-…` file, only the renamed one.
        let why = msg!("reason-sudoers");
        let write = self
            .planner
            .write_file(drop_in, sudoers_drop_in().into_bytes(), 0o440, &why.en())?
            .said(why);
        self.push(write);
        Ok(())
    }

    /// The variables in `/etc/environment`, which pam_env reads for sudo, su, login, sshd
    /// and cron: processes that never run a login shell. A missing file is created. The
    /// OS's existing file is trustsync's to change only when the user asked
    /// (`--etc-environment`), or once they have (its block is there: it is kept current);
    /// then it gets a marked block, whose exact previous bytes undo restores. A variable
    /// the file already sets outside the block is left alone: pam_env would let a later
    /// line override it.
    fn pam_environment(&mut self, value: &str) -> Result<(), ApplyError> {
        let target = Path::new(PAM_ENVIRONMENT);
        let (state, bytes) = self.planner.state(target)?;
        let why = msg!("reason-pam-environment");
        let reason = &why.en();
        match (state, bytes) {
            (crate::apply::posix::safe_fs::TargetState::File { .. }, Some(bytes)) => {
                let host = self.ctx.host_path(target);
                let without =
                    crate::apply::posix::marked_block::remove_block(&host, &bytes, PAM_BLOCK_ID)?;
                if without.is_none() && !self.opts.etc_environment {
                    self.advice.push(Advice::about(
                        "su, login, ssh, cron",
                        "etc-environment-not-changed",
                        msg!("advice-etc-environment-not-changed", file = PAM_ENVIRONMENT),
                    ));
                    return Ok(());
                }
                let outside = without.unwrap_or_else(|| bytes.clone());
                let outside = String::from_utf8_lossy(&outside);
                let lines: String = MANAGED_VARS
                    .iter()
                    .filter(|v| assignment_line(&outside, v).is_none())
                    .map(|v| format!("{v}={value}\n"))
                    .collect();
                let action = if lines.is_empty() {
                    self.planner
                        .remove_marked_block(target, PAM_BLOCK_ID, reason)?
                        .said(why)
                } else {
                    self.planner
                        .append_marked_block(target, PAM_BLOCK_ID, &lines, reason)?
                        .said(why)
                };
                self.push(action);
            }
            (crate::apply::posix::safe_fs::TargetState::Absent, _) => {
                let write = self
                    .planner
                    .write_file(target, environment_d(value).into_bytes(), 0o644, reason)?
                    .said(why);
                self.push(write);
            }
            // A directory, link or device there is not trustsync's to replace.
            _ => self.advice.push(Advice::about(
                "sudo, su, cron",
                "pam-environment-odd",
                msg!("advice-pam-environment-odd", file = PAM_ENVIRONMENT),
            )),
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

fn profile_snippet(target: &str) -> String {
    let mut out = format!(
        "# Generated by trustsync: points runtimes that read a CA bundle of their own at the OS\n# trust store ({target}). A variable already set elsewhere is left alone.\n# Remove with `sudo trustsync undo`.\n"
    );
    for var in MANAGED_VARS {
        out.push_str(&format!(
            "[ -n \"${{{var}:-}}\" ] || export {var}='{target}'\n"
        ));
    }
    out
}

/// `VAR=value` lines: the format systemd's environment.d, pam_env's `/etc/environment`
/// and sudo's `env_file` all read.
fn environment_d(target: &str) -> String {
    let mut out = "# Generated by trustsync (see /etc/profile.d/trustsync.sh). Remove with `sudo trustsync undo`.\n".to_string();
    for var in MANAGED_VARS {
        out.push_str(&format!("{var}={target}\n"));
    }
    out
}

fn systemd_manager_conf(target: &str) -> String {
    let mut out = "# Generated by trustsync: the trust variables for every system service (a unit's own\n# Environment= wins). Takes effect after `systemctl daemon-reexec`. Remove with `sudo trustsync undo`.\n[Manager]\n".to_string();
    for var in MANAGED_VARS {
        out.push_str(&format!("DefaultEnvironment=\"{var}={target}\"\n"));
    }
    out
}

fn sudoers_drop_in() -> String {
    format!("# Generated by trustsync: sudo adds the trust variables in {ENVIRONMENT_D} to a\n# command's environment where it lacks them. Remove with `sudo trustsync undo`.\nDefaults env_file=\"{ENVIRONMENT_D}\"\n")
}

/// Which contexts the variables reach on this machine, and which they do not, in words:
/// login shells read `/etc/profile.d`, systemd user managers `/etc/environment.d`, the
/// system manager its `system.conf.d` drop-in (after a re-exec), sudo trustsync's sudoers
/// drop-in, and each PAM service whose stack has pam_env `/etc/environment` (Debian 12's
/// sudo has none; Ubuntu's has). `written(path)`: whether that file of trustsync's is in
/// place (or this run wrote it).
pub fn variable_reach(root: &Path, written: &dyn Fn(&str) -> bool) -> (Vec<String>, Vec<String>) {
    let mut reached = vec![
        "new login shells".to_string(),
        "systemd user services (from the next login)".to_string(),
    ];
    if written(SYSTEMD_SYSTEM_CONF) {
        reached.push(
            "system services started after `systemctl daemon-reexec` (running ones need a restart)"
                .into(),
        );
    }
    let sudo = written(SUDOERS_DROP_IN);
    if sudo {
        reached.push("sudo".into());
    }
    let pam = written(PAM_ENVIRONMENT);
    let mut not = Vec::new();
    let reader = trustsync_platform::read::Reader::under(root);
    for (service, context) in [
        ("su", "su"),
        ("login", "console logins"),
        ("sshd", "ssh sessions"),
        ("sudo", "sudo"),
        ("cron", "cron jobs"),
    ] {
        if service == "sudo" && sudo {
            continue;
        }
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
        d.problems.push(crate::diagnose::Problem::said(
            "fixed-for-new-shells",
            crate::diagnose::Severity::Info,
            msg!(
                "problem-fixed-for-new-shells",
                snippet = PROFILE_SNIPPET,
                variable = var
            ),
        ));
    }
}
