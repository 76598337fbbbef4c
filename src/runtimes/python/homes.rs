//! Where Pythons live besides `PATH`: the layouts of the tools that install them into a
//! home (pyenv, conda and its kin, uv, pipx, poetry, asdf, mise) and any venv a few levels
//! down a home, `/opt`, `/srv` or `/usr/local`.
//!
//! The walk is bounded (depth and entries per root) and never follows a symlink: a home is
//! its owner's to shape, and a link to `/` must not turn a scan of it into a scan of the
//! machine. What is found is only a candidate; whether and as whom it runs is the exec
//! policy's decision ([`crate::runtimes::exec`]).

use crate::discover::glob_dirs;
use std::path::{Path, PathBuf};

/// How deep a venv is looked for under each root, and how many entries one root may cost.
pub const HOME_DEPTH: usize = 4;
pub const SYSTEM_DEPTH: usize = 3;
pub const ENTRIES_PER_ROOT: usize = 20_000;
/// At most this many prefixes are taken from one `environments.txt`, and at most this many
/// venvs from one walk: each becomes an interpreter to ask, and a home is its owner's to
/// fill with ten thousand links to `/usr/bin/python3`.
pub const PREFIXES_PER_SOURCE: usize = 256;

/// Directory names never descended into: nothing there is a venv, and some are huge.
const SKIP: &[&str] = &[
    "node_modules",
    ".git",
    "__pycache__",
    "site-packages",
    "dist-packages",
    ".npm",
    ".cargo",
    ".rustup",
    "proc",
];

/// The `bin` directories of a home's tool-managed Pythons.
pub fn interpreter_dirs(home: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    dirs.extend(glob_dirs(&home.join(".pyenv/versions"), "bin"));
    for conda in [
        "miniconda3",
        "anaconda3",
        "miniforge3",
        "mambaforge",
        "micromamba",
    ] {
        let base = home.join(conda);
        dirs.push(base.join("bin"));
        dirs.extend(glob_dirs(&base.join("envs"), "bin"));
    }
    dirs.extend(glob_dirs(&home.join(".conda/envs"), "bin"));
    // conda lists every env it made, wherever it is (`conda create -p /anywhere`).
    if let Ok(text) = trustsync_platform::read::Reader::host()
        .read_to_string(&home.join(".conda/environments.txt"))
    {
        dirs.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| l.starts_with('/'))
                .take(PREFIXES_PER_SOURCE)
                .map(|l| Path::new(l).join("bin")),
        );
    }
    for managed in [
        ".local/share/uv/python",
        ".local/share/uv/tools",
        ".local/pipx/venvs",
        ".local/share/pipx/venvs",
        ".cache/pypoetry/virtualenvs",
        ".asdf/installs/python",
        ".local/share/mise/installs/python",
        ".local/share/rtx/installs/python",
    ] {
        dirs.extend(glob_dirs(&home.join(managed), "bin"));
    }
    dirs.push(home.join(".local/share/pypoetry/venv/bin"));
    // Homebrew on Linux in a home (the shared prefix is in [`SHARED_DIRS`]).
    dirs.push(home.join(".linuxbrew/bin"));
    dirs
}

/// Interpreter directories shared by every user: Homebrew on Linux's default prefix.
pub const SHARED_DIRS: &[&str] = &["/home/linuxbrew/.linuxbrew/bin"];

/// The `bin` of every venv (`pyvenv.cfg`) or conda prefix (`conda-meta/`) within
/// [`HOME_DEPTH`] of each home and [`SYSTEM_DEPTH`] of `/opt`, `/srv` and `/usr/local`.
pub fn venv_dirs(homes: &[PathBuf], opts: &crate::discover::Options) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let roots = homes.iter().map(|h| (h.clone(), HOME_DEPTH)).chain(
        ["/opt", "/srv", "/usr/local"]
            .iter()
            .map(|r| (PathBuf::from(r), SYSTEM_DEPTH)),
    );
    for (root, depth) in roots {
        if !root.is_dir() {
            continue;
        }
        let started = std::time::Instant::now();
        let s = scan(&root, depth, ENTRIES_PER_ROOT);
        opts.record(crate::discover::Looked {
            path: root,
            depth,
            entries: s.entries,
            truncated: s.truncated,
            millis: started.elapsed().as_millis() as u64,
        });
        out.extend(s.found);
    }
    out
}

/// What one bounded walk found and what it cost.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub found: Vec<PathBuf>,
    pub entries: usize,
    /// The entry budget ran out before the walk ended.
    pub truncated: bool,
}

/// Walks `root` to `depth` without following symlinks, collecting prefixes' `bin` dirs.
pub fn scan(root: &Path, depth: usize, budget: usize) -> Scan {
    let mut out = Scan::default();
    let mut walk = walkdir::WalkDir::new(root)
        .max_depth(depth)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walk.next() {
        let Ok(entry) = entry else { continue };
        out.entries += 1;
        if out.entries > budget {
            out.truncated = true;
            break;
        }
        if !entry.file_type().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if entry.depth() > 0 && SKIP.contains(&name.as_ref()) {
            walk.skip_current_dir();
            continue;
        }
        let dir = entry.path();
        let marks_prefix = |m: &str| {
            std::fs::symlink_metadata(dir.join(m)).is_ok_and(|md| !md.file_type().is_symlink())
        };
        if marks_prefix("pyvenv.cfg") || marks_prefix("conda-meta") {
            out.found.push(dir.join("bin"));
            if out.found.len() >= PREFIXES_PER_SOURCE {
                out.truncated = true;
                break;
            }
            walk.skip_current_dir();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venvs_are_found_within_the_depth_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        for venv in ["proj/.venv", "a/b/c/deep-venv", "a/b/c/d/too-deep"] {
            std::fs::create_dir_all(home.join(venv).join("bin")).unwrap();
            std::fs::write(home.join(venv).join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        }
        std::fs::create_dir_all(home.join("envs/conda-env/conda-meta")).unwrap();
        std::fs::create_dir_all(home.join("node_modules/x")).unwrap();
        std::fs::write(home.join("node_modules/x/pyvenv.cfg"), "").unwrap();
        // A link out of the home is not followed.
        #[cfg(unix)]
        std::os::unix::fs::symlink("/", home.join("root-link")).unwrap();
        let s = scan(home, HOME_DEPTH, 1000);
        let found: Vec<String> = s
            .found
            .iter()
            .map(|p| p.strip_prefix(home).unwrap().display().to_string())
            .collect();
        assert_eq!(
            found,
            [
                "a/b/c/deep-venv/bin",
                "envs/conda-env/bin",
                "proj/.venv/bin"
            ]
        );
        assert!(!s.truncated);
        let small = scan(home, HOME_DEPTH, 3);
        assert!(small.truncated && small.found.is_empty());
    }

    #[test]
    fn conda_environments_txt_adds_envs_anywhere() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::create_dir_all(home.join(".conda")).unwrap();
        std::fs::write(
            home.join(".conda/environments.txt"),
            "/srv/envs/py37\n\nrelative/ignored\n",
        )
        .unwrap();
        let dirs = interpreter_dirs(home);
        assert!(dirs.contains(&PathBuf::from("/srv/envs/py37/bin")));
        assert!(!dirs.iter().any(|d| d.starts_with("relative")));
        // A list of ten thousand prefixes is taken only up to the bound.
        let many: String = (0..10_000).map(|i| format!("/srv/e{i}\n")).collect();
        std::fs::write(home.join(".conda/environments.txt"), many).unwrap();
        let listed = interpreter_dirs(home)
            .iter()
            .filter(|d| d.starts_with("/srv"))
            .count();
        assert_eq!(listed, PREFIXES_PER_SOURCE);
    }
}
