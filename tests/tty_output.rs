//! What a person at a real terminal sees: the binary run under `script -qec '<command>'
//! /dev/null` (util-linux), which gives it a pseudo-terminal for stdout as an interactive
//! shell would. Checked: the language follows the locale (`LANG=zh_CN.UTF-8` Chinese,
//! `LANG=C` English, `LC_ALL` over `LANG`), colour is on by default on a TTY and off with
//! `TERM=dumb`, `NO_COLOR=1` or `--color never`, and `--color always` colours a pipe.
//! The environment is exactly what each run sets (nothing from the host, which may set
//! `SSL_CERT_FILE` or a locale of its own).
#![cfg(target_os = "linux")]

mod support;
use support::certs::*;
use support::report::show;
use support::trees::{corp_tree, CERTIFI};

const SCRIPT: &str = "/usr/bin/script";

/// The fix tests' tree ([`corp_tree`]: an OS store with a locally added CA) and
/// `REQUESTS_CA_BUNDLE` naming its certifi, which lacks that CA: one `drift` row, so
/// there is a verdict to colour and a problem to say.
struct Machine {
    root: tempfile::TempDir,
    bundle: std::path::PathBuf,
}

fn machine() -> Machine {
    let tree = corp_tree();
    let bundle = under(tree.root.path(), CERTIFI);
    Machine {
        root: tree.root,
        bundle,
    }
}

impl Machine {
    /// The fixed `status` command line, quoted for the shell `script` starts.
    fn command(&self, extra: &str) -> String {
        format!(
            "'{}' status --only --root '{}'{extra}",
            env!("CARGO_BIN_EXE_trustsync"),
            self.root.path().display()
        )
    }

    fn env<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![
            ("PATH", "/usr/bin:/bin"),
            ("TERM", "xterm-256color"),
            ("REQUESTS_CA_BUNDLE", self.bundle.to_str().unwrap()),
        ];
        env.extend_from_slice(extra);
        env
    }

    /// stdout of `command` on a pseudo-terminal, with exactly `env`.
    fn on_tty(&self, extra_args: &str, env: &[(&str, &str)]) -> String {
        let out = std::process::Command::new(SCRIPT)
            .args(["-qec", &self.command(extra_args), "/dev/null"])
            .env_clear()
            .envs(self.env(env))
            .output()
            .unwrap();
        // status exits 1 for the drift row; script passes the exit code on (-e).
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        String::from_utf8(out.stdout).unwrap()
    }
}

/// A [`machine`] to run on a terminal. `script` is util-linux's, which scripts/setup.sh
/// installs: missing, the test proves nothing (a failure under CI).
fn tty_machine() -> Option<Machine> {
    if !std::path::Path::new(SCRIPT).exists() {
        support::report::skip_unless_ci("script(1) is missing (apt-get install util-linux)");
        return None;
    }
    Some(machine())
}

fn coloured(text: &str) -> bool {
    text.contains('\x1b')
}

#[test]
fn a_chinese_locale_on_a_terminal_gets_chinese_in_colour() {
    let Some(m) = tty_machine() else { return };
    let text = m.on_tty("", &[("LANG", "zh_CN.UTF-8")]);
    assert!(text.contains("结论"), "Chinese headings: {text}");
    assert!(
        text.contains("缺少操作系统信任库"),
        "a Chinese problem: {text}"
    );
    assert!(!text.contains("VERDICT"), "{text}");
    assert!(coloured(&text), "a colour terminal gets colour: {text:?}");
    // The verdict itself is painted, in its Chinese word.
    assert!(text.contains("\x1b[33m偏离\x1b[0m"), "{text:?}");
}

#[test]
fn the_c_locale_on_a_terminal_gets_english_in_colour() {
    let Some(m) = tty_machine() else { return };
    let text = m.on_tty("", &[("LANG", "C")]);
    assert!(text.contains("VERDICT"), "English headings: {text}");
    assert!(text.contains("lacks 1 of the OS store's 2 CAs"), "{text}");
    assert!(!text.contains("结论"), "{text}");
    assert!(text.contains("\x1b[33mdrift\x1b[0m"), "{text:?}");
    // LC_ALL decides over LANG, and LC_MESSAGES over LANG too.
    let over = m.on_tty("", &[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")]);
    assert!(over.contains("VERDICT") && !over.contains("结论"), "{over}");
    let messages = m.on_tty("", &[("LANG", "C"), ("LC_MESSAGES", "zh_SG.UTF-8")]);
    assert!(messages.contains("结论"), "{messages}");
    // Traditional Chinese is not Simplified: English.
    let tw = m.on_tty("", &[("LANG", "zh_TW.UTF-8")]);
    assert!(tw.contains("VERDICT"), "{tw}");
}

#[test]
fn term_dumb_no_color_and_color_never_turn_colour_off_on_a_terminal() {
    let Some(m) = tty_machine() else { return };
    for lang in ["zh_CN.UTF-8", "C"] {
        let dumb = m.on_tty("", &[("LANG", lang), ("TERM", "dumb")]);
        assert!(!coloured(&dumb), "TERM=dumb, LANG={lang}: {dumb:?}");
        let no_color = m.on_tty("", &[("LANG", lang), ("NO_COLOR", "1")]);
        assert!(
            !coloured(&no_color),
            "NO_COLOR=1, LANG={lang}: {no_color:?}"
        );
        let never = m.on_tty(" --color never", &[("LANG", lang)]);
        assert!(!coloured(&never), "--color never, LANG={lang}: {never:?}");
        // Colour off changes nothing else: the same words as with it.
        assert!(never.contains(if lang == "C" { "drift" } else { "偏离" }));
    }
}

#[test]
fn color_always_colours_a_pipe_and_auto_does_not() {
    let m = machine();
    let root = m.root.path().to_str().unwrap();
    for lang in ["zh_CN.UTF-8", "C"] {
        let env = m.env(&[("LANG", lang)]);
        let run = |extra: &[&str]| {
            let mut args = vec!["status", "--only", "--root", root];
            args.extend_from_slice(extra);
            let out = trustsync(&args, &env);
            assert_eq!(out.status.code(), Some(1), "{}", show(&out));
            String::from_utf8(out.stdout).unwrap()
        };
        let always = run(&["--color", "always"]);
        assert!(coloured(&always), "--color always, LANG={lang}: {always:?}");
        let piped = run(&[]);
        assert!(!coloured(&piped), "a pipe, LANG={lang}: {piped:?}");
    }
}

/// Translation goes through the same escaping: a hostile file name in a Chinese message
/// (the `os-cas-missing` problem names the bundle it reads) shows as visible escapes, and
/// no control character of it reaches the terminal.
#[test]
fn a_hostile_path_stays_escaped_in_chinese() {
    let m = machine();
    let root = m.root.path().to_str().unwrap();
    let hostile = m.root.path().join("evil\x1b[2J\r\u{202e}.pem");
    std::fs::copy(&m.bundle, &hostile).unwrap();
    let out = trustsync(
        &["status", "--only", "--root", root, "--color", "never"],
        &[
            ("LANG", "zh_CN.UTF-8"),
            ("REQUESTS_CA_BUNDLE", hostile.to_str().unwrap()),
        ],
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text.contains("缺少操作系统信任库"), "{}", show(&out));
    assert!(text.contains(r"evil\x1b[2J\r\u{202e}.pem"), "{text}");
    assert!(
        !text.contains(['\x1b', '\r', '\u{202e}']),
        "a control character reached the terminal: {text:?}"
    );
}
