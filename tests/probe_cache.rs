//! The interpreter-answer cache: a second discovery reuses the answer without running the
//! interpreter, and a change to its site-packages makes it ask again. The "interpreter" is
//! a shell script that counts how often it is run and answers like the probe script.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use trustsync::discover::Options;

/// The counter file is named in the script itself: trustsync starts interpreters with a
/// minimal environment, so a variable would not reach it.
fn fake_python(dir: &Path, site: &Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let answer = serde_json::json!({
        "executable": bin.join("python3"), "version": "3.99.0", "prefix": dir,
        "verify_paths": {"cafile_env": "SSL_CERT_FILE", "cafile": "/nonexistent/cert.pem", "capath_env": "SSL_CERT_DIR", "capath": "/nonexistent/certs"},
        "site_dirs": [site], "user_site": null
    });
    let script = format!(
        "#!/bin/sh\necho run >> '{}'\ncat <<'JSON'\n{answer}\nJSON\n",
        dir.join("count").display()
    );
    let py = bin.join("python3");
    std::fs::write(&py, script).unwrap();
    std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755)).unwrap();
    py
}

fn runs(counter: &Path) -> usize {
    std::fs::read_to_string(counter)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn answers_are_reused_until_site_packages_change() {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("lib/python3.99/site-packages");
    std::fs::create_dir_all(site.join("httplib2")).unwrap();
    let counter = t.path().join("count");
    let py = fake_python(t.path(), &site);
    let mut opts = Options::from_process();
    opts.env = [(
        "TRUSTSYNC_TEST_COUNTER".to_string(),
        counter.display().to_string(),
    )]
    .into_iter()
    .collect();
    opts.scan_common_dirs = false;
    opts.runtimes = vec![py];
    opts.cache_dir = Some(t.path().join("cache"));

    let first = trustsync::runtimes::Registry::standard().discover(&opts);
    assert_eq!(runs(&counter), 1);
    assert!(first.iter().any(|r| r.version.as_deref() == Some("3.99.0")));
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
