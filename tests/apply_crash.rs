//! kill -9 at many points of a real run: every target is whole-old or whole-new, and the next
//! fix or undo succeeds and ends in the exact expected tree.
//!
//! Each iteration spawns this test binary as a harness child applying version `vK` of a
//! plan (directories, data files, symlinks, a marked block in a file trustsync does not own)
//! in step mode, and SIGKILLs it right after its Nth progress event (N varies with K, and
//! covers "journal written, nothing changed", "temp file synced but not renamed", "renamed"
//! and "finished"). Every fifth iteration kills an `undo` instead.
#![forbid(unsafe_code)]

#[cfg(unix)]
mod apply_support;

/// `harness = false` (see apply_support): off Unix there is nothing to run.
fn main() {
    #[cfg(unix)]
    unix::run()
}

#[cfg(unix)]
mod unix {
    use crate::apply_support;

    use std::path::Path;

    use apply_support::*;
    use trustsync::apply::posix::{self as apply, Planner, StateLock};

    const COUNT: usize = 12;
    const ITERATIONS: usize = 60;

    /// Asserts every target is exactly its state at `old` or at `new` (`None` = pristine).
    fn assert_whole(root: &Path, old: Option<&str>, new: Option<&str>, context: &str) {
        for i in 0..COUNT {
            let file = root.join(format!("data/f{i}.txt"));
            let got = std::fs::read(&file).ok();
            let want = |v: Option<&str>| v.map(|v| data_contents(v, i));
            assert!(
                got == want(old) || got == want(new),
                "{context}: {} is neither whole old nor whole new ({} bytes)",
                file.display(),
                got.map_or(0, |g| g.len())
            );
            let link = root.join(format!("links/l{i}"));
            let got = std::fs::read_link(&link).ok();
            let want = |v: Option<&str>| v.map(|v| link_target(v, i));
            assert!(
                got == want(old) || got == want(new),
                "{context}: {} -> {got:?}",
                link.display()
            );
        }
        let block = std::fs::read(root.join(BLOCK_FILE.trim_start_matches('/'))).unwrap();
        assert!(
            block == block_file_bytes(old) || block == block_file_bytes(new),
            "{context}: block file is neither whole old nor whole new"
        );
    }

    fn temp_leftovers(root: &Path) -> Vec<String> {
        snapshot(root, None)
            .into_keys()
            .filter(|k| k.contains(".trustsync-tmp-"))
            .collect()
    }

    fn kill_dash_nine_at_varied_points_never_leaves_a_half_written_file() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let state = tmp.path().join("state");
        seed_tree(&root);
        let pristine = snapshot(&root, None);
        let ctx = context(&root, &state);

        let mut current: Option<String> = None;
        let (mut killed, mut killed_staged, mut killed_undo) = (0, 0, 0);
        for k in 1..=ITERATIONS {
            if k % 5 == 0 && current.is_some() {
                // Kill an undo part-way; the next undo must finish the job exactly.
                let kill_after = (k * 3) % (2 * COUNT + 3);
                let (_, finished) =
                    run_and_kill(harness_command("undo", &root, &state), kill_after);
                killed_undo += usize::from(!finished);
                assert_whole(&root, current.as_deref(), None, &format!("undo kill {k}"));
                apply::undo(&ctx).unwrap_or_else(|e| panic!("undo after kill {k}: {e}"));
                assert_eq!(snapshot(&root, None), pristine, "undo after kill {k}");
                current = None;
                continue;
            }
            let version = format!("v{k}");
            let mut cmd = harness_command("apply", &root, &state);
            cmd.env("TS_VERSION", &version)
                .env("TS_COUNT", COUNT.to_string());
            // Up to ~2 events per action plus lock/journal/commit; some kills land after the end.
            let kill_after = (k * 7) % (4 * COUNT + 8);
            let (seen, finished) = run_and_kill(cmd, kill_after);
            if !finished {
                killed += 1;
                // Odd event numbers after the journal are "Staged": temp synced, not renamed.
                if seen >= 3 && seen % 2 == 1 {
                    killed_staged += 1;
                }
            }
            let context_text = format!("apply kill {k} after event {seen}");
            assert_whole(&root, current.as_deref(), Some(&version), &context_text);

            // The next fix succeeds (recovering the journal first) and completes the version.
            let lock = StateLock::acquire(&ctx).unwrap();
            let planner = Planner::new(&ctx).unwrap();
            let plan = version_plan(&planner, &version, COUNT);
            apply::apply_locked(&plan, &ctx, &lock)
                .unwrap_or_else(|e| panic!("{context_text}: next apply failed: {e}"));
            drop(lock);
            assert_whole(&root, Some(&version), Some(&version), &context_text);
            assert!(
                temp_leftovers(&root).is_empty(),
                "{context_text}: temp files left"
            );
            let again = version_plan(&Planner::new(&ctx).unwrap(), &version, COUNT);
            assert!(again.is_empty(), "{context_text}: not idempotent");
            current = Some(version);
        }
        apply::undo(&ctx).unwrap();
        assert_eq!(snapshot(&root, None), pristine, "final undo");
        eprintln!(
        "crash loop: {ITERATIONS} runs, {killed} applies killed mid-run ({killed_staged} with a synced temp file not yet renamed), {killed_undo} undos killed"
    );
        assert!(killed >= 40, "only {killed} kills landed mid-run");
        assert!(
            killed_staged >= 10,
            "only {killed_staged} kills between fsync and rename"
        );
        assert!(killed_undo >= 5, "only {killed_undo} undo kills");
    }

    pub fn run() {
        apply_support::run_tests(&[(
            "kill_dash_nine_at_varied_points_never_leaves_a_half_written_file",
            kill_dash_nine_at_varied_points_never_leaves_a_half_written_file,
        )]);
    }
}
