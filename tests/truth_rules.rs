//! Rules of the trust model checked against the real clients (issue "Truth"): for each, a
//! loopback server whose chain ends in a generated root, the real client's verdict, and
//! what `trustsync status --json` says about the same runtime in the same environment.
//! The client decides; each test fails when the model says otherwise.
#![cfg(target_os = "linux")]

mod support;
use std::path::Path;
use std::process::{Command, Output};
use support::certs::{json, trustsync};
use support::oracle::{row, SSL_GET};
use support::pyvenv::{self, REQUESTS_GET};
use support::report::{show, skip_unless_ci, text};
use support::tls::{CaChain, ChainSpec, TlsServer};

fn run_python(python: &str, script: &str, port: u16, env: &[(&str, &str)]) -> Output {
    Command::new(python)
        .args(["-I", "-c", script, &port.to_string()])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .current_dir("/")
        .output()
        .unwrap()
}

/// `status --json` for one interpreter only, asked afresh, in `env`.
fn status_of(python: &str, env: &[(&str, &str)]) -> serde_json::Value {
    let mut all = vec![("PATH", "/usr/bin:/bin")];
    all.extend_from_slice(env);
    let out = trustsync(
        &["status", "--json", "--fresh", "--only", "--runtime", python],
        &all,
    );
    json(&out)
}

fn codes(row: &serde_json::Value) -> Vec<String> {
    row["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

/// The cached venv with the real `name` client, or `None` after a skip (a failure in CI).
fn venv_python(name: &str) -> Option<String> {
    let python = pyvenv::cached_venv(name).join("bin/python3");
    if !python.exists() {
        skip_unless_ci(&format!(
            "{} is missing; run scripts/setup.sh",
            python.display()
        ));
        return None;
    }
    Some(python.display().to_string())
}

/// A CA file with one corrupt block between two good ones: OpenSSL's PEM reader gives up
/// on the whole file, so neither good root counts (python `ssl` ignores the error and
/// trusts nothing from it; requests raises on loading it).
#[test]
fn a_corrupt_block_makes_openssl_load_nothing_from_the_file() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("mixed.pem");
    let other = CaChain::new(ChainSpec::default());
    std::fs::write(
        &bundle,
        format!(
            "{}-----BEGIN CERTIFICATE-----\nMIIBroken!!notbase64\n-----END CERTIFICATE-----\n{}",
            chain.root_pem(),
            other.root_pem()
        ),
    )
    .unwrap();
    let empty = dir.path().join("nodir");
    let b = bundle.to_str().unwrap();
    let env = [
        ("SSL_CERT_FILE", b),
        ("SSL_CERT_DIR", empty.to_str().unwrap()),
    ];

    // The oracle: the real ssl module does not verify a server whose root is in the file.
    let real = run_python("/usr/bin/python3", SSL_GET, server.port(), &env);
    assert_eq!(real.status.code(), Some(3), "{}", show(&real));
    // The same file, without the corrupt block, verifies: the block is what breaks it.
    let good = dir.path().join("good.pem");
    std::fs::write(&good, chain.root_pem()).unwrap();
    let fine = run_python(
        "/usr/bin/python3",
        SSL_GET,
        server.port(),
        &[("SSL_CERT_FILE", good.to_str().unwrap()), env[1]],
    );
    assert_eq!(text(&fine.stdout).trim(), "ok", "{}", show(&fine));

    let doc = status_of("/usr/bin/python3", &env);
    let ssl = row(&doc, "python-ssl");
    assert_eq!(ssl["trusted"], 0, "{doc:#}");
    assert_eq!(ssl["verdict"], "broken", "{doc:#}");
    assert!(codes(ssl).contains(&"bundle-unloadable".into()), "{doc:#}");

    // requests: loading the file raises, for every host.
    let Some(py) = venv_python(pyvenv::REQUESTS) else {
        return;
    };
    let renv = [("REQUESTS_CA_BUNDLE", b)];
    let real = run_python(&py, REQUESTS_GET, server.port(), &renv);
    assert!(
        !real.status.success(),
        "requests verified with it: {}",
        show(&real)
    );
    let doc = status_of(&py, &renv);
    let rq = row(&doc, "requests");
    assert_eq!(rq["verdict"], "broken", "{doc:#}");
    assert!(codes(rq).contains(&"bundle-unloadable".into()), "{doc:#}");
}

/// `SSL_CERT_FILE=""` is not "unset" to OpenSSL: it replaces the default CA file with
/// nothing, and only the directory counts.
#[test]
fn an_empty_ssl_cert_file_replaces_the_default_file_with_nothing() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let dir = tempfile::tempdir().unwrap();
    // A hashed directory holding just this root.
    let hash = root_hash(&chain);
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::write(certs.join(format!("{hash}.0")), chain.root_pem()).unwrap();
    let c = certs.to_str().unwrap();

    // Oracle: the directory alone verifies; with the directory emptied too, nothing does.
    let with_dir = [("SSL_CERT_FILE", ""), ("SSL_CERT_DIR", c)];
    let real = run_python("/usr/bin/python3", SSL_GET, server.port(), &with_dir);
    assert_eq!(text(&real.stdout).trim(), "ok", "{}", show(&real));
    let neither = [("SSL_CERT_FILE", ""), ("SSL_CERT_DIR", "")];
    let real = run_python("/usr/bin/python3", SSL_GET, server.port(), &neither);
    assert_eq!(real.status.code(), Some(3), "{}", show(&real));

    let doc = status_of("/usr/bin/python3", &with_dir);
    let ssl = row(&doc, "python-ssl");
    assert_eq!(
        ssl["trusted"], 1,
        "only the directory's root counts: {doc:#}"
    );
    assert!(codes(ssl).contains(&"empty-variable".into()), "{doc:#}");
    assert_eq!(ssl["cafile"], serde_json::Value::Null, "{doc:#}");

    let doc = status_of("/usr/bin/python3", &neither);
    let ssl = row(&doc, "python-ssl");
    assert_eq!(ssl["trusted"], 0, "{doc:#}");
    assert_eq!(ssl["verdict"], "broken", "{doc:#}");
}

/// requests before 2.28 takes `CURL_CA_BUNDLE=""` as `verify=False`: the real client
/// accepts a server no one trusts. Current requests falls back to certifi and refuses it.
#[test]
fn an_empty_curl_ca_bundle_turns_verification_off_in_requests_2_27_only() {
    let (Some(old), Some(new)) = (
        venv_python(pyvenv::REQUESTS_2_27),
        venv_python(pyvenv::REQUESTS),
    ) else {
        return;
    };
    let chain = CaChain::new(ChainSpec::default()); // its root is in no store
    let server = TlsServer::for_chain(&chain);
    let env = [("CURL_CA_BUNDLE", "")];

    let real_old = run_python(&old, REQUESTS_GET, server.port(), &env);
    pyvenv::assert_ok_200(&real_old);
    let real_new = run_python(&new, REQUESTS_GET, server.port(), &env);
    pyvenv::assert_verify_failed(&real_new);

    let doc = status_of(&old, &env);
    let rq = row(&doc, "requests");
    assert_eq!(rq["verdict"], "broken", "{doc:#}");
    assert!(codes(rq).contains(&"verification-off".into()), "{doc:#}");
    let doc = status_of(&new, &env);
    assert!(
        !codes(row(&doc, "requests")).contains(&"verification-off".into()),
        "{doc:#}"
    );
}

/// An Alpine image has Debian's bundle path but is not Debian: the flavor comes from its
/// `os-release`.
#[test]
fn the_distro_is_named_from_os_release() {
    let chain = CaChain::new(ChainSpec::default());
    let root = tempfile::tempdir().unwrap();
    let put = |rel: &str, data: &str| {
        let p = root.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    put("etc/ssl/certs/ca-certificates.crt", &chain.root_pem());
    let status = |root: &Path| {
        json(&trustsync(
            &["status", "--json", "--root", root.to_str().unwrap()],
            &[],
        ))
    };
    assert_eq!(status(root.path())["system"]["flavor"], "debian");
    put(
        "etc/os-release",
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n",
    );
    assert_eq!(status(root.path())["system"]["flavor"], "alpine");
}

/// Seed S6, per runtime: `SSL_CERT_FILE` and `REQUESTS_CA_BUNDLE` naming the same bundle
/// that lacks the company CA. OpenSSL clients still read the OS directory (the real
/// python `ssl` verifies), requests reads only the file (the real requests fails): the
/// `SSL_CERT_FILE` row is not a drift, the requests row is.
#[test]
fn a_bundle_lacking_a_ca_harms_only_the_runtimes_that_read_nothing_else() {
    use support::sandbox::{self, Sandbox};
    let Some(sb) = Sandbox::new() else { return };
    let Some(real) = pyvenv::install(&sb, pyvenv::REQUESTS, "/opt/tool/venv") else {
        return;
    };
    let chain = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "s6-corp", &chain.root_pem());
    let server = TlsServer::for_chain(&chain);
    // A copy of a public bundle: every public root, not the company's.
    sb.write(
        "/etc/ssl/public-only.pem",
        std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap(),
    );
    let env = [
        ("SSL_CERT_FILE", "/etc/ssl/public-only.pem"),
        ("REQUESTS_CA_BUNDLE", "/etc/ssl/public-only.pem"),
    ];
    let port = server.port().to_string();
    let ssl = sb.run(&["/usr/bin/python3", "-I", "-c", SSL_GET, &port], &env);
    assert_eq!(text(&ssl.stdout).trim(), "ok", "{}", show(&ssl));
    let rq = sb.run(
        &[real.python.as_str(), "-I", "-c", REQUESTS_GET, &port],
        &env,
    );
    pyvenv::assert_verify_failed(&rq);

    let doc = support::oracle::status_in(&sb, &real.python, &env);
    let rows = doc["runtimes"].as_array().unwrap();
    let find = |kind: &str, label: &str| {
        rows.iter()
            .find(|r| r["kind"] == kind && r["label"].as_str().unwrap().contains(label))
            .unwrap_or_else(|| panic!("no {kind} {label}: {doc:#}"))
    };
    assert_eq!(find("python-ssl", "")["verdict"], "ok", "{doc:#}");
    assert_eq!(find("env-var", "SSL_CERT_FILE")["verdict"], "ok", "{doc:#}");
    let requests = find("requests", "");
    assert_eq!(requests["verdict"], "drift", "{doc:#}");
    assert!(
        requests["missing_locally_added"].as_array().unwrap().len() == 1,
        "{doc:#}"
    );
    assert_eq!(
        find("env-var", "REQUESTS_CA_BUNDLE")["verdict"],
        "drift",
        "{doc:#}"
    );
}

/// OpenSSL 3 searches a default certificate directory twice: `by_dir` tries `HASH.0`,
/// `HASH.1`, … as PEM and stops at the first that does not load; the store lookup walks
/// the entries named for the hash in `readdir` order, PEM or DER, and stops at the first
/// that loads nothing. So a DER `HASH.0` hides nothing, while a dangling or corrupt one
/// hides `HASH.1` only when `readdir` returns it first. Each layout is made in both
/// creation orders (on tmpfs, `readdir` returns the newest first, so both orders are
/// seen), checked with the real `ssl` module, then with status in the same directory.
#[test]
fn a_hashed_dir_is_searched_by_both_lookups_of_openssl_3() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let hash = root_hash(&chain);
    let pem = chain.root_pem().into_bytes();
    let corrupt = b"-----BEGIN CERTIFICATE-----\nMIIBroken!!notbase64\n-----END CERTIFICATE-----\n";
    enum Entry {
        Bytes(Vec<u8>),
        Dangling,
    }
    use Entry::*;
    type Layout = Vec<(String, Entry)>;
    // (what, entries in creation order, the verdict when it does not depend on the order)
    let cases: Vec<(&str, Layout, Option<bool>)> = vec![
        (
            "good .0",
            vec![(format!("{hash}.0"), Bytes(pem.clone()))],
            Some(true),
        ),
        (
            "DER .0, good .1",
            vec![
                (format!("{hash}.0"), Bytes(chain.root_der())),
                (format!("{hash}.1"), Bytes(pem.clone())),
            ],
            Some(true),
        ),
        (
            "DER .0 alone",
            vec![(format!("{hash}.0"), Bytes(chain.root_der()))],
            Some(true),
        ),
        (
            "upper-case name",
            vec![(format!("{}.0", hash.to_uppercase()), Bytes(pem.clone()))],
            Some(true),
        ),
        (
            "leading zero",
            vec![(format!("{hash}.01"), Bytes(pem.clone()))],
            Some(true),
        ),
        (
            "not a number",
            vec![(format!("{hash}.pem"), Bytes(pem.clone()))],
            Some(false),
        ),
        (
            "dangling .0, good .1",
            vec![
                (format!("{hash}.0"), Dangling),
                (format!("{hash}.1"), Bytes(pem.clone())),
            ],
            None,
        ),
        (
            "good .1, dangling .0",
            vec![
                (format!("{hash}.1"), Bytes(pem.clone())),
                (format!("{hash}.0"), Dangling),
            ],
            None,
        ),
        (
            "corrupt .0, good .1",
            vec![
                (format!("{hash}.0"), Bytes(corrupt.to_vec())),
                (format!("{hash}.1"), Bytes(pem.clone())),
            ],
            None,
        ),
        (
            "good .1, corrupt .0",
            vec![
                (format!("{hash}.1"), Bytes(pem.clone())),
                (format!("{hash}.0"), Bytes(corrupt.to_vec())),
            ],
            None,
        ),
    ];
    let shm = Path::new("/dev/shm");
    let mut outcomes = std::collections::BTreeSet::new();
    for (name, entries, expected) in cases {
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        };
        for (file, entry) in &entries {
            let at = dir.path().join(file);
            match entry {
                Bytes(b) => std::fs::write(&at, b).unwrap(),
                Dangling => std::os::unix::fs::symlink("/nonexistent/gone.pem", &at).unwrap(),
            }
        }
        let env = [
            ("SSL_CERT_FILE", "/nonexistent.pem"),
            ("SSL_CERT_DIR", dir.path().to_str().unwrap()),
        ];
        let real = run_python("/usr/bin/python3", SSL_GET, server.port(), &env);
        let verifies = text(&real.stdout).trim() == "ok";
        if let Some(expected) = expected {
            assert_eq!(
                verifies,
                expected,
                "{name}: the real client: {}",
                show(&real)
            );
        } else {
            outcomes.insert(verifies);
        }
        let doc = status_of("/usr/bin/python3", &env);
        let trusted = row(&doc, "python-ssl")["trusted"].as_u64().unwrap();
        assert_eq!(
            trusted,
            u64::from(verifies),
            "{name} (the real client {}): {doc:#}",
            if verifies { "verifies" } else { "fails" }
        );
    }
    if shm.is_dir() {
        // On tmpfs the two orders give both outcomes, so the order-dependent rule was
        // exercised both ways.
        assert_eq!(
            outcomes.len(),
            2,
            "readdir order made no difference: {outcomes:?}"
        );
    }
}

/// Whether this `openssl` binary, with `SSL_CERT_DIR` set, also searches the directory
/// through the store lookup: OpenSSL 3.0 to 3.3 do, 3.4 and later do not
/// (openssl/openssl#24140), and a build that is neither is a test machine to fix.
fn store_lookup_with_cert_dir_set(openssl: &str) -> bool {
    let out = Command::new(openssl)
        .arg("version")
        .env_clear()
        .current_dir("/")
        .output()
        .unwrap();
    let version = text(&out.stdout);
    let minor = version
        .strip_prefix("OpenSSL 3.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("{openssl} is not an OpenSSL 3 build: {version}"));
    minor <= 3
}

/// OpenSSL 3.0 finds a DER `HASH.0` or an upper-case `HASH.0` through the store lookup its
/// default paths add; 3.4 and later dropped that lookup, so only `by_dir` names count.
/// Checked with each build's own `s_client`, then with status's row for that binary.
#[test]
fn each_openssl_searches_a_directory_as_its_own_version_does() {
    let private = support::sandbox::private_openssl_cache();
    let mut builds = vec![Path::new("/usr/bin/openssl").to_path_buf()];
    if private.is_file() {
        builds.push(private);
    } else {
        skip_unless_ci("the private OpenSSL 3.6 build (scripts/build-private-openssl.sh)");
        return;
    }
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let hash = root_hash(&chain);
    let layouts = [
        ("DER .0", format!("{hash}.0"), chain.root_der()),
        (
            "upper-case name",
            format!("{}.0", hash.to_uppercase()),
            chain.root_pem().into_bytes(),
        ),
    ];
    for openssl in &builds {
        let openssl = openssl.to_str().unwrap();
        // The build's own version says whether it has the store lookup: the cached private
        // build is whatever openssl-src the machine fetched, so it is asked, not assumed.
        let store_lookup = &store_lookup_with_cert_dir_set(openssl);
        for (name, file, bytes) in &layouts {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(file), bytes).unwrap();
            let env = [
                ("SSL_CERT_FILE", "/nonexistent.pem"),
                ("SSL_CERT_DIR", dir.path().to_str().unwrap()),
            ];
            let real = Command::new(openssl)
                .args([
                    "s_client",
                    "-verify_return_error",
                    "-servername",
                    "localhost",
                ])
                .arg("-connect")
                .arg(format!("127.0.0.1:{}", server.port()))
                .env_clear()
                .envs(env)
                .stdin(std::process::Stdio::null())
                .current_dir("/")
                .output()
                .unwrap();
            let verifies = text(&real.stdout).contains("Verify return code: 0 (ok)");
            assert_eq!(
                verifies,
                *store_lookup,
                "{openssl}, {name}: {}",
                show(&real)
            );
            let doc = status_of(openssl, &env);
            let trusted = row(&doc, "openssl")["trusted"].as_u64().unwrap();
            assert_eq!(trusted, u64::from(verifies), "{openssl}, {name}: {doc:#}");
        }
    }
}

/// The subject hash of `chain`'s root, by the real `openssl`.
fn root_hash(chain: &CaChain) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), chain.root_pem()).unwrap();
    support::certs::openssl_subject_hash(file.path())
}

/// A root made by the `openssl` command line with the extensions `ext` (none: X.509 v1),
/// its leaf for localhost and 127.0.0.1, and a server for that leaf.
struct CliRoot {
    dir: tempfile::TempDir,
    server: TlsServer,
}

impl CliRoot {
    fn new(ext: Option<&str>) -> CliRoot {
        let dir = tempfile::tempdir().unwrap();
        let at = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
        let openssl = |args: &[&str]| {
            let out = Command::new("/usr/bin/openssl")
                .args(args)
                .current_dir("/")
                .output()
                .unwrap();
            assert!(out.status.success(), "openssl {args:?}: {}", show(&out));
        };
        let ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
        openssl(&[&["genpkey"][..], &ec, &["-out", &at("ca.key")]].concat());
        openssl(&[
            "req",
            "-new",
            "-key",
            &at("ca.key"),
            "-subj",
            "/CN=Lint Root",
            "-out",
            &at("ca.csr"),
        ]);
        let (key, ca_pem, ca_ext, ca_csr) =
            (at("ca.key"), at("ca.pem"), at("ca.ext"), at("ca.csr"));
        let mut root = vec!["x509", "-req", "-days", "30", "-in", &ca_csr];
        root.extend(["-signkey", &key, "-out", &ca_pem]);
        if let Some(ext) = ext {
            std::fs::write(&ca_ext, ext).unwrap();
            root.extend(["-extfile", &ca_ext]);
        }
        openssl(&root);
        openssl(&[&["genpkey"][..], &ec, &["-out", &at("leaf.key")]].concat());
        openssl(&[
            "req",
            "-new",
            "-key",
            &at("leaf.key"),
            "-subj",
            "/CN=localhost",
            "-out",
            &at("leaf.csr"),
        ]);
        std::fs::write(
            at("leaf.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier=keyid,issuer\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-days",
            "10",
            "-in",
            &at("leaf.csr"),
            "-CA",
            &ca_pem,
            "-CAkey",
            &key,
            "-CAcreateserial",
            "-extfile",
            &at("leaf.ext"),
            "-out",
            &at("leaf.pem"),
        ]);
        openssl(&[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            &at("leaf.key"),
            "-outform",
            "DER",
            "-out",
            &at("leaf.p8"),
        ]);
        let der = |pem: &str| {
            let text = std::fs::read_to_string(pem).unwrap();
            ::pem::parse(text).unwrap().into_contents()
        };
        let server = TlsServer::start(
            vec![der(&at("leaf.pem"))],
            std::fs::read(at("leaf.p8")).unwrap(),
        );
        CliRoot { dir, server }
    }

    fn ca_pem(&self) -> String {
        self.dir.path().join("ca.pem").to_str().unwrap().to_string()
    }
}

/// Python 3.13 verifies with `VERIFY_X509_STRICT` (so does urllib3 2.3+ there): a root
/// without keyUsage, with a non-critical or no basicConstraints, or a v1 root, fails there
/// and works on 3.12. A keyUsage without keyCertSign fails everywhere. For each root, each
/// real client decides, and status's row for it must say the same.
#[test]
fn strict_verification_refuses_roots_that_older_clients_accept() {
    let py312 = "/root/.pyenv/versions/3.12.1/bin/python3";
    let py313 = "/root/.pyenv/versions/3.13.0/bin/python3";
    let requests313 = pyvenv::cached_venv("requests-py3.13").join("bin/python3");
    if ![py312, py313].iter().all(|p| Path::new(p).is_file()) || !requests313.is_file() {
        skip_unless_ci(
            "Python 3.12.1 and 3.13.0 (pyenv) and the requests-py3.13 venv (scripts/setup.sh)",
        );
        return;
    }
    let requests313 = requests313.to_str().unwrap();
    let good = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n";
    // (what, extensions, verifies without strict, verifies with strict)
    let cases = [
        ("a well-formed root", Some(good), true, true),
        ("no keyUsage", Some("basicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=hash\n"), true, false),
        ("X.509 v1", None, true, false),
        ("basicConstraints not critical", Some("basicConstraints=CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\n"), true, false),
        ("no basicConstraints", Some("keyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\n"), true, false),
        ("keyUsage without keyCertSign", Some("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\n"), false, false),
    ];
    for (name, ext, plain, strict) in cases {
        let root = CliRoot::new(ext);
        let ca = root.ca_pem();
        let env = [
            ("SSL_CERT_FILE", ca.as_str()),
            ("SSL_CERT_DIR", "/nonexistent"),
        ];
        for (python, kind, script, expected) in [
            (py312, "python-ssl", SSL_GET, plain),
            (py313, "python-ssl", SSL_GET, strict),
            (requests313, "requests", REQUESTS_GET, strict),
        ] {
            let env: Vec<(&str, &str)> = if kind == "requests" {
                vec![("REQUESTS_CA_BUNDLE", ca.as_str())]
            } else {
                env.to_vec()
            };
            let real = run_python(python, script, root.server.port(), &env);
            let verifies = real.status.success();
            assert_eq!(
                verifies,
                expected,
                "{name}, {python} {kind}: the real client: {}",
                show(&real)
            );
            let doc = status_of(python, &env);
            let trusted = row(&doc, kind)["trusted"].as_u64().unwrap();
            assert_eq!(
                trusted,
                u64::from(verifies),
                "{name}, {python} {kind}: {doc:#}"
            );
        }
    }
}

/// CA lint: a locally added CA that Python 3.13 refuses (no keyUsage) or that every client
/// refuses (keyUsage without keyCertSign) is named in `system.warnings`; a well-formed
/// one is not. The roots are the ones the test above checks with the real clients.
#[test]
fn status_lints_each_locally_added_ca() {
    let cases = [
        ("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\n", None),
        ("basicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=hash\n", Some("Python 3.13+")),
        ("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\n", Some("every OpenSSL client")),
    ];
    for (ext, expected) in cases {
        let ca = CliRoot::new(Some(ext));
        let pem = std::fs::read(ca.ca_pem()).unwrap();
        let tree = tempfile::tempdir().unwrap();
        for file in [
            "etc/ssl/certs/ca-certificates.crt",
            "usr/local/share/ca-certificates/lint.crt",
        ] {
            let at = tree.path().join(file);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, &pem).unwrap();
        }
        let out = trustsync(
            &[
                "status",
                "--json",
                "--only",
                "--root",
                tree.path().to_str().unwrap(),
            ],
            &[("HOME", "/nonexistent")],
        );
        let doc = json(&out);
        let lint: Vec<&str> = doc["system"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w.as_str())
            .filter(|w| w.contains("'Lint Root'"))
            .collect();
        match expected {
            None => assert!(lint.is_empty(), "{lint:?}"),
            Some(who) => assert!(
                lint.len() == 1 && lint[0].contains(who) && lint[0].contains("keyUsage"),
                "{ext}: {doc:#}"
            ),
        }
    }
}

/// `BEGIN TRUSTED CERTIFICATE` blocks carry OpenSSL trust settings: a reject of serverAuth
/// or anyExtendedKeyUsage, or a trust list naming neither, makes TLS clients refuse the
/// root; a trust of serverAuth or anyExtendedKeyUsage, an alias, a reject of another
/// purpose do not. Each made with `openssl x509`, read as a CA file and as `HASH.0`.
#[test]
fn trusted_certificate_settings_decide_as_openssl_does() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let hash = root_hash(&chain);
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("root.pem");
    std::fs::write(&plain, chain.root_pem()).unwrap();
    let cases = [
        (["-addreject", "serverAuth"], false),
        (["-addreject", "anyExtendedKeyUsage"], false),
        (["-addtrust", "clientAuth"], false),
        (["-addreject", "clientAuth"], true),
        (["-addtrust", "serverAuth"], true),
        (["-addtrust", "anyExtendedKeyUsage"], true),
        (["-setalias", "corp"], true),
    ];
    for (i, (args, verifies)) in cases.into_iter().enumerate() {
        let file = work.path().join(format!("t{i}.pem"));
        let out = Command::new("/usr/bin/openssl")
            .arg("x509")
            .arg("-in")
            .arg(&plain)
            .args(args)
            .arg("-out")
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", show(&out));
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("-----BEGIN TRUSTED CERTIFICATE-----"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&file, dir.path().join(format!("{hash}.0"))).unwrap();
        let (f, d) = (file.to_str().unwrap(), dir.path().to_str().unwrap());
        for env in [
            [("SSL_CERT_FILE", f), ("SSL_CERT_DIR", "/nonexistent")],
            [("SSL_CERT_FILE", "/nonexistent.pem"), ("SSL_CERT_DIR", d)],
        ] {
            let real = run_python("/usr/bin/python3", SSL_GET, server.port(), &env);
            assert_eq!(
                real.status.success(),
                verifies,
                "{args:?} {env:?}: {}",
                show(&real)
            );
            let doc = status_of("/usr/bin/python3", &env);
            let trusted = row(&doc, "python-ssl")["trusted"].as_u64().unwrap();
            assert_eq!(trusted, u64::from(verifies), "{args:?} {env:?}: {doc:#}");
        }
    }
}

/// pip reads `cert` and `trusted-host` from its configuration files (here the
/// `PIP_CONFIG_FILE` one); `[install]` beats `[global]`. For each file the real pip (24.2+)
/// fetches an index from the loopback server, and status's pip row must name the CA file
/// pip used, and call a `trusted-host` verification off.
#[test]
fn pip_configuration_decides_what_pip_trusts() {
    let venv = pyvenv::cached_venv(pyvenv::PIP);
    let python = venv.join("bin/python3");
    if !python.is_file() {
        skip_unless_ci("the pip venv (scripts/setup.sh)");
        return;
    }
    let python = python.to_str().unwrap();
    let chain = CaChain::new(ChainSpec::default());
    let other = CaChain::new(ChainSpec::default().root("Other Root", None));
    let server = TlsServer::for_chain(&chain);
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good.pem");
    let bad = work.path().join("bad.pem");
    std::fs::write(&good, chain.root_pem()).unwrap();
    std::fs::write(&bad, other.root_pem()).unwrap();
    let (g, b) = (good.to_str().unwrap(), bad.to_str().unwrap());
    // (what, the file, pip's CA file, whether pip verifies, whether it checks at all)
    let cases = [
        (
            "global cert",
            format!("[global]\ncert = {g}\n"),
            Some(g),
            true,
            true,
        ),
        (
            "global cert lacking the CA",
            format!("[global]\ncert = {b}\n"),
            Some(b),
            false,
            true,
        ),
        (
            "install beats global",
            format!("[global]\ncert = {b}\n[install]\ncert = {g}\n"),
            Some(g),
            true,
            true,
        ),
        (
            "trusted-host",
            format!("[global]\ncert = {b}\ntrusted-host = 127.0.0.1\n"),
            Some(b),
            true,
            false,
        ),
    ];
    for (name, conf_text, cafile, verifies, checks) in cases {
        let conf = work.path().join("pip.conf");
        std::fs::write(&conf, &conf_text).unwrap();
        let env = [
            ("HOME", "/nonexistent"),
            ("PIP_CONFIG_FILE", conf.to_str().unwrap()),
            ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
            ("PIP_NO_CACHE_DIR", "1"),
        ];
        let index = format!("https://127.0.0.1:{}/simple/", server.port());
        let real = Command::new(python)
            .args(support::oracle::PIP_DRY_RUN)
            .args([index.as_str(), "nosuchpkg-trustsync"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(env)
            .current_dir("/")
            .output()
            .unwrap();
        let all = format!("{}{}", text(&real.stdout), text(&real.stderr));
        let tls_failed = all.contains("CERTIFICATE_VERIFY_FAILED") || all.contains("SSLError");
        assert_eq!(
            !tls_failed,
            verifies,
            "{name}: the real pip: {}",
            show(&real)
        );
        let doc = status_of(python, &env);
        let pip = row(&doc, "pip");
        // pip 24.2+ loads the named file on top of its other sources.
        let told = pip["extra_cafiles"].as_array().unwrap().last().cloned();
        assert_eq!(
            told.as_ref().and_then(|v| v.as_str()),
            cafile,
            "{name}: {pip:#}"
        );
        assert!(
            codes(pip).contains(&"pip-config".to_string()),
            "{name}: {pip:#}"
        );
        let off = codes(pip).contains(&"verification-off".to_string());
        assert_eq!(off, !checks, "{name}: {pip:#}");
        if !checks {
            assert_eq!(pip["verdict"], "broken", "{name}: {pip:#}");
        }
    }
}

/// Debian patches `certifi.where()` (python3-certifi, and pip's vendored copy in
/// python3-pip and its wheel) to return the OS bundle while `cacert.pem` still ships. The
/// oracle is the real `where()`, asked of each interpreter's own pip; status's pip row
/// must read the same file.
#[test]
fn pip_reads_the_bundle_its_real_certifi_where_returns() {
    let mut pythons = vec!["/usr/bin/python3".to_string()];
    for venv in [pyvenv::REQUESTS, pyvenv::PIP] {
        let p = pyvenv::cached_venv(venv).join("bin/python3");
        if p.is_file() {
            pythons.push(p.to_str().unwrap().to_string());
        } else {
            skip_unless_ci("the venvs of scripts/setup.sh");
        }
    }
    let mut patched = 0;
    for python in &pythons {
        let real = Command::new(python)
            .args([
                "-I",
                "-c",
                "from pip._vendor import certifi; print(certifi.where())",
            ])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir("/")
            .output()
            .unwrap();
        if !real.status.success() {
            continue; // no pip in this interpreter
        }
        let where_ = text(&real.stdout).trim().to_string();
        patched += usize::from(!where_.ends_with("cacert.pem"));
        // pip before 24.2 reads certifi's file; 24.2+ uses truststore unless told.
        let doc = status_of(
            python,
            &[("HOME", "/nonexistent"), ("PIP_CONFIG_FILE", "/dev/null")],
        );
        let pip = row(&doc, "pip");
        let version = pip["version"].as_str().unwrap_or("");
        if version.starts_with("pip 23") {
            assert_eq!(
                pip["cafile"].as_str(),
                Some(where_.as_str()),
                "{python}: {pip:#}"
            );
        }
    }
    if Path::new("/usr/share/doc/python3-pip").is_dir() {
        assert!(
            patched > 0,
            "Debian's pip is installed, yet no where() was patched"
        );
    }
}
