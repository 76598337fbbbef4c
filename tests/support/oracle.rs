//! What the oracle tests (`tests/truth_*.rs`) share: the real `ssl` client script, and
//! reading status's verdict on one row the way those tests compare it with the client.

/// Python `ssl`'s default context against `127.0.0.1:PORT` (argv 1): prints `ok`, or
/// `SSLError …` and exits 3.
pub const SSL_GET: &str = "import socket, ssl, sys\nctx = ssl.create_default_context()\ntry:\n    with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10) as s:\n        with ctx.wrap_socket(s, server_hostname='localhost'):\n            print('ok')\nexcept ssl.SSLError as e:\n    print('SSLError', e)\n    sys.exit(3)\n";

/// `python -m pip` arguments that ask an index for a package nobody has, changing nothing:
/// append the index URL, then the package name.
pub const PIP_DRY_RUN: &[&str] = &[
    "-m",
    "pip",
    "install",
    "--dry-run",
    "--no-deps",
    "--retries",
    "0",
    "--timeout",
    "10",
    "--index-url",
];

/// The first row of `kind` in a `status --json` document.
#[track_caller]
pub fn row<'a>(doc: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} row: {doc:#}"))
}

/// The row names a problem with this code.
pub fn has_code(row: &serde_json::Value, code: &str) -> bool {
    row["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["code"] == code)
}

/// The row lists the OS CA with this SHA-256 among the locally added ones it lacks.
pub fn lacks(row: &serde_json::Value, sha256: &str) -> bool {
    row["missing_locally_added"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["sha256"] == sha256)
}

/// Hex SHA-256 of a DER certificate, as status's JSON names it.
pub fn sha256(der: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(der))
}

/// `status --json --fresh --only --runtime PYTHON` inside a sandbox, in `env`.
#[cfg(target_os = "linux")]
pub fn status_in(
    sb: &super::sandbox::Sandbox,
    python: &str,
    env: &[(&str, &str)],
) -> serde_json::Value {
    status_of(sb, &[python], env)
}

/// `status --json --fresh --only` with a `--runtime` for each of `runtimes`, in a sandbox.
#[cfg(target_os = "linux")]
pub fn status_of(
    sb: &super::sandbox::Sandbox,
    runtimes: &[&str],
    env: &[(&str, &str)],
) -> serde_json::Value {
    let mut argv = vec![
        env!("CARGO_BIN_EXE_trustsync"),
        "status",
        "--json",
        "--fresh",
        "--only",
    ];
    for r in runtimes {
        argv.extend(["--runtime", r]);
    }
    super::certs::json(&sb.run(&argv, env))
}
