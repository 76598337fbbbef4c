//! `trustsync status` end to end through the binary, against a generated OS store under
//! `--root` and trust variables pointing at generated files. No system path is touched.

mod support;
use support::certs::*;

struct Machine {
    root: tempfile::TempDir,
    corp: TestCa,
    public: TestCa,
}

/// An OS store with one public CA and one CA added locally (the company proxy's root).
fn machine() -> Machine {
    let root = tempfile::tempdir().unwrap();
    let public = make_cert("Public Root", true, 2099);
    let corp = make_cert("Corp Proxy Root", true, 2099);
    let bundle = format!("{}{}", public.pem, corp.pem);
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        bundle.as_bytes(),
    );
    write(
        root.path(),
        "/usr/local/share/ca-certificates/corp.crt",
        corp.pem.as_bytes(),
    );
    Machine { root, corp, public }
}

fn status(m: &Machine, env: &[(&str, &str)]) -> (serde_json::Value, std::process::Output) {
    let root = m.root.path().to_str().unwrap();
    let out = trustsync(&["status", "--json", "--only", "--root", root], env);
    (json(&out), out)
}

fn row<'a>(doc: &'a serde_json::Value, label: &str) -> &'a serde_json::Value {
    doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no row {label} in {doc:#}"))
}

#[test]
fn all_in_sync_exits_0() {
    let m = machine();
    let bundle = under(m.root.path(), "/etc/ssl/certs/ca-certificates.crt");
    let (doc, out) = status(&m, &[("SSL_CERT_FILE", bundle.to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["system"]["certificates"], 2);
    assert_eq!(
        doc["system"]["locally_added"][0]["sha256"],
        m.corp.fingerprint.as_str()
    );
    assert_eq!(row(&doc, "$SSL_CERT_FILE")["verdict"], "ok");
    assert_eq!(row(&doc, "$SSL_CERT_FILE")["trusted"], 2);
}

#[test]
fn bundle_lacking_the_local_ca_is_drift_and_names_it() {
    let m = machine();
    let stale = write(
        m.root.path(),
        "/opt/app/cacert.pem",
        m.public.pem.as_bytes(),
    );
    let (doc, out) = status(&m, &[("REQUESTS_CA_BUNDLE", stale.to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(1));
    let r = row(&doc, "$REQUESTS_CA_BUNDLE");
    assert_eq!(r["verdict"], "drift");
    assert_eq!(r["missing"], serde_json::json!([m.corp.fingerprint]));
    assert_eq!(r["missing_locally_added"][0]["subject"], "Corp Proxy Root");
    let p = &r["problems"][0];
    assert_eq!(p["code"], "os-cas-missing");
    assert!(
        p["message"].as_str().unwrap().contains("added locally"),
        "{p}"
    );
}

#[test]
fn extra_and_expired_cas_are_reported() {
    let m = machine();
    let old = make_cert("Removed Old Root", true, 2010);
    let bundle = format!("{}{}{}", m.public.pem, m.corp.pem, old.pem);
    let f = write(m.root.path(), "/opt/app/old-cacert.pem", bundle.as_bytes());
    let (doc, _) = status(&m, &[("HTTPLIB2_CA_CERTS", f.to_str().unwrap())]);
    let r = row(&doc, "$HTTPLIB2_CA_CERTS");
    assert_eq!(r["verdict"], "drift");
    let codes: Vec<&str> = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"ca-not-in-os-store"), "{codes:?}");
    assert!(codes.contains(&"expired-cas"), "{codes:?}");
}

#[test]
fn bad_files_are_one_line_each_and_the_run_goes_on() {
    let m = machine();
    let dir = m.root.path().join("bad");
    std::fs::create_dir(&dir).unwrap();
    let garbage = write(&dir, "/garbage.pem", b"this is not a certificate\n");
    let full = m.public.pem.as_bytes();
    let truncated = write(&dir, "/truncated.pem", &full[..full.len() / 2]);
    let truncated_der = write(
        &dir,
        "/truncated.der",
        &m.public.der[..m.public.der.len() - 7],
    );
    let empty = write(&dir, "/empty.pem", b"");
    #[cfg(unix)]
    {
        // Relative: under `--root` an absolute link target is resolved inside the tree.
        std::os::unix::fs::symlink("loop-b", dir.join("loop-a")).unwrap();
        std::os::unix::fs::symlink("loop-a", dir.join("loop-b")).unwrap();
    }
    let loop_a = dir.join("loop-a");
    let env = [
        ("SSL_CERT_FILE", garbage.to_str().unwrap()),
        ("REQUESTS_CA_BUNDLE", truncated.to_str().unwrap()),
        ("AWS_CA_BUNDLE", truncated_der.to_str().unwrap()),
        ("CURL_CA_BUNDLE", empty.to_str().unwrap()),
        ("PIP_CERT", loop_a.to_str().unwrap()),
        ("GIT_SSL_CAINFO", "/nonexistent/ca.pem"),
        ("SSL_CERT_DIR", garbage.to_str().unwrap()),
    ];
    let (doc, out) = status(&m, &env);
    assert_eq!(out.status.code(), Some(1));
    for (var, path) in env {
        let r = row(&doc, &format!("${var}"));
        assert_eq!(r["verdict"], "broken", "{var}");
        let msg = r["problems"][0]["message"].as_str().unwrap();
        assert_eq!(r["problems"][0]["code"], "env-var-broken");
        assert!(msg.contains(path) && !msg.contains('\n'), "{var}: {msg}");
    }
    assert!(row(&doc, "$PIP_CERT")["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("symlink loop"));
    // The human output names each file on one line too, and never panics.
    let human = trustsync(
        &[
            "status",
            "--only",
            "--root",
            m.root.path().to_str().unwrap(),
        ],
        &env,
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("truncated.der") && text.contains("7 broken"),
        "{text}"
    );
    assert!(!String::from_utf8_lossy(&human.stderr).contains("panicked"));
}

#[test]
fn an_additive_variable_need_not_hold_every_ca() {
    let m = machine();
    let corp_only = write(m.root.path(), "/etc/corp.pem", m.corp.pem.as_bytes());
    let (doc, _) = status(&m, &[("NODE_EXTRA_CA_CERTS", corp_only.to_str().unwrap())]);
    assert_eq!(row(&doc, "$NODE_EXTRA_CA_CERTS")["verdict"], "ok");
}

#[test]
fn durations_are_bounded_and_refused_in_one_line() {
    for (args, bad) in [
        (&["status", "--runtime-timeout"][..], "inf"),
        (&["status", "--runtime-timeout"][..], "nan"),
        (&["status", "--runtime-timeout"][..], "0"),
        (&["status", "--runtime-timeout"][..], "1e9"),
        (&["probe", "127.0.0.1", "--timeout"][..], "inf"),
    ] {
        let mut argv = args.to_vec();
        argv.push(bad);
        let out = trustsync(&argv, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{argv:?}: {stderr}");
        assert!(
            stderr.contains("between 0.1 and 3600 seconds"),
            "{argv:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn usage_and_store_errors_exit_2() {
    assert_eq!(
        trustsync(&["status", "--bogus"], &[]).status.code(),
        Some(2)
    );
    let empty = tempfile::tempdir().unwrap();
    let out = trustsync(
        &["status", "--only", "--root", empty.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no system CA bundle found"));
}

/// Colour only where the terminal can show it: on a real TTY (util-linux `script` gives one)
/// the verdicts are coloured, with `TERM=dumb` or `NO_COLOR` they are not, and piped never;
/// `--color always|never` overrides, and JSON is never coloured.
#[cfg(target_os = "linux")]
#[test]
fn colour_follows_the_terminal_term_dumb_and_no_color() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        support::report::skip_unless_ci("script(1) is missing (apt-get install util-linux)");
        return;
    }
    let m = machine();
    let root = m.root.path().to_str().unwrap();
    let cmd = format!(
        "{} status --only --root {root}",
        env!("CARGO_BIN_EXE_trustsync")
    );
    let on_tty = |env: &[(&str, &str)]| -> Vec<u8> {
        let out = std::process::Command::new("/usr/bin/script")
            .args(["-qec", &cmd, "/dev/null"])
            .env_remove("NO_COLOR")
            .env("TERM", "xterm-256color")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!out.stdout.is_empty(), "{}", support::report::show(&out));
        out.stdout
    };
    let esc = |bytes: &[u8]| bytes.contains(&0x1b);
    assert!(esc(&on_tty(&[])), "a colour terminal gets colour");
    assert!(!esc(&on_tty(&[("TERM", "dumb")])), "TERM=dumb gets none");
    assert!(!esc(&on_tty(&[("NO_COLOR", "1")])), "NO_COLOR gets none");
    let piped = trustsync(&["status", "--only", "--root", root], &[("TERM", "xterm")]);
    assert!(!esc(&piped.stdout), "a pipe gets none");
    // --color decides over the terminal, TERM and NO_COLOR, on every command.
    // (A variable gives the tree a row to colour.)
    let file = write(
        m.root.path(),
        "/opt/both.pem",
        format!("{}{}", m.public.pem, m.corp.pem).as_bytes(),
    );
    let var = [("SSL_CERT_FILE", file.to_str().unwrap())];
    let forced = trustsync(
        &["status", "--only", "--root", root, "--color", "always"],
        &var,
    );
    assert!(
        esc(&forced.stdout),
        "--color always colours a pipe: {}",
        support::report::show(&forced)
    );
    let cmd_never = format!("{cmd} --color never");
    let out = std::process::Command::new("/usr/bin/script")
        .args(["-qec", &cmd_never, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(
        !out.stdout.is_empty() && !esc(&out.stdout),
        "--color never on a TTY"
    );
    let json = trustsync(
        &[
            "status", "--json", "--only", "--root", root, "--color", "always",
        ],
        &[],
    );
    assert!(!esc(&json.stdout), "JSON is never coloured");
}

/// `remove` with something that is not a fingerprint is a usage error: exit 2, as README
/// says, with the JSON error document under `--json`.
#[test]
fn remove_with_a_bad_fingerprint_exits_2() {
    let out = trustsync(&["remove", "xyz"], &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        support::report::show(&out)
    );
    let out = trustsync(&["remove", "xyz", "--json"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["code"], "bad-fingerprint");
}

/// The error document (README "When a `--json` command fails"): on stdout whenever a
/// `--json` run fails before it has a document, with the stderr line as its message; clap's
/// usage errors too, when `--json` is among the arguments; nothing on stdout without it.
#[test]
fn json_failures_print_the_error_document() {
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let check = |args: &[&str], command: &str, error: &str, schema: &str| {
        let out = trustsync(args, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            support::report::show(&out)
        );
        let doc = json(&out);
        assert_eq!(doc["schema"], schema, "{args:?}: {doc:#}");
        assert_eq!(doc["command"], command, "{doc:#}");
        assert_eq!(doc["error"], error, "{doc:#}");
        assert_eq!(doc["exit_code"], 2, "{doc:#}");
        let message = doc["message"].as_str().unwrap();
        assert!(!message.is_empty() && !message.contains('\n'), "{doc:#}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(message),
            "the same line on stderr: {}",
            support::report::show(&out)
        );
    };
    const ERR: &str = "trustsync-error/1";
    check(
        &["status", "--json", "--only", "--root", empty],
        "status",
        "store-unreadable",
        ERR,
    );
    check(
        &["status", "--json", "--runtime", "/nonexistent/python3"],
        "status",
        "runtime-not-found",
        ERR,
    );
    check(
        &["fix", "--dry-run", "--json", "--only", "--root", empty],
        "fix",
        "store-unreadable",
        ERR,
    );
    check(&["status", "--json", "--bogus"], "status", "usage", ERR);
    check(
        &["--color", "never", "hook", "status", "--json", "--bogus"],
        "hook status",
        "usage",
        ERR,
    );
    check(
        &["status", "--json", "--runtime-timeout", "nan"],
        "status",
        "usage",
        ERR,
    );
    // probe keeps the tag its connection errors always had.
    check(
        &["probe", "127.0.0.1", "--json", "--only", "--root", empty],
        "probe",
        "store-unreadable",
        "trustsync-probe/1",
    );
    check(
        &["probe", "--json", "--timeout", "0", "127.0.0.1"],
        "probe",
        "usage",
        "trustsync-probe/1",
    );
    // Without --json: the stderr line alone.
    for args in [
        &["status", "--bogus"][..],
        &["status", "--only", "--root", empty][..],
    ] {
        let out = trustsync(args, &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty(), "{}", support::report::show(&out));
    }
    // `--json` after `--` is an operand, not the flag: no document.
    let out = trustsync(&["probe", "--only", "--root", empty, "--", "--json"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", support::report::show(&out));
}

/// Epoch seconds in JSON have an RFC 3339 sibling with the same instant; the old field
/// stays (fields are only ever added).
#[test]
fn cert_times_come_in_epoch_seconds_and_rfc3339() {
    let m = machine();
    let bundle = under(m.root.path(), "/etc/ssl/certs/ca-certificates.crt");
    let (doc, _) = status(&m, &[("SSL_CERT_FILE", bundle.to_str().unwrap())]);
    let corp = &doc["system"]["locally_added"][0];
    assert_eq!(corp["subject"], "Corp Proxy Root", "{doc:#}");
    // make_cert's 2099 is 2099-01-01T00:00:00Z.
    assert_eq!(corp["not_after"], 4_070_908_800i64, "{corp}");
    assert_eq!(corp["not_after_rfc3339"], "2099-01-01T00:00:00Z", "{corp}");
}

/// A [`machine`] with a certifi lacking the local CA in two prefixes, one of them with
/// Chinese directory names (two terminal cells a character).
fn chinese_and_ascii_prefixes() -> Machine {
    let m = machine();
    for prefix in ["/opt/app", "/opt/张三的项目"] {
        write(
            m.root.path(),
            &format!("{prefix}/lib/python3.11/site-packages/certifi/cacert.pem"),
            m.public.pem.as_bytes(),
        );
    }
    m
}

/// Columns are counted in terminal cells: a row whose path has Chinese directory names
/// (two cells a character) has its TRUSTS and VERDICT in the same display column as an
/// ASCII row's.
#[test]
fn a_chinese_path_keeps_its_row_in_column() {
    use unicode_width::UnicodeWidthStr;
    let m = chinese_and_ascii_prefixes();
    let root = m.root.path().to_str().unwrap();
    let out = trustsync(&["status", "--root", root, "--color", "never"], &[]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let row = |needle: &str| {
        text.lines()
            .find(|l| l.starts_with("requests") && l.contains(needle))
            .unwrap_or_else(|| {
                panic!(
                    "no requests row with {needle}: {}",
                    support::report::show(&out)
                )
            })
    };
    // The display column where the row's verdict starts.
    let verdict_column = |line: &str| {
        let at = line.rfind("drift").expect("a drift verdict");
        UnicodeWidthStr::width(&line[..at])
    };
    let header = text.lines().find(|l| l.starts_with("KIND")).unwrap();
    let ascii = row("/opt/app/");
    let chinese = row("张三的项目");
    assert_eq!(
        verdict_column(chinese),
        verdict_column(ascii),
        "\n{ascii}\n{chinese}"
    );
    assert_eq!(
        verdict_column(ascii),
        UnicodeWidthStr::width(&header[..header.find("VERDICT").unwrap()]),
        "\n{header}\n{ascii}"
    );
}

/// In Simplified Chinese (`LANG=zh_CN.UTF-8`): the headings, verdicts, problem messages and
/// summary are Chinese, the codes and paths as they are, and the columns still line up by
/// terminal cells although every heading is double width. `--json` is the English
/// document whatever the locale.
#[test]
fn status_speaks_chinese_for_a_chinese_locale_and_json_does_not() {
    use unicode_width::UnicodeWidthStr;
    let m = chinese_and_ascii_prefixes();
    let root = m.root.path().to_str().unwrap();
    let zh = [("LANG", "zh_CN.UTF-8")];
    let out = trustsync(&["status", "--root", root, "--color", "never"], &zh);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        support::report::show(&out)
    );
    let header = text
        .lines()
        .find(|l| l.starts_with("类型"))
        .unwrap_or_else(|| panic!("no Chinese heading: {text}"));
    for h in ["运行时", "信任数", "结论"] {
        assert!(header.contains(h), "{header}");
    }
    assert!(text.starts_with("操作系统信任库（"), "{text}");
    assert!(
        text.contains("[os-cas-missing] 缺少操作系统信任库 2 个 CA 中的 1 个，其中包括 1 个本机添加的（Corp Proxy Root）"),
        "{text}"
    );
    assert!(text.contains("个正常，"), "{text}");
    assert!(
        !text.contains("drift") && !text.contains("VERDICT"),
        "{text}"
    );
    // Columns by cells: each row's verdict starts where the heading's does.
    let column =
        |line: &str, word: &str| UnicodeWidthStr::width(&line[..line.rfind(word).unwrap()]);
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("requests")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    for r in &rows {
        assert_eq!(column(r, "偏离"), column(header, "结论"), "\n{header}\n{r}");
        // TRUSTS is right-aligned under its heading: the count ends where it ends.
        assert_eq!(
            column(r, "  偏离"),
            column(header, "信任数") + UnicodeWidthStr::width("信任数"),
            "\n{header}\n{r}"
        );
    }
    // --json: identical runtimes, English messages.
    let doc = |env: &[(&str, &str)]| {
        json(&trustsync(&["status", "--json", "--root", root], env))["runtimes"].clone()
    };
    let english = doc(&[("LANG", "C")]);
    assert_eq!(doc(&zh), english);
    assert!(
        english
            .to_string()
            .contains("lacks 1 of the OS store's 2 CAs"),
        "{english}"
    );
}
