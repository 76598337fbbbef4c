//! `trustsync list` through the binary over a `--root` tree of generated CAs: a Debian
//! store with a public root, a locally added company root, an expired root, and one the
//! administrator distrusts with a `!` line. Filters, exit codes, `--json` and the human
//! columns (a Chinese CA name included). No system path is read.

mod support;
use serde_json::Value;
use support::certs::*;

struct Store {
    root: tempfile::TempDir,
    public: TestCa,
    corp: TestCa,
    old: TestCa,
    bad: TestCa,
}

fn store() -> Store {
    let root = tempfile::tempdir().unwrap();
    let public = make_cert("Public Root", true, 2099);
    let corp = make_cert("公司代理根证书", true, 2099);
    let old = make_cert("Old Root", true, 2010);
    let bad = make_cert("Bad Root", true, 2099);
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        format!("{}{}{}", public.pem, corp.pem, old.pem).as_bytes(),
    );
    write(
        root.path(),
        "/usr/local/share/ca-certificates/corp.crt",
        corp.pem.as_bytes(),
    );
    write(
        root.path(),
        "/usr/share/ca-certificates/mozilla/Bad.crt",
        bad.pem.as_bytes(),
    );
    write(
        root.path(),
        "/etc/ca-certificates.conf",
        b"mozilla/Public.crt\n!mozilla/Bad.crt\n",
    );
    Store {
        root,
        public,
        corp,
        old,
        bad,
    }
}

impl Store {
    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut argv = vec!["list", "--root", self.root.path().to_str().unwrap()];
        argv.extend_from_slice(args);
        trustsync(&argv, &[])
    }

    /// The fingerprints `list --json ARGS` gives, checking its exit code.
    fn listed(&self, args: &[&str], code: i32) -> Vec<String> {
        let mut argv = args.to_vec();
        argv.push("--json");
        let out = self.run(&argv);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            support::report::show(&out)
        );
        let doc = json(&out);
        assert_eq!(doc["exit_code"], code);
        doc["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["sha256"].as_str().unwrap().to_string())
            .collect()
    }
}

#[test]
fn filters_narrow_the_list_and_the_exit_code_says_whether_anything_matched() {
    let s = store();
    let fp = |c: &TestCa| c.fingerprint.clone();
    assert_eq!(
        s.listed(&[], 0),
        [fp(&s.public), fp(&s.corp), fp(&s.old), fp(&s.bad)]
    );
    assert_eq!(s.listed(&["--local"], 0), [fp(&s.corp)]);
    assert_eq!(s.listed(&["--expired"], 0), [fp(&s.old)]);
    assert_eq!(s.listed(&["--distrusted"], 0), [fp(&s.bad)]);
    assert_eq!(s.listed(&["public"], 0), [fp(&s.public)], "any case");
    // A fingerprint prefix, as `add` prints it: colons and upper case allowed.
    let f = fp(&s.old).to_uppercase();
    let prefix = format!("{}:{}:{}", &f[..2], &f[2..4], &f[4..6]);
    assert_eq!(s.listed(&[&prefix], 0), [fp(&s.old)]);
    // Filters combine: nothing is both local and expired.
    assert!(s.listed(&["--local", "--expired"], 1).is_empty());
    assert!(s.listed(&["no such CA"], 1).is_empty());
}

#[test]
fn json_fields_are_stable() {
    let s = store();
    let out = s.run(&["--json", "--local"]);
    let doc: Value = json(&out);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["flavor"], "debian");
    assert_eq!(doc["total"], 4);
    let c = &doc["certificates"][0];
    assert_eq!(c["sha256"], s.corp.fingerprint.as_str());
    assert_eq!(c["name"], "公司代理根证书");
    assert!(
        c["subject"].as_str().unwrap().contains("trustsync tests"),
        "{c}"
    );
    assert_eq!(c["not_after"], 4_070_908_800i64);
    assert_eq!(c["not_after_rfc3339"], "2099-01-01T00:00:00Z");
    assert_eq!(c["locally_added"], true);
    assert_eq!(c["distrusted"], false);
    assert_eq!(c["expired"], false);
}

/// One line a CA: fingerprint prefix, date, flags, name, in columns that hold with a
/// Chinese name; a count at the end; exit 2 with the error document on an unreadable store.
#[test]
fn human_lines_and_errors() {
    use unicode_width::UnicodeWidthStr;
    let s = store();
    let out = s.run(&["--color", "never"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |c: &TestCa| {
        text.lines()
            .find(|l| l.starts_with(&c.fingerprint[..16]))
            .unwrap_or_else(|| panic!("no line for {}: {text}", c.fingerprint))
            .to_string()
    };
    assert!(line(&s.corp).contains(" local "), "{text}");
    assert!(line(&s.old).contains("2010-01-01 expired"), "{text}");
    assert!(line(&s.bad).contains("distrusted"), "{text}");
    let name_column = |l: &str, name: &str| UnicodeWidthStr::width(&l[..l.find(name).unwrap()]);
    assert_eq!(
        name_column(&line(&s.corp), "公司"),
        name_column(&line(&s.public), "Public Root"),
        "{text}"
    );
    assert!(
        text.ends_with("4 of the 4 CAs in the OS store (debian)\n"),
        "{text}"
    );

    let empty = tempfile::tempdir().unwrap();
    let out = trustsync(
        &["list", "--json", "--root", empty.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["command"], "list");
    assert_eq!(doc["error"], "store-unreadable");
}
