//! The interpreter-answer cache: a second discovery reuses the answer without running the
//! interpreter, and a change to its site-packages makes it ask again. The interpreter is a
//! real venv of the system `python3` running the real probe script; a `.pth` file in its
//! site-packages (which `site` executes at every start, as it does pip-system-certs') counts
//! how often it starts. The venv belongs to whoever runs the tests (root in CI), so its site
//! tier is trusted and the probe runs it with `site`, counting `.pth` included.
#![cfg(unix)]

mod support;
use std::path::{Path, PathBuf};
use trustsync::discover::Options;

/// A venv of /usr/bin/python3 in `dir` whose `.pth` appends a line to `dir/count` at each
/// start; its python3 and site-packages.
fn counting_venv(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let python = Path::new("/usr/bin/python3");
    if !python.exists() {
        support::report::skip_unless_ci("/usr/bin/python3 is missing (apt-get install python3)");
        return None;
    }
    let venv = dir.join("venv");
    let out = std::process::Command::new(python)
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::report::show(&out));
    let lib = venv.join("lib");
    let site = std::fs::read_dir(&lib)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .expect("the venv's site-packages");
    // A .pth line starting with `import` is executed by site; the path is fixed text. It
    // writes the process id: Debian's Python 3.11 runs a venv's .pth twice per start (its
    // site-packages is reached through `lib` and `lib64`), so starts are distinct ids.
    let counter = dir.join("count");
    std::fs::write(
        site.join("zz-count.pth"),
        format!(
            "import os; open({:?}, 'a').write('%d\\n' % os.getpid())\n",
            counter.display().to_string()
        ),
    )
    .unwrap();
    Some((venv.join("bin/python3"), site))
}

/// How many interpreter processes started (distinct process ids in the counter).
fn runs(counter: &Path) -> usize {
    let text = std::fs::read_to_string(counter).unwrap_or_default();
    text.lines().collect::<std::collections::HashSet<_>>().len()
}

#[test]
fn answers_are_reused_until_site_packages_change() {
    let t = tempfile::tempdir().unwrap();
    let Some((py, site)) = counting_venv(t.path()) else {
        return;
    };
    let counter = t.path().join("count");
    std::fs::create_dir_all(site.join("httplib2")).unwrap();
    let mut opts = Options::from_process();
    opts.env.clear();
    opts.scan_common_dirs = false;
    opts.runtimes = vec![py];
    opts.cache_dir = Some(t.path().join("cache"));

    let first = trustsync::runtimes::Registry::standard().discover(&opts);
    assert_eq!(runs(&counter), 1, "the probe ran the real interpreter once");
    let version = first
        .iter()
        .find_map(|r| r.version.clone())
        .expect("the probe's answer names the version");
    assert!(version.starts_with("3."), "{version}");
    let second = trustsync::runtimes::Registry::standard().discover(&opts);
    assert_eq!(runs(&counter), 1, "the remembered answer is used");
    assert_eq!(first.len(), second.len());

    // Installing a package changes site-packages: ask again, and see the new bundle.
    std::fs::write(site.join("httplib2/cacerts.txt"), b"").unwrap();
    std::fs::create_dir(site.join("newpkg")).unwrap();
    let third = trustsync::runtimes::Registry::standard().discover(&opts);
    assert_eq!(
        runs(&counter),
        2,
        "a changed site-packages invalidates the answer"
    );
    assert!(
        third
            .iter()
            .any(|r| r.label.starts_with("httplib2/cacerts.txt")),
        "{third:?}"
    );

    let mut fresh = opts.clone();
    fresh.cache_dir = None;
    trustsync::runtimes::Registry::standard().discover(&fresh);
    assert_eq!(runs(&counter), 3, "--fresh always asks");
}

/// A node's answer is remembered too (its own file in the same cache directory) until its
/// binary changes; without a cache it is always asked. The "node" is a script that answers
/// like the real one and counts its starts (a mount namespace would give every run a new
/// device number, so this runs on a private directory of the host).
#[test]
fn a_nodes_answer_is_remembered_until_its_binary_changes() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let node = t.path().join("bin/node");
    std::fs::create_dir_all(node.parent().unwrap()).unwrap();
    let counter = t.path().join("runs");
    let write = |note: &str| {
        std::fs::write(
            &node,
            format!(
                "#!/bin/sh\n# {note}\necho run >> '{}'\nprintf '%s' '{{\"version\":\"v22.0.0\",\"openssl\":null,\"shared_openssl\":false,\"use_openssl_ca\":false,\"roots\":[]}}'\n",
                counter.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    write("first");
    let mut opts = Options::from_process();
    opts.env.clear();
    opts.scan_common_dirs = false;
    opts.runtimes = vec![node.clone()];
    opts.cache_dir = Some(t.path().join("cache"));
    let discover = |opts: &Options| {
        let rows = trustsync::runtimes::Registry::standard().discover(opts);
        assert!(
            rows.iter()
                .any(|r| r.kind.name == "node" && r.version.as_deref() == Some("v22.0.0")),
            "{rows:?}"
        );
    };
    let runs = || std::fs::read_to_string(&counter).map_or(0, |s| s.lines().count());
    discover(&opts);
    assert_eq!(runs(), 1);
    discover(&opts);
    assert_eq!(runs(), 1, "the remembered answer is used");
    write("upgraded");
    discover(&opts);
    assert_eq!(runs(), 2, "a changed binary is asked again");
    let mut fresh = opts.clone();
    fresh.cache_dir = None;
    discover(&fresh);
    assert_eq!(runs(), 3, "--fresh always asks");
}
