//! Shared helpers for the `apply_*` integration tests: tree snapshots (what every path is,
//! byte digest, mode, owner), the versioned plan the crash and lock tests apply, and the
//! child-process harness.
//!
//! Why a harness inside the test binary: kill -9, lock contention, non-root runs and mount
//! namespaces need a real second process. The files that start one (`apply_crash`,
//! `apply_lock`, `apply_safety`) are `harness = false` binaries whose `main` is [`run_tests`]:
//! with `TS_HARNESS` set it is the child and nothing else, without it it runs the file's
//! tests. The parent re-runs its own executable with that variable, so no extra binary has to
//! be built or found, and no "test" exists only to be the child.
//! The child reports progress as `EVENT …` lines on stdout and, in step mode (`TS_STEP=1`),
//! waits for one byte on stdin after each, so the parent can kill it at an exact point without
//! sleeping.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The suite's one "are we in CI" predicate and its loud skips.
#[path = "../support/report.rs"]
mod report;

/// A dry run's actions checked against the disk after the real run.
#[path = "../support/ondisk.rs"]
pub mod ondisk;

use trustsync::apply::posix::{self as apply, Context, Plan, Planner, ProgressEvent, StateLock};

/// Relative path → "kind digest mode uid gid" for every entry under `dir`, skipping `skip`.
pub fn snapshot(dir: &Path, skip: Option<&Path>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(dir, dir, skip, &mut out);
    out
}

fn walk(base: &Path, dir: &Path, skip: Option<&Path>, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if Some(path.as_path()) == skip {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = format!("{:?}", path.strip_prefix(base).unwrap());
        let owner = format!("{} {}", meta.uid(), meta.gid());
        let line = if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            format!("link {target:?} {owner}")
        } else if meta.is_dir() {
            walk(base, &path, skip, out);
            format!("dir {:04o} {owner}", meta.mode() & 0o7777)
        } else {
            let bytes = std::fs::read(&path).unwrap();
            format!(
                "file {} {:04o} {owner}",
                hex::encode(Sha256::digest(&bytes)),
                meta.mode() & 0o7777
            )
        };
        out.insert(rel, line);
    }
}

/// A test context rooted at `root` with its journal in `state`.
pub fn context(root: &Path, state: &Path) -> Context {
    let mut ctx = Context::new(root.to_path_buf(), state.to_path_buf());
    ctx.lock_wait = Duration::from_secs(30);
    ctx
}

/// Contents of data file `i` at `version` (a few KB, so writes are not trivially small).
pub fn data_contents(version: &str, i: usize) -> Vec<u8> {
    format!("version {version} file {i}\n")
        .repeat(150)
        .into_bytes()
}

pub fn link_target(version: &str, i: usize) -> PathBuf {
    PathBuf::from(format!("/targets/{version}/{i}"))
}

pub const BLOCK_FILE: &str = "/etc/bundle.pem";
pub const BLOCK_BASE: &str =
    "# upstream bundle\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

/// Sets up the pristine tree the versioned plan works on.
pub fn seed_tree(root: &Path) {
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join(BLOCK_FILE.trim_start_matches('/')), BLOCK_BASE).unwrap();
}

/// The plan that makes the tree match `version`: two directories, `count` data files,
/// `count` links and a marked block in a file trustsync did not create.
pub fn version_plan(planner: &Planner<'_>, version: &str, count: usize) -> Plan {
    let mut plan = Plan::default();
    plan.push(
        planner
            .create_dir(Path::new("/data"), 0o755, "data dir")
            .unwrap(),
    );
    plan.push(
        planner
            .create_dir(Path::new("/links"), 0o755, "links dir")
            .unwrap(),
    );
    for i in 0..count {
        let target = PathBuf::from(format!("/data/f{i}.txt"));
        plan.push(
            planner
                .write_file(&target, data_contents(version, i), 0o644, "data")
                .unwrap(),
        );
        let link = PathBuf::from(format!("/links/l{i}"));
        plan.push(
            planner
                .symlink(&link, &link_target(version, i), "link")
                .unwrap(),
        );
    }
    plan.push(
        planner
            .append_marked_block(
                Path::new(BLOCK_FILE),
                "crash-test",
                &format!("version {version}\n"),
                "block",
            )
            .unwrap(),
    );
    plan.without_satisfied()
}

/// Expected block file bytes at `version` (`None` = pristine).
pub fn block_file_bytes(version: Option<&str>) -> Vec<u8> {
    match version {
        None => BLOCK_BASE.as_bytes().to_vec(),
        Some(v) => format!(
            "{BLOCK_BASE}{}\nversion {v}\n{}\n",
            apply::marked_block::block_begin_line("crash-test"),
            apply::marked_block::block_end_line("crash-test")
        )
        .into_bytes(),
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("harness needs {name}"))
}

fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Entry point of the child side; returns at once unless `TS_HARNESS` is set, else exits.
pub fn harness_if_requested() {
    let Ok(mode) = std::env::var("TS_HARNESS") else {
        return;
    };
    let root = PathBuf::from(env("TS_ROOT"));
    let state = PathBuf::from(env("TS_STATE"));
    let mut ctx = context(&root, &state);
    if let Ok(ms) = std::env::var("TS_LOCK_WAIT_MS") {
        ctx.lock_wait = Duration::from_millis(ms.parse().unwrap());
    }
    let step = std::env::var("TS_STEP").as_deref() == Ok("1");
    // In step mode every reported point waits for one byte from the parent, so the parent
    // decides exactly where the kill lands. A closed stdin lets the child run freely.
    let point = move |line: &str| {
        emit(line);
        if step {
            let mut byte = [0u8; 1];
            let _ = std::io::stdin().lock().read_exact(&mut byte);
        }
    };
    ctx.progress = Some(Arc::new(move |event: &ProgressEvent<'_>| {
        point(&format!("EVENT {event:?}").replace('\n', "\\n"));
    }));
    let result: Result<String, String> = match mode.as_str() {
        "apply" => {
            let version = env("TS_VERSION");
            let count: usize = env("TS_COUNT").parse().unwrap();
            (|| {
                let lock = StateLock::acquire(&ctx)?;
                point("EVENT locked");
                let planner = Planner::new(&ctx)?;
                let plan = version_plan(&planner, &version, count);
                apply::apply_locked(&plan, &ctx, &lock).map(|_| plan.len().to_string())
            })()
            .map_err(|e: apply::ApplyError| e.to_string())
        }
        "undo" => apply::undo(&ctx)
            .map(|r| format!("{}", r.restored.len() + r.removed.len()))
            .map_err(|e| e.to_string()),
        "fill" => {
            // First a run that fits (a file and a link trustsync then owns), then a run that
            // replaces both and cannot fit the small tmpfs mounted at the root: it must roll
            // back to exactly the state after the first run.
            let result = (|| {
                let planner = Planner::new(&ctx)?;
                let small = Plan::new(vec![
                    planner.create_dir(Path::new("/small"), 0o755, "small")?,
                    planner.write_file(
                        Path::new("/small/a.txt"),
                        b"first\n".to_vec(),
                        0o640,
                        "a",
                    )?,
                    planner.symlink(Path::new("/small/l"), Path::new("/first"), "l")?,
                ]);
                apply::apply(&small, &ctx)?;
                let before = snapshot(&root, None);
                emit(&format!(
                    "SNAPSHOT {}",
                    serde_json::to_string(&before).unwrap()
                ));
                let planner = Planner::new(&ctx)?;
                let mut plan = Plan::default();
                plan.push(planner.write_file(
                    Path::new("/small/a.txt"),
                    b"second\n".to_vec(),
                    0o600,
                    "a",
                )?);
                plan.push(planner.symlink(Path::new("/small/l"), Path::new("/second"), "l")?);
                plan.push(planner.create_dir(Path::new("/big"), 0o755, "big")?);
                for i in 0..10 {
                    let path = PathBuf::from(format!("/big/chunk {i}.bin"));
                    plan.push(planner.write_file(&path, vec![b'x'; 12 * 1024], 0o644, "fill")?);
                }
                apply::apply(&plan, &ctx).map(|a| a.actions.len().to_string())
            })()
            .map_err(|e: apply::ApplyError| e.to_string());
            let after = snapshot(&root, None);
            emit(&format!(
                "SNAPSHOT {}",
                serde_json::to_string(&after).unwrap()
            ));
            result
        }
        other => Err(format!("unknown harness mode {other}")),
    };
    match result {
        Ok(n) => {
            emit(&format!("RESULT ok {n}"));
            std::process::exit(0)
        }
        Err(msg) => {
            emit(&format!("RESULT err {}", msg.replace('\n', "\\n")));
            std::process::exit(2)
        }
    }
}

/// `main` of a `harness = false` apply test: the harness child when `TS_HARNESS` is set;
/// else each test whose name contains the first free argument (all without one; `--exact`
/// for equality), in order, each failure reported, exit status 101 if any failed. Flags
/// libtest takes (`--nocapture`, `--test-threads=N`, …) are accepted and change nothing: the
/// tests run one after the other, their output uncaptured.
pub fn run_tests(tests: &[(&str, fn())]) {
    harness_if_requested();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exact = args.iter().any(|a| a == "--exact");
    if args.iter().any(|a| a == "--list") {
        for (name, _) in tests {
            println!("{name}: test");
        }
        return;
    }
    let filter = args.iter().find(|a| !a.starts_with('-'));
    let chosen: Vec<&(&str, fn())> = tests
        .iter()
        .filter(|(name, _)| match filter {
            None => true,
            Some(f) if exact => name == f,
            Some(f) => name.contains(f.as_str()),
        })
        .collect();
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for (name, test) in &chosen {
        let ok = std::panic::catch_unwind(*test).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; {} filtered out\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len(),
        tests.len() - chosen.len()
    );
    if !failed.is_empty() {
        println!("failures: {failed:?}");
        std::process::exit(101);
    }
}

/// A command that re-runs this test binary as the harness in `mode`.
pub fn harness_command(mode: &str, root: &Path, state: &Path) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    harness_args(&mut cmd, mode, root, state);
    cmd
}

/// Adds the harness arguments and environment to `cmd` (which may be a wrapper such as
/// `unshare` or `setpriv` whose last argument is this test binary).
pub fn harness_args(cmd: &mut Command, mode: &str, root: &Path, state: &Path) {
    cmd.env("TS_HARNESS", mode)
        .env("TS_ROOT", root)
        .env("TS_STATE", state)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
}

/// Harness output of a finished child: its `EVENT`/`SNAPSHOT`/`RESULT` lines.
pub struct ChildOutput {
    pub events: Vec<String>,
    pub snapshots: Vec<BTreeMap<String, String>>,
    pub result: Option<Result<String, String>>,
    pub stderr: String,
    pub status: std::process::ExitStatus,
}

pub fn parse_output(out: std::process::Output) -> ChildOutput {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut parsed = ChildOutput {
        events: Vec::new(),
        snapshots: Vec::new(),
        result: None,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status,
    };
    for line in stdout.lines() {
        if let Some(e) = line.strip_prefix("EVENT ") {
            parsed.events.push(e.to_string());
        } else if let Some(s) = line.strip_prefix("SNAPSHOT ") {
            parsed.snapshots.push(serde_json::from_str(s).unwrap());
        } else if let Some(r) = line.strip_prefix("RESULT ok ") {
            parsed.result = Some(Ok(r.to_string()));
        } else if let Some(r) = line.strip_prefix("RESULT err ") {
            parsed.result = Some(Err(r.to_string()));
        }
    }
    parsed
}

/// Runs a harness child to completion.
pub fn run_child(mut cmd: Command) -> ChildOutput {
    parse_output(cmd.output().expect("spawn harness child"))
}

/// Spawns `cmd` in step mode and SIGKILLs it right after its `kill_after`-th event (counting
/// from 1; 0 = before the first). Returns how many events it had reported and whether it
/// finished on its own first.
pub fn run_and_kill(mut cmd: Command, kill_after: usize) -> (usize, bool) {
    cmd.env("TS_STEP", "1").stdin(Stdio::piped());
    let mut child: Child = cmd.spawn().expect("spawn harness child");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = 0;
    let mut finished = true;
    if kill_after == 0 {
        child.kill().unwrap();
        finished = false;
    } else {
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if line.contains("EVENT ") {
                seen += 1;
                if seen == kill_after {
                    child.kill().unwrap();
                    finished = false;
                    break;
                }
                // Let it go on to the next step.
                if stdin.write_all(b"k").and_then(|()| stdin.flush()).is_err() {
                    break;
                }
            }
        }
    }
    drop(stdin);
    let status = child.wait().unwrap();
    if finished {
        assert!(status.success(), "harness child failed: {status:?}");
    }
    (seen, finished)
}

/// True when running as root (mount namespaces, chown, setpriv need it).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Skips a root-only test loudly; under CI (`CI=true`) a non-root run is a failure instead.
pub fn require_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(!report::under_ci(), "{test} must run as root in CI");
    eprintln!("SKIPPED {test}: needs root (mount namespaces / chown); run the tests as root");
    false
}
