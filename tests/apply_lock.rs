//! Two runs cannot interleave: a second run waits for the lock or fails naming the holder's
//! pid, and two runs started together both finish correctly, one after the other.
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

    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    use apply_support::*;
    use trustsync::apply::posix::StateLock;

    fn apply_child(
        root: &std::path::Path,
        state: &std::path::Path,
        wait_ms: u64,
    ) -> std::process::Command {
        let mut cmd = harness_command("apply", root, state);
        cmd.env("TS_VERSION", "v1")
            .env("TS_COUNT", "5")
            .env("TS_LOCK_WAIT_MS", wait_ms.to_string());
        cmd
    }

    fn a_second_run_fails_naming_the_pid_that_holds_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, state) = (tmp.path().join("root"), tmp.path().join("state"));
        seed_tree(&root);
        let before = snapshot(&root, None);
        let ctx = context(&root, &state);

        // This process holds the lock.
        let lock = StateLock::acquire(&ctx).unwrap();
        let out = run_child(apply_child(&root, &state, 0));
        let Some(Err(msg)) = &out.result else {
            panic!("expected lock refusal: {:?} {}", out.result, out.stderr)
        };
        assert!(
            msg.contains(&format!(
                "another trustsync run (pid {}) holds the lock",
                std::process::id()
            )),
            "{msg}"
        );
        assert_eq!(snapshot(&root, None), before);
        drop(lock);

        // A child that holds the lock mid-run (paused right after locking) blocks another.
        // The holder itself may wait: a thread of this test process forking another test's child
        // briefly shares the just-released lock's file description until that child execs.
        let mut holder = apply_child(&root, &state, 10_000);
        holder.env("TS_STEP", "1").stdin(Stdio::piped());
        let mut holder = holder.spawn().unwrap();
        let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
        let first = lines
            .by_ref()
            .map(|l| l.unwrap())
            .find(|l| l.contains("EVENT"))
            .expect("holder reported nothing");
        assert!(first.contains("EVENT locked"), "{first}");
        let out = run_child(apply_child(&root, &state, 200));
        let Some(Err(msg)) = &out.result else {
            panic!("expected lock refusal: {:?} {}", out.result, out.stderr)
        };
        assert!(
            msg.contains(&format!(
                "another trustsync run (pid {}) holds the lock",
                holder.id()
            )),
            "{msg}"
        );
        // Let the holder run to the end (closing stdin ends step mode).
        let mut stdin = holder.stdin.take().unwrap();
        stdin.write_all(b"k").unwrap();
        drop(stdin);
        for _ in lines.by_ref() {}
        assert!(holder.wait().unwrap().success());
        assert_ne!(snapshot(&root, None), before);
    }

    fn two_runs_started_together_both_succeed_one_after_the_other() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, state) = (tmp.path().join("root"), tmp.path().join("state"));
        seed_tree(&root);
        let a = apply_child(&root, &state, 30_000).spawn().unwrap();
        let b = apply_child(&root, &state, 30_000).spawn().unwrap();
        let a = parse_output(a.wait_with_output().unwrap());
        let b = parse_output(b.wait_with_output().unwrap());
        let counts: Vec<usize> = [&a, &b]
            .iter()
            .map(|o| match &o.result {
                Some(Ok(n)) => n.parse().unwrap(),
                other => panic!("run failed: {other:?} {}", o.stderr),
            })
            .collect();
        // 2 dirs + 5 files + 5 links + 1 block: one run did it all, the other found nothing to do.
        let mut sorted = counts.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 13], "{counts:?}");
        let ctx = context(&root, &state);
        trustsync::apply::posix::undo(&ctx).unwrap();
    }

    pub fn run() {
        apply_support::run_tests(&[
            (
                "a_second_run_fails_naming_the_pid_that_holds_the_lock",
                a_second_run_fails_naming_the_pid_that_holds_the_lock,
            ),
            (
                "two_runs_started_together_both_succeed_one_after_the_other",
                two_runs_started_together_both_succeed_one_after_the_other,
            ),
        ]);
    }
}
