//! Every JSON field that README.md documents must be in the output, with the type the
//! README's table gives it: provisioning scripts and the Ansible role parse `status --json`
//! and `fix --json`, so a field disappearing or changing type (a number becoming a string,
//! a list becoming null) is a breaking change this test catches. The documents come from real runs over `--root`
//! trees; no system path is touched.

mod support;
use support::certs::*;

/// The rows of the README table between `<!-- {name}:start -->` and `<!-- {name}:end -->`:
/// each row's field path and its remaining cells.
fn documented_rows(name: &str) -> Vec<(String, Vec<String>)> {
    let readme = include_str!("../README.md");
    let start = readme
        .find(&format!("<!-- {name}:start -->"))
        .unwrap_or_else(|| panic!("README has the {name} table"));
    let end = readme.find(&format!("<!-- {name}:end -->")).unwrap();
    readme[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| {
            let (field, rest) = l.split_once('`')?;
            let cells = rest
                .split('|')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
            Some((field.to_string(), cells))
        })
        .collect()
}

fn lookup<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.')
        .try_fold(v, |v, part| match part.strip_suffix("[]") {
            Some(name) => v.get(name)?.as_array()?.first(),
            None => v.get(part),
        })
}

/// Every value at `path` (each element of every `[]` array on the way), for type checks.
fn lookup_all<'a>(v: &'a serde_json::Value, path: &str) -> Vec<&'a serde_json::Value> {
    path.split('.').fold(vec![v], |values, part| {
        values
            .into_iter()
            .flat_map(|v| match part.strip_suffix("[]") {
                Some(name) => v
                    .get(name)
                    .and_then(|a| a.as_array())
                    .map(|a| a.iter().collect())
                    .unwrap_or_default(),
                None => v.get(part).into_iter().collect::<Vec<_>>(),
            })
            .collect()
    })
}

/// Does `value` have the README's `ty`: `number`, `string`, `bool`, `object`, `cert` (an
/// object with `sha256`, `subject`, `not_after` in epoch seconds and the same instant as
/// RFC 3339 in `not_after_rfc3339`), `action` (an object with `target` and
/// `action`), `[T]` (a list of T), `A/B` (either)?
fn has_type(value: &serde_json::Value, ty: &str) -> bool {
    use serde_json::Value;
    if let Some((a, b)) = ty.split_once('/') {
        return has_type(value, a) || has_type(value, b);
    }
    if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return value
            .as_array()
            .is_some_and(|items| items.iter().all(|i| has_type(i, inner)));
    }
    match ty {
        "null" => value.is_null(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "bool" => value.is_boolean(),
        "object" => value.is_object(),
        "cert" => {
            ["sha256", "subject", "not_after_rfc3339"]
                .iter()
                .all(|k| value.get(k).is_some_and(Value::is_string))
                && value.get("not_after").is_some_and(Value::is_i64)
                && value["not_after_rfc3339"]
                    .as_str()
                    .is_some_and(is_rfc3339_utc)
        }
        "action" => ["target", "action", "result_digest"]
            .iter()
            .all(|k| value.get(k).is_some_and(Value::is_string)),
        other => panic!("README uses a type this test does not know: {other:?}"),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, what every JSON timestamp string is.
fn is_rfc3339_utc(t: &str) -> bool {
    let shape = "dddd-dd-ddTdd:dd:ddZ";
    t.len() == shape.len()
        && t.chars()
            .zip(shape.chars())
            .all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s })
}

/// Asserts every value at `field` in `doc` has the documented type `ty`.
#[track_caller]
fn assert_typed(doc: &serde_json::Value, field: &str, ty: &str, name: &str) {
    let values = lookup_all(doc, field);
    assert!(!values.is_empty(), "{field} is missing from the {name}");
    for v in values {
        assert!(
            has_type(v, ty),
            "{field} in the {name} is documented as {ty}, but is {v}"
        );
    }
}

#[test]
fn the_type_checker_tells_types_apart() {
    use serde_json::json;
    assert!(has_type(&json!(1), "number") && !has_type(&json!("1"), "number"));
    assert!(has_type(&json!(null), "string/null") && !has_type(&json!(null), "string"));
    assert!(has_type(&json!(["a"]), "[string]") && !has_type(&json!([1]), "[string]"));
    assert!(!has_type(&json!({"sha256": "x"}), "cert"));
    let cert =
        |t: &str| json!({"sha256": "x", "subject": "y", "not_after": 1, "not_after_rfc3339": t});
    assert!(has_type(&cert("1970-01-01T00:00:01Z"), "cert"));
    assert!(!has_type(&cert("1"), "cert"));
    assert_eq!(
        lookup_all(&json!({"a": [{"b": 1}, {"b": 2}]}), "a[].b").len(),
        2
    );
}

#[test]
fn every_documented_field_is_present() {
    let root = tempfile::tempdir().unwrap();
    let ca = make_cert("Schema Root", true, 2099);
    let bundle = write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        ca.pem.as_bytes(),
    );
    // Added locally, so `system.locally_added` has a cert to type-check.
    write(
        root.path(),
        "/usr/local/share/ca-certificates/schema.crt",
        ca.pem.as_bytes(),
    );
    let out = trustsync(
        &[
            "status",
            "--json",
            "--only",
            "--root",
            root.path().to_str().unwrap(),
        ],
        &[("SSL_CERT_FILE", bundle.to_str().unwrap())],
    );
    let doc = json(&out);
    let rows = documented_rows("json-fields");
    assert!(rows.len() > 20, "the table parsed: {rows:?}");
    for (f, cells) in &rows {
        assert!(
            lookup(&doc, f).is_some(),
            "documented field {f} is missing from {doc:#}"
        );
        assert_typed(&doc, f, &cells[0], "status document");
    }
}

/// The S2 tree plus a trust variable set outside trustsync to a stale file (advice), so
/// every list in the fix document has an entry to look into. Returns the variable's value.
#[cfg(unix)]
fn drifting_tree() -> (tempfile::TempDir, String) {
    let tree = support::trees::corp_tree();
    let stale = write(
        tree.root.path(),
        "/opt/stale.pem",
        tree.public.pem.as_bytes(),
    );
    (tree.root, stale.display().to_string())
}

#[cfg(unix)]
#[test]
fn every_documented_fix_field_is_present() {
    // Runs `fix --json ARGS` over a tree and checks the exit code.
    let run = |(root, stale): &(tempfile::TempDir, String), args: &[&str], code: i32| {
        let mut argv = vec!["fix", "--json", "--root", root.path().to_str().unwrap()];
        argv.extend_from_slice(args);
        // SSL_CERT_DIR set too (to nothing), so the stale file is all OpenSSL reads and
        // its row drifts (with SSL_CERT_FILE alone the default directory still counts).
        let out = trustsync(
            &argv,
            &[
                ("HOME", "/nonexistent"),
                ("SSL_CERT_FILE", stale.as_str()),
                ("SSL_CERT_DIR", "/nonexistent-dir"),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let tree = drifting_tree();
    let dry = run(&tree, &["--dry-run"], 0);
    let applied = run(&tree, &["--yes"], 0);
    // A file of the same name that trustsync did not write: the env strategy's run refuses
    // it and fails.
    let failing = drifting_tree();
    write(
        failing.0.path(),
        "/etc/profile.d/trustsync.sh",
        b"# the admin's own\n",
    );
    let failed = run(&failing, &["--yes", "--strategy", "env"], 1);
    let docs = [
        ("dry run", json(&dry)),
        ("applied run", json(&applied)),
        ("failed run", json(&failed)),
    ];
    let rows = documented_rows("fix-json-fields");
    assert!(rows.len() > 20, "the table parsed: {rows:?}");
    for (field, cells) in &rows {
        let wanted_in: &[&str] = match cells.first().map(String::as_str) {
            Some("all") => &["dry run", "applied run", "failed run"],
            Some("real") => &["applied run", "failed run"],
            Some("failed") => &["failed run"],
            other => panic!("{field}: unknown \"in\" cell {other:?}"),
        };
        for (name, doc) in docs.iter().filter(|(n, _)| wanted_in.contains(n)) {
            assert!(
                lookup(doc, field).is_some(),
                "documented field {field} is missing from the {name}'s document: {doc:#}"
            );
            assert_typed(doc, field, &cells[1], name);
        }
    }
}

/// The error document (README "When a `--json` command fails") from real failures: an
/// unreadable store, a usage error clap reports, and probe's own tag.
#[test]
fn every_documented_error_field_is_present() {
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let runs = [
        (
            "store error",
            vec!["status", "--json", "--only", "--root", empty],
        ),
        ("usage error", vec!["fix", "--json", "--no-such-flag"]),
        (
            "probe error",
            vec!["probe", "127.0.0.1", "--json", "--only", "--root", empty],
        ),
    ];
    let rows = documented_rows("error-json-fields");
    assert_eq!(rows.len(), 5, "the table parsed: {rows:?}");
    for (name, args) in runs {
        let out = trustsync(&args, &[]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let doc = json(&out);
        for (field, cells) in &rows {
            assert!(
                lookup(&doc, field).is_some(),
                "documented field {field} is missing from the {name}'s document: {doc:#}"
            );
            assert_typed(&doc, field, &cells[0], name);
        }
    }
}

/// `list --json` over a tree with a locally added CA: every field README documents.
#[test]
fn every_documented_list_field_is_present() {
    let root = tempfile::tempdir().unwrap();
    let ca = make_cert("List Root", true, 2099);
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        ca.pem.as_bytes(),
    );
    write(
        root.path(),
        "/usr/local/share/ca-certificates/list.crt",
        ca.pem.as_bytes(),
    );
    let out = trustsync(
        &["list", "--json", "--root", root.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let rows = documented_rows("list-json-fields");
    assert!(rows.len() > 10, "the table parsed: {rows:?}");
    for (field, cells) in &rows {
        assert!(
            lookup(&doc, field).is_some(),
            "{field} missing from {doc:#}"
        );
        assert_typed(&doc, field, &cells[0], "list document");
    }
}
