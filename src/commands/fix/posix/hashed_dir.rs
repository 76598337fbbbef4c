//! The `HashedDir` repair (OpenSSL-style runtimes: `python-ssl`, `openssl`): one `HASH.N`
//! entry per OS CA in the runtime's certificate directory, linked to the OS store's own
//! file for it (or a managed single-CA file), and a missing CA file linked to the OS bundle.

use super::*;

/// The OS store's own file for each CA (by SHA-256), preferring descriptive names over
/// `HASH.N` ones, so links read well and survive a rehash.
fn os_files(os: &OsStore, ctx: &Context) -> HashMap<[u8; 32], PathBuf> {
    let mut out: HashMap<[u8; 32], PathBuf> = HashMap::new();
    let Some(dir) = &os.directory else { return out };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    // Descriptive names first: a HASH.N name only fills in what they lack.
    paths.sort_by_key(|p| {
        (
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| hashdir::parse_hash_name(n).is_some()),
            p.clone(),
        )
    });
    let wanted: HashSet<[u8; 32]> = os.trusted.iter().map(|c| c.sha256).collect();
    for p in paths {
        // Debian's directory names every CA twice (NAME.pem and HASH.N): stop once found.
        if out.len() == wanted.len() {
            break;
        }
        if os.bundle.as_deref() == Some(p.as_path()) {
            continue;
        }
        // Bounded, and inside the root under `--root` (trustsync_platform::read).
        let Ok(bytes) = trustsync_platform::read::Reader::under(&ctx.root).read(&p) else {
            continue;
        };
        // Only the identity is needed here, not a full X.509 parse.
        if let [der] = trustsync_platform::bundle::decode(&bytes)
            .certificates
            .as_slice()
        {
            let sha256: [u8; 32] = sha2::Sha256::digest(der).into();
            if wanted.contains(&sha256) {
                out.entry(sha256).or_insert_with(|| ctx.logical_path(&p));
            }
        }
    }
    out
}

impl Builder<'_> {
    pub(super) fn openssl_runtime(&mut self, d: &Diagnosis) -> Result<(), ApplyError> {
        let rt = &d.runtime;
        if rt
            .overridden_by
            .iter()
            .any(|v| self.is_trustsync_value(self.status_env(v).as_deref()))
        {
            // It reads the managed bundle: refreshing that is the whole fix.
            self.need_managed_bundle();
            return Ok(());
        }
        if d.missing.is_empty() && !self.has(d, "no-trust-anchors") {
            // Extra trust: entries trustsync itself made for a CA the OS has since dropped
            // are withdrawn by re-planning the directory below; anything else is not ours.
            self.advise(d, "extra-cas-kept", msg!("advice-extra-cas-kept-dir"));
        }
        let Some(capath) = rt.capath.first() else {
            self.advise(d, "no-capath", msg!("advice-no-capath"));
            return Ok(());
        };
        let capath = self.ctx.logical_path(capath);
        if self.planned.insert(capath.clone()) {
            let first = self.actions.len();
            self.ensure_parents(&capath, msg!("reason-dir-certs"))?;
            let entries = self.hash_entries()?;
            let mode = if self.opts.copy {
                HashDirMode::Copy
            } else {
                HashDirMode::Symlink
            };
            for action in hashdir::plan_dir(&self.planner, &capath, 0o755, &entries, mode)? {
                self.push(action);
            }
            let unit = self.actions[first..]
                .iter()
                .map(|a| a.target.clone())
                .collect();
            self.unit_targets.insert(capath, unit);
        } else {
            self.serve(&capath);
        }
        if let (Some(cafile), Some(bundle)) = (&rt.cafile, &self.status.os.bundle) {
            let cafile = self.ctx.logical_path(cafile);
            let bundle = self.ctx.logical_path(bundle);
            let (state, _) = self.planner.state(&cafile)?;
            if state == TargetState::Absent && cafile != bundle {
                if self.planned.insert(cafile.clone()) {
                    self.ensure_parents(&cafile, msg!("reason-dir-cafile"))?;
                    let why = msg!("reason-cafile-link", runtime = rt.label.clone());
                    let link = self.planner.symlink(&cafile, &bundle, &why.en())?.said(why);
                    self.push(link);
                } else {
                    self.serve(&cafile);
                }
            }
        }
        Ok(())
    }

    /// One entry per OS CA: its own file, or a managed single-certificate file.
    pub(super) fn hash_entries(&mut self) -> Result<Vec<HashEntry>, ApplyError> {
        if self.os_files.is_none() {
            self.os_files = Some(os_files(&self.status.os, self.ctx));
        }
        let files = self.os_files.clone().unwrap_or_default();
        let mut entries = Vec::new();
        for c in &self.status.os.trusted {
            let source = match files.get(&c.sha256) {
                Some(p) => p.clone(),
                None => {
                    let p = Path::new(MANAGED_CERT_DIR).join(format!("{}.pem", c.fingerprint()));
                    if self.planned.insert(p.clone()) {
                        self.ensure_parents(&p, msg!("reason-dir-managed"))?;
                        let why = msg!("reason-managed-cert");
                        let write = self
                            .planner
                            .write_file(&p, c.to_pem().into_bytes(), 0o644, &why.en())?
                            .said(why);
                        self.push(write);
                    } else {
                        self.serve(&p);
                    }
                    p
                }
            };
            entries.push(HashEntry {
                subject_hash: c.subject_hash_hex(),
                source,
                sha256: c.fingerprint(),
            });
        }
        Ok(entries)
    }
}
