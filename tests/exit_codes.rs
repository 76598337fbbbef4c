//! The exit-code contract, command by command (issue 17: "exit codes exactly as documented
//! for every command"). The list of commands is not written here: it is read from the man
//! pages `trustsync man` writes (one per subcommand, generated from the clap definitions),
//! so a command added later is audited without anyone remembering to add it.
//!
//! For every command: `--help` exits 0 with text on stdout; an unknown flag is a usage
//! error, exit 2, one line on stderr and nothing on stdout; with `--json` too (where the
//! command takes it) the error document is on stdout with the same code. Then the
//! documented non-usage codes that can be produced without touching the machine.

mod support;
use support::certs::*;

/// Every subcommand path (`status`, `hook install`, …), from the man page names
/// (`trustsync-hook-install.1` → `hook install`).
fn subcommands() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = trustsync(&["man", dir.path().to_str().unwrap()], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        support::report::show(&out)
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|n| {
            n.strip_prefix("trustsync-")
                .and_then(|n| n.strip_suffix(".1"))
                .map(|n| n.replace('-', " "))
        })
        .collect();
    names.sort();
    // A parent command (`hook`) has a page of its own besides its children's.
    assert!(names.len() >= 12, "{names:?}");
    for expected in ["status", "fix", "undo", "probe", "add", "remove", "list"] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
    names
}

fn args_of(command: &str) -> Vec<&str> {
    command.split(' ').collect()
}

/// Whether `command --help` offers `--json`.
fn takes_json(command: &str) -> bool {
    let mut args = args_of(command);
    args.push("--help");
    let out = trustsync(&args, &[]);
    String::from_utf8_lossy(&out.stdout).contains("--json")
}

#[test]
fn every_command_exits_0_on_help_and_2_on_a_usage_error() {
    let commands = subcommands();
    let mut with_json = 0;
    for command in &commands {
        let mut args = args_of(command);
        args.push("--help");
        let help = trustsync(&args, &[]);
        assert_eq!(help.status.code(), Some(0), "{command} --help");
        assert!(!help.stdout.is_empty(), "{command} --help prints on stdout");

        let mut args = args_of(command);
        args.push("--no-such-flag");
        let out = trustsync(&args, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{command} --no-such-flag: {}",
            support::report::show(&out)
        );
        assert!(
            out.stdout.is_empty(),
            "{command}: {}",
            support::report::show(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--no-such-flag") && !stderr.contains("panicked"),
            "{command}: {stderr}"
        );

        if !takes_json(command) {
            continue;
        }
        with_json += 1;
        args.push("--json");
        let out = trustsync(&args, &[]);
        assert_eq!(out.status.code(), Some(2), "{command} --json");
        let doc = json(&out);
        assert_eq!(doc["exit_code"], 2, "{command}: {doc:#}");
        assert_eq!(doc["error"], "usage", "{command}: {doc:#}");
        // Parent commands name themselves with their child (`hook status`).
        assert_eq!(doc["command"], command.as_str(), "{doc:#}");
    }
    // status, fix, undo, probe, add, remove, list and the hook commands take --json.
    assert!(with_json >= 7, "only {with_json} commands take --json");
}

/// No subcommand at all, or one that does not exist: usage, exit 2; `--version`: 0.
#[test]
fn the_bare_binary_and_an_unknown_command_exit_2() {
    for args in [&[][..], &["frobnicate"][..]] {
        let out = trustsync(args, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            support::report::show(&out)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = trustsync(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("trustsync "));
}

/// Durations and counts are bounded: every out-of-range or non-finite value is exit 2
/// with a line naming the flag, never a panic, for each command taking one.
#[test]
fn durations_out_of_bounds_are_usage_errors_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["status", "--runtime-timeout"], "--runtime-timeout"),
        (
            &["fix", "--dry-run", "--runtime-timeout"],
            "--runtime-timeout",
        ),
        (
            &["add", "/nonexistent.pem", "--runtime-timeout"],
            "--runtime-timeout",
        ),
        (&["probe", "127.0.0.1", "--timeout"], "--timeout"),
    ];
    for (prefix, flag) in cases {
        for bad in [
            "inf", "-inf", "nan", "NaN", "0", "-1", "1e9", "", "ten", "0x10",
        ] {
            // `--flag=VALUE`: `--flag -1` would be read as a flag `-1`, not a value.
            let (command, flag_at) = prefix.split_at(prefix.len() - 1);
            let arg = format!("{}={bad}", flag_at[0]);
            let mut args = command.to_vec();
            args.push(&arg);
            let out = trustsync(&args, &[]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?}: {}",
                support::report::show(&out)
            );
            assert!(
                stderr.contains(flag) && !stderr.contains("panicked"),
                "{args:?}: {stderr}"
            );
        }
    }
}

/// The documented non-usage codes that need no change to the machine: `list` 0 something
/// listed, 1 nothing matched, 2 store unreadable; `status` 0 in sync, 1 drift, 2 store
/// unreadable; `remove` of a CA trustsync did not add is refused.
#[test]
fn documented_outcome_codes() {
    let root = tempfile::tempdir().unwrap();
    let public = make_cert("Public Root", true, 2099);
    let corp = make_cert("Corp Proxy Root", true, 2099);
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        format!("{}{}", public.pem, corp.pem).as_bytes(),
    );
    // The company root, added on this machine: a runtime lacking it drifts.
    write(
        root.path(),
        "/usr/local/share/ca-certificates/corp.crt",
        corp.pem.as_bytes(),
    );
    let r = root.path().to_str().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let e = empty.path().to_str().unwrap();
    let code = |args: &[&str], env: &[(&str, &str)]| trustsync(args, env).status.code();

    assert_eq!(code(&["list", "--root", r], &[]), Some(0));
    assert_eq!(code(&["list", "--root", r, "no such name"], &[]), Some(1));
    assert_eq!(code(&["list", "--root", e], &[]), Some(2));

    let bundle = under(root.path(), "/etc/ssl/certs/ca-certificates.crt");
    let in_sync = [("SSL_CERT_FILE", bundle.to_str().unwrap())];
    assert_eq!(code(&["status", "--only", "--root", r], &in_sync), Some(0));
    let only_public = write(root.path(), "/opt/public.pem", public.pem.as_bytes());
    let drift = [("REQUESTS_CA_BUNDLE", only_public.to_str().unwrap())];
    assert_eq!(code(&["status", "--only", "--root", r], &drift), Some(1));
    assert_eq!(
        code(&["status", "--quiet", "--only", "--root", r], &drift),
        Some(1)
    );
    assert_eq!(code(&["status", "--only", "--root", e], &[]), Some(2));
}
