//! The engine's refusals, each checked to leave the tree untouched: a target changed since
//! planned, a target swapped for a symlink to a file outside, unexpected symlinked parent
//! components (and the allowed usrmerge kind), user-controlled directories while root, files
//! trustsync did not create, shrinking or empty bundles, undo of a file changed after
//! trustsync wrote it, a run without the needed privileges (real non-root child), a
//! read-only mount and a full tmpfs (real mounts in a private mount namespace).
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

    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::process::Command;

    use apply_support::*;
    use trustsync::apply::posix::{self as apply, ApplyError, Plan, Planner};

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    struct Tree {
        _tmp: tempfile::TempDir,
        root: std::path::PathBuf,
        state: std::path::PathBuf,
        outside: std::path::PathBuf,
    }

    fn tree() -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let state = tmp.path().join("state");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(root.join("etc/ssl")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "do not touch\n").unwrap();
        std::fs::write(root.join("etc/ssl/foreign.pem"), PEM.repeat(4)).unwrap();
        Tree {
            root,
            state,
            outside,
            _tmp: tmp,
        }
    }

    fn target_changed_between_plan_and_apply_is_refused_and_nothing_is_written() {
        let t = tree();
        let ctx = context(&t.root, &t.state);
        let planner = Planner::new(&ctx).unwrap();
        let plan = Plan::new(vec![
            planner
                .write_file(Path::new("/etc/ssl/first.pem"), PEM.into(), 0o644, "r")
                .unwrap(),
            planner
                .write_file(Path::new("/etc/ssl/second.pem"), PEM.into(), 0o644, "r")
                .unwrap(),
        ]);
        // Someone creates the second target after planning.
        std::fs::write(t.root.join("etc/ssl/second.pem"), "theirs\n").unwrap();
        let before = snapshot(&t.root, None);
        let err = apply::apply(&plan, &ctx).unwrap_err();
        assert!(
            matches!(err, ApplyError::ChangedSincePlanned { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("second.pem changed since planned"),
            "{err}"
        );
        assert_eq!(
            snapshot(&t.root, None),
            before,
            "the first file must not be written either"
        );
    }

    fn target_swapped_for_a_symlink_to_a_file_outside_is_refused() {
        let t = tree();
        let ctx = context(&t.root, &t.state);
        let target = Path::new("/etc/ssl/trustsync.pem");
        // Our own file first.
        let planner = Planner::new(&ctx).unwrap();
        apply::apply(
            &Plan::new(vec![planner
                .write_bundle(target, PEM.repeat(2).into(), 0o644, "r")
                .unwrap()]),
            &ctx,
        )
        .unwrap();
        // Plan an update, then an attacker swaps the file for a link to a file outside.
        let planner = Planner::new(&ctx).unwrap();
        let update = Plan::new(vec![planner
            .write_bundle(target, PEM.repeat(3).into(), 0o644, "r")
            .unwrap()]);
        let host = t.root.join("etc/ssl/trustsync.pem");
        std::fs::remove_file(&host).unwrap();
        std::os::unix::fs::symlink(t.outside.join("secret"), &host).unwrap();
        let err = apply::apply(&update, &ctx).unwrap_err();
        assert!(
            matches!(err, ApplyError::ChangedSincePlanned { .. }),
            "{err}"
        );
        // Re-planned against the link: still refused, the link is not ours.
        let planner = Planner::new(&ctx).unwrap();
        let replanned = Plan::new(vec![planner
            .write_bundle(target, PEM.repeat(3).into(), 0o644, "r")
            .unwrap()]);
        let err = apply::apply(&replanned, &ctx).unwrap_err();
        assert!(matches!(err, ApplyError::UnexpectedSymlink { .. }), "{err}");
        assert_eq!(
            std::fs::read_to_string(t.outside.join("secret")).unwrap(),
            "do not touch\n"
        );
        assert!(std::fs::symlink_metadata(&host)
            .unwrap()
            .file_type()
            .is_symlink());
        // Undo refuses too: the path no longer holds what trustsync wrote.
        let err = apply::undo(&ctx).unwrap_err();
        assert!(matches!(err, ApplyError::ChangedAfterWrite { .. }), "{err}");
        assert!(err.to_string().contains("trustsync.pem"), "{err}");
        assert_eq!(
            std::fs::read_to_string(t.outside.join("secret")).unwrap(),
            "do not touch\n"
        );
    }

    fn symlinked_parent_components_follow_the_usrmerge_rule() {
        let t = tree();
        let ctx = context(&t.root, &t.state);
        // Allowed: /lib -> usr/lib, a root-owned link in a root-owned 0755 directory, and an
        // absolute link target resolved inside the root, not on the host.
        std::fs::create_dir_all(t.root.join("usr/lib/ssl")).unwrap();
        std::os::unix::fs::symlink("usr/lib", t.root.join("lib")).unwrap();
        std::os::unix::fs::symlink("/usr/lib/ssl", t.root.join("etc/ssl-abs")).unwrap();
        let planner = Planner::new(&ctx).unwrap();
        let plan = Plan::new(vec![
            planner
                .write_file(Path::new("/lib/ssl/via-lib.pem"), PEM.into(), 0o644, "r")
                .unwrap(),
            planner
                .write_file(
                    Path::new("/etc/ssl-abs/via-abs.pem"),
                    PEM.into(),
                    0o644,
                    "r",
                )
                .unwrap(),
        ]);
        apply::apply(&plan, &ctx).unwrap();
        assert!(t.root.join("usr/lib/ssl/via-lib.pem").is_file());
        assert!(t.root.join("usr/lib/ssl/via-abs.pem").is_file());

        // Refused: a symlinked component in a directory others can write (anyone could have
        // planted it), pointing outside the tree.
        let open = t.root.join("srv");
        std::fs::create_dir_all(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::os::unix::fs::symlink(&t.outside, open.join("certs")).unwrap();
        let planner = Planner::new(&ctx).unwrap();
        let err = planner
            .write_file(Path::new("/srv/certs/x.pem"), PEM.into(), 0o644, "r")
            .unwrap_err();
        assert!(matches!(err, ApplyError::UnexpectedSymlink { .. }), "{err}");
        assert!(err.to_string().contains("srv/certs"), "{err}");

        // Refused: a link owned by another user, even in a root-owned directory.
        if is_root() {
            std::fs::create_dir_all(t.root.join("opt")).unwrap();
            let link = t.root.join("opt/certs");
            std::os::unix::fs::symlink(&t.outside, &link).unwrap();
            std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).unwrap();
            let err = planner
                .write_file(Path::new("/opt/certs/x.pem"), PEM.into(), 0o644, "r")
                .unwrap_err();
            assert!(matches!(err, ApplyError::UnexpectedSymlink { .. }), "{err}");
        }
        assert_eq!(std::fs::read_dir(&t.outside).unwrap().count(), 1);
    }

    fn user_controlled_directories_are_refused_as_root_unless_allowed() {
        if !require_root("user_controlled_directories_are_refused_as_root_unless_allowed") {
            return;
        }
        let t = tree();
        let venv = t.root.join("home/alice/venv/lib/certifi");
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::write(venv.join("cacert.pem"), PEM).unwrap();
        std::os::unix::fs::chown(&venv, Some(65534), Some(65534)).unwrap();
        let target = Path::new("/home/alice/venv/lib/certifi/cacert.pem");
        let mut ctx = context(&t.root, &t.state);
        let planner = Planner::new(&ctx).unwrap();
        let plan = Plan::new(vec![planner
            .append_marked_block(target, "local", PEM, "r")
            .unwrap()]);
        let before = snapshot(&t.root, None);
        // The dry run reports the refusal the real run would make.
        let dry = apply::preflight(&plan, &ctx).unwrap_err();
        assert!(matches!(dry, ApplyError::UserControlledDir { .. }), "{dry}");
        let err = apply::apply(&plan, &ctx).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ApplyError::UserControlledDir { .. }), "{msg}");
        assert!(msg.contains("owned by uid 65534"), "{msg}");
        assert!(
            msg.contains("run `trustsync fix` as the directory's owner"),
            "{msg}"
        );
        assert_eq!(snapshot(&t.root, None), before);

        // A root-owned but world-writable directory is refused the same way.
        let shared = t.root.join("shared");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let err = apply::apply(
            &Plan::new(vec![planner
                .write_file(Path::new("/shared/x"), b"x".to_vec(), 0o644, "r")
                .unwrap()]),
            &ctx,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("group or others can write it"),
            "{err}"
        );

        let before = snapshot(&t.root, None);
        ctx.allow_user_dirs = true;
        apply::apply(&plan, &ctx).unwrap();
        let text = std::fs::read_to_string(t.root.join(target.strip_prefix("/").unwrap())).unwrap();
        assert!(text.contains("# BEGIN trustsync local"));
        apply::undo(&ctx).unwrap();
        assert_eq!(snapshot(&t.root, None), before);
    }

    fn files_trustsync_did_not_create_are_never_replaced_or_removed() {
        let t = tree();
        let ctx = context(&t.root, &t.state);
        let foreign = Path::new("/etc/ssl/foreign.pem");
        let planner = Planner::new(&ctx).unwrap();
        let before = snapshot(&t.root, None);
        for action in [
            planner
                .write_bundle(foreign, PEM.repeat(4).into(), 0o644, "r")
                .unwrap(),
            planner
                .symlink(foreign, Path::new("/elsewhere"), "r")
                .unwrap(),
            planner.remove(foreign, "r").unwrap(),
            planner
                .create_dir(Path::new("/etc/ssl"), 0o700, "r")
                .unwrap(),
        ] {
            let plan = Plan::new(vec![action]).without_satisfied();
            if plan.is_empty() {
                continue; // create_dir of an existing dir is already satisfied
            }
            let err = apply::apply(&plan, &ctx).unwrap_err();
            assert!(matches!(err, ApplyError::NotOurs { .. }), "{err}");
            assert!(err.to_string().contains("was not created by trustsync"));
        }
        assert_eq!(snapshot(&t.root, None), before);
    }

    fn bundles_are_never_emptied_or_shrunk_to_less_than_half() {
        let t = tree();
        let ctx = context(&t.root, &t.state);
        let target = Path::new("/etc/ssl/managed.pem");
        let planner = Planner::new(&ctx).unwrap();
        apply::apply(
            &Plan::new(vec![planner
                .write_bundle(target, PEM.repeat(10).into(), 0o644, "r")
                .unwrap()]),
            &ctx,
        )
        .unwrap();
        let planner = Planner::new(&ctx).unwrap();
        let err = planner
            .write_bundle(target, b"# nothing\n".to_vec(), 0o644, "r")
            .unwrap_err();
        assert!(matches!(err, ApplyError::EmptyBundle { .. }), "{err}");
        let shrink = Plan::new(vec![planner
            .write_bundle(target, PEM.repeat(4).into(), 0o644, "r")
            .unwrap()]);
        let err = apply::apply(&shrink, &ctx).unwrap_err();
        assert!(
            err.to_string()
                .contains("replace a bundle of 10 certificates with one of 4"),
            "{err}"
        );
        // Half is fine.
        let half = Plan::new(vec![planner
            .write_bundle(target, PEM.repeat(5).into(), 0o644, "r")
            .unwrap()]);
        apply::apply(&half, &ctx).unwrap();
    }

    fn undo_refuses_a_file_changed_after_trustsync_wrote_it_unless_forced() {
        let t = tree();
        let mut ctx = context(&t.root, &t.state);
        let before = snapshot(&t.root, None);
        let planner = Planner::new(&ctx).unwrap();
        apply::apply(
            &Plan::new(vec![
                planner
                    .write_file(Path::new("/etc/ssl/a.sh"), b"A\n".to_vec(), 0o644, "r")
                    .unwrap(),
                planner
                    .write_file(Path::new("/etc/ssl/b.sh"), b"B\n".to_vec(), 0o644, "r")
                    .unwrap(),
            ]),
            &ctx,
        )
        .unwrap();
        std::fs::write(t.root.join("etc/ssl/b.sh"), "edited by the admin\n").unwrap();
        let err = apply::undo(&ctx).unwrap_err();
        assert!(matches!(err, ApplyError::ChangedAfterWrite { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("b.sh changed after trustsync wrote it"),
            "{err}"
        );
        // Nothing was undone: a.sh is still there.
        assert_eq!(std::fs::read(t.root.join("etc/ssl/a.sh")).unwrap(), b"A\n");
        ctx.force = true;
        apply::undo(&ctx).unwrap();
        assert_eq!(snapshot(&t.root, None), before);
    }

    fn undo_of_a_block_whose_file_was_replaced_by_an_upgrade_leaves_the_new_file_alone() {
        let t = tree();
        let ctx = context(&t.root, &t.state);
        let target = Path::new("/etc/ssl/foreign.pem");
        let planner = Planner::new(&ctx).unwrap();
        apply::apply(
            &Plan::new(vec![planner
                .append_marked_block(target, "local", PEM, "r")
                .unwrap()]),
            &ctx,
        )
        .unwrap();
        // A package upgrade rewrites the file (no block), then the admin adds a line.
        let host = t.root.join("etc/ssl/foreign.pem");
        std::fs::write(&host, PEM.repeat(6)).unwrap();
        let report = apply::undo(&ctx).unwrap();
        assert_eq!(report.block_already_gone, vec![host.clone()]);
        assert_eq!(std::fs::read_to_string(&host).unwrap(), PEM.repeat(6));

        // Block still there but the rest changed: exactly the block is removed.
        let planner = Planner::new(&ctx).unwrap();
        apply::apply(
            &Plan::new(vec![planner
                .append_marked_block(target, "local", "X\n", "r")
                .unwrap()]),
            &ctx,
        )
        .unwrap();
        let with_block = std::fs::read_to_string(&host).unwrap();
        std::fs::write(&host, format!("# admin note\n{with_block}")).unwrap();
        apply::undo(&ctx).unwrap();
        assert_eq!(
            std::fs::read_to_string(&host).unwrap(),
            format!("# admin note\n{}", PEM.repeat(6))
        );
    }

    fn not_root_where_root_is_needed_says_sudo_and_writes_nothing() {
        if !require_root("not_root_where_root_is_needed_says_sudo_and_writes_nothing") {
            return;
        }
        let t = tree();
        seed_tree(&t.root);
        // The unprivileged child must be able to reach the tree and own its state dir.
        let base = t.root.parent().unwrap();
        std::fs::set_permissions(base, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(&t.state).unwrap();
        std::os::unix::fs::chown(&t.state, Some(65534), Some(65534)).unwrap();
        let before = snapshot(&t.root, None);
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(std::env::current_exe().unwrap());
        harness_args(&mut cmd, "apply", &t.root, &t.state);
        cmd.env("TS_VERSION", "v1").env("TS_COUNT", "3");
        let out = run_child(cmd);
        let Some(Err(msg)) = &out.result else {
            panic!("expected a refusal, got {:?} / {}", out.result, out.stderr)
        };
        assert!(
            msg.contains("permission denied; run `sudo trustsync fix`"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(snapshot(&t.root, None), before);
    }

    /// Runs the harness inside `unshare --mount` after `setup` (a shell script given the mount
    /// point as `$1`; arguments are passed as argv, never interpolated).
    fn in_mount_namespace(
        setup: &str,
        mount_point: &Path,
        mode: &str,
        root: &Path,
        state: &Path,
        env: &[(&str, &str)],
    ) -> ChildOutput {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "sh", "-ec"])
            .arg(format!("{setup}\nshift\nexec \"$@\""))
            .arg("sh")
            .arg(mount_point)
            .arg(std::env::current_exe().unwrap());
        harness_args(&mut cmd, mode, root, state);
        cmd.envs(env.iter().copied());
        run_child(cmd)
    }

    fn read_only_mount_is_reported_up_front_and_nothing_is_written() {
        if !require_root("read_only_mount_is_reported_up_front_and_nothing_is_written") {
            return;
        }
        let t = tree();
        seed_tree(&t.root);
        let etc = t.root.join("etc");
        let before = snapshot(&t.root, None);
        let mut out = in_mount_namespace(
            "mount --bind \"$1\" \"$1\"; mount -o remount,bind,ro \"$1\"",
            &etc,
            "apply",
            &t.root,
            &t.state,
            &[("TS_VERSION", "v1"), ("TS_COUNT", "3")],
        );
        if out.result.is_none() {
            panic!("harness did not run: {}", out.stderr);
        }
        let Some(Err(msg)) = out.result.take() else {
            panic!("expected a refusal: {:?}", out.result)
        };
        assert!(
            msg.contains("read-only file system; nothing was written"),
            "{msg}"
        );
        assert!(msg.contains("/etc"), "{msg}");
        assert_eq!(snapshot(&t.root, None), before);
    }

    fn full_tmpfs_mid_run_rolls_back_and_reports_path_and_errno_in_one_line() {
        if !require_root("full_tmpfs_mid_run_rolls_back_and_reports_path_and_errno_in_one_line") {
            return;
        }
        let t = tree();
        let mnt = t.root.join("mnt");
        std::fs::create_dir_all(&mnt).unwrap();
        let out = in_mount_namespace(
            "mount -t tmpfs -o size=64k,mode=0755 tmpfs \"$1\"; echo keep > \"$1/keep.txt\"",
            &mnt,
            "fill",
            &mnt,
            &t.state,
            &[],
        );
        assert_eq!(
            out.snapshots.len(),
            2,
            "harness did not run: {}",
            out.stderr
        );
        assert!(out.snapshots[0].contains_key("\"keep.txt\""));
        assert!(out.snapshots[0]["\"small/l\""].contains("/first"));
        assert_eq!(
            out.snapshots[0], out.snapshots[1],
            "tmpfs must be rolled back exactly"
        );
        let Some(Err(msg)) = &out.result else {
            panic!("expected ENOSPC: {:?}", out.result)
        };
        assert!(
            msg.contains("No space left on device (os error 28)"),
            "{msg}"
        );
        assert!(msg.contains("/big/chunk "), "{msg}");
        assert!(msg.contains("rolled back this run's"), "{msg}");
        assert!(!msg.contains('\n'));
        // The journal holds only the first run (its paths vanished with the namespace's tmpfs,
        // so undo finds them already absent and has nothing to do).
        let ctx = context(&mnt, &t.state);
        let journal = std::fs::read_to_string(t.state.join("journal.json")).unwrap();
        assert!(
            !journal.contains("chunk") && journal.contains("a.txt"),
            "{journal}"
        );
        let report = apply::undo(&ctx).unwrap();
        assert_eq!(report, Default::default());
    }

    fn an_action_whose_payload_differs_from_the_shown_plan_is_refused() {
        let t = tree();
        let ctx = context(&t.root, &t.state);
        let planner = Planner::new(&ctx).unwrap();
        let mut action = planner
            .write_file(Path::new("/etc/ssl/shown.pem"), PEM.into(), 0o644, "r")
            .unwrap();
        if let apply::ActionKind::WriteFile { contents, .. } = &mut action.kind {
            contents.extend_from_slice(b"# something the plan did not show\n");
        }
        let before = snapshot(&t.root, None);
        let err = apply::apply(&Plan::new(vec![action]), &ctx).unwrap_err();
        assert!(
            err.to_string().contains("result digest does not match"),
            "{err}"
        );
        assert_eq!(snapshot(&t.root, None), before);
    }

    pub fn run() {
        apply_support::run_tests(&[
            (
                "target_changed_between_plan_and_apply_is_refused_and_nothing_is_written",
                target_changed_between_plan_and_apply_is_refused_and_nothing_is_written,
            ),
            (
                "target_swapped_for_a_symlink_to_a_file_outside_is_refused",
                target_swapped_for_a_symlink_to_a_file_outside_is_refused,
            ),
            (
                "symlinked_parent_components_follow_the_usrmerge_rule",
                symlinked_parent_components_follow_the_usrmerge_rule,
            ),
            (
                "user_controlled_directories_are_refused_as_root_unless_allowed",
                user_controlled_directories_are_refused_as_root_unless_allowed,
            ),
            (
                "files_trustsync_did_not_create_are_never_replaced_or_removed",
                files_trustsync_did_not_create_are_never_replaced_or_removed,
            ),
            (
                "bundles_are_never_emptied_or_shrunk_to_less_than_half",
                bundles_are_never_emptied_or_shrunk_to_less_than_half,
            ),
            (
                "undo_refuses_a_file_changed_after_trustsync_wrote_it_unless_forced",
                undo_refuses_a_file_changed_after_trustsync_wrote_it_unless_forced,
            ),
            (
                "undo_of_a_block_whose_file_was_replaced_by_an_upgrade_leaves_the_new_file_alone",
                undo_of_a_block_whose_file_was_replaced_by_an_upgrade_leaves_the_new_file_alone,
            ),
            (
                "not_root_where_root_is_needed_says_sudo_and_writes_nothing",
                not_root_where_root_is_needed_says_sudo_and_writes_nothing,
            ),
            (
                "read_only_mount_is_reported_up_front_and_nothing_is_written",
                read_only_mount_is_reported_up_front_and_nothing_is_written,
            ),
            (
                "full_tmpfs_mid_run_rolls_back_and_reports_path_and_errno_in_one_line",
                full_tmpfs_mid_run_rolls_back_and_reports_path_and_errno_in_one_line,
            ),
            (
                "an_action_whose_payload_differs_from_the_shown_plan_is_refused",
                an_action_whose_payload_differs_from_the_shown_plan_is_refused,
            ),
        ]);
    }
}
