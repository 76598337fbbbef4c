//! What hooks read back (src/commands/hooks/): the run record, `/etc/default/trustsync`, the units'
//! `ExecStart=`/`PathChanged=` lines and the installed update.d script. Input parts:
//! record JSON, then the text used as settings, unit and script.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trustsync::commands::hooks::layout::{self, Trigger};

fuzz_target!(|data: &[u8]| {
    let parts = trustsync_fuzz::parts(data, 2);
    let root = trustsync_fuzz::scratch().join("hooks");
    let ctx = trustsync::apply::posix::Context::with_root(&root);
    std::fs::create_dir_all(&ctx.state_dir).unwrap();
    std::fs::write(ctx.state_dir.join("hook-store.json"), parts[0]).unwrap();
    let _ = trustsync::commands::hooks::run::last_run(&ctx, Trigger::Store);
    let text = String::from_utf8_lossy(parts.last().unwrap());
    let _ = layout::hooks_disabled(&text);
    if let Some(argv) = layout::exec_start(&text) {
        assert!(argv.iter().all(|a| !a.is_empty()));
    }
    let _ = layout::watched_paths(&text);
    let script = root.join(layout::UPDATE_D_SCRIPT.trim_start_matches('/'));
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(&script, text.as_bytes()).unwrap();
    let _ = trustsync::commands::hooks::installed_options(&ctx);
});
