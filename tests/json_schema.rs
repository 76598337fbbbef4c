//! Every JSON field that README.md documents must be in `status --json` output: provisioning
//! scripts parse it, so a field disappearing is a breaking change this test catches.

mod support;
use support::certs::*;

fn documented_fields() -> Vec<String> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("<!-- json-fields:start -->")
        .expect("README has the JSON field table");
    let end = readme.find("<!-- json-fields:end -->").unwrap();
    readme[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

fn lookup<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.')
        .try_fold(v, |v, part| match part.strip_suffix("[]") {
            Some(name) => v.get(name)?.as_array()?.first(),
            None => v.get(part),
        })
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
    let fields = documented_fields();
    assert!(fields.len() > 20, "the table parsed: {fields:?}");
    for f in &fields {
        assert!(
            lookup(&doc, f).is_some(),
            "documented field {f} is missing from {doc:#}"
        );
    }
}
