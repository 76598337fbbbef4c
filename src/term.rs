//! What may reach a terminal: every string trustsync prints for a person goes through
//! [`escape`] first.
//!
//! Why: trustsync runs as root and prints text other people control: certificate subjects
//! and SANs (from bundles any user can plant, and from whatever server `probe` talks to),
//! file names, what interpreters answer, a child's stderr. Raw, such text can drive the
//! terminal (ESC sequences: clearing the screen, OSC 8 links, OSC 52 clipboard writes; C1
//! controls, which some terminals take as ESC sequences too), reorder what is shown (bidi
//! overrides and isolates) or forge lines of output (a newline, or a carriage return that
//! rewrites the line it ends, followed by a fake `ok` row). [`escape`] turns each such
//! character into a visible Rust-style escape (`\x1b`, `\u{9b}`, `\u{202e}`, `\n`) and leaves
//! every other character, Chinese and every printable script included, as it is.
//!
//! Columns are measured in terminal cells ([`width`], `unicode-width`), not bytes or
//! characters: a CJK character takes two cells and a combining mark none, so a path like
//! `/home/张三/项目` would otherwise push the rest of its table row off its column.
//!
//! Only human output is escaped: `--json` carries the real string, escaped by serde for
//! JSON, so programs see exactly what trustsync saw. A backslash is not escaped (Windows
//! paths stay readable): text showing `\n` may hold a backslash and an `n`, never a newline.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How many terminal cells `s` takes (wide CJK characters count two). For text already
/// [`escape`]d: the escapes are ASCII and counted as shown.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` followed by spaces up to `cells` terminal cells (as is when it is wider): what
/// `{:<N}` does by characters, by [`width`]. For text already escaped.
pub fn pad(s: &str, cells: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', cells.saturating_sub(width(s))));
    out
}

/// Spaces up to `cells` terminal cells, then `s`: `{:>N}` by [`width`] (a right-aligned
/// column whose heading may be Chinese).
pub fn pad_left(s: &str, cells: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', cells.saturating_sub(width(s))).collect();
    out.push_str(s);
    out
}

/// Whether `c` must not reach a terminal raw: C0 controls (tab, newline and CR included),
/// DEL, C1 controls (U+0080–U+009F), the bidi formatting characters (embeddings and
/// overrides U+202A–U+202E, isolates U+2066–U+2069, the marks U+200E, U+200F, U+061C) and
/// the Unicode line and paragraph separators (U+2028, U+2029), which some terminals and
/// viewers break lines at.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// `s` for a terminal: every [unsafe](is_unsafe) character as a visible escape, the rest
/// unchanged. Borrows when there is nothing to escape (the usual case).
pub fn escape(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(is_unsafe) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// A path for a terminal: [`escape`]d, and on Unix each byte that is not UTF-8 as `\xNN`
/// (lossy conversion would show two different names alike).
pub fn path(p: &Path) -> Cow<'_, str> {
    if let Some(s) = p.to_str() {
        return escape(s);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::new();
        for chunk in p.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(&escape(chunk.valid()));
            for b in chunk.invalid() {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        Cow::Owned(out)
    }
    #[cfg(not(unix))]
    {
        // Windows: unpaired surrogates; the lossy form is escaped like any other text.
        Cow::Owned(escape(&p.to_string_lossy()).into_owned())
    }
}

/// `s` [`escape`]d and cut to at most `cells` terminal cells ([`width`]), for a table
/// column. Cut between characters of `s`, so an escape is shown whole or not at all (and a
/// wide character that would straddle the edge is left out, not halved).
pub fn fit(s: &str, cells: usize) -> Cow<'_, str> {
    let escaped = escape(s);
    if width(&escaped) <= cells {
        return escaped;
    }
    let mut out = String::new();
    let mut used = 0;
    let mut piece = String::new();
    for c in s.chars() {
        piece.clear();
        push_escaped(&mut piece, c);
        let n = if is_unsafe(c) {
            piece.len() // its escape: ASCII, one cell a byte
        } else {
            c.width().unwrap_or(0)
        };
        if used + n > cells {
            break;
        }
        used += n;
        out.push_str(&piece);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if !is_unsafe(c) => out.push(c),
        c if c.is_ascii() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing the terminal could act on is left in `s`.
    fn inert(s: &str) -> bool {
        !s.chars().any(is_unsafe)
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in [
            "",
            "DigiCert Global Root G2",
            "/usr/lib/python3/dist-packages/certifi/cacert.pem",
            r"C:\Program Files\Python311\python.exe",
            "中国金融认证中心 CFCA EV ROOT",
            "Főtanúsítvány, Ελληνικά, עברית, العربية, 日本語, 😀",
        ] {
            assert!(matches!(escape(s), Cow::Borrowed(b) if b == s), "{s}");
        }
    }

    #[test]
    fn c0_controls_and_del_become_hex_escapes() {
        assert_eq!(escape("a\u{0}b\u{7}c\u{7f}"), r"a\x00b\x07c\x7f");
        assert_eq!(escape("tab\there"), r"tab\there");
    }

    #[test]
    fn newline_and_lone_cr_cannot_start_a_line() {
        let forged = "evil\r\nrequests  /x   140  ok";
        let out = escape(forged);
        assert_eq!(out, r"evil\r\nrequests  /x   140  ok");
        assert_eq!(out.lines().count(), 1);
        // A lone CR would move the cursor back and let the rest overwrite the line.
        assert_eq!(escape("broken\rok    "), r"broken\rok    ");
    }

    #[test]
    fn csi_sequence_is_shown_not_run() {
        assert_eq!(escape("\x1b[2J\x1b[31mred"), r"\x1b[2J\x1b[31mred");
    }

    #[test]
    fn osc8_hyperlink_is_shown_not_run() {
        let s = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\";
        let out = escape(s);
        assert_eq!(out, r"\x1b]8;;https://evil.example/\x1b\click\x1b]8;;\x1b\");
        assert!(inert(&out));
    }

    #[test]
    fn osc52_clipboard_write_is_shown_with_either_terminator() {
        // Terminated by BEL and by ST (ESC \), and by the one-byte C1 ST (U+009C).
        assert_eq!(
            escape("\x1b]52;c;cm0gLXJmIH4=\x07"),
            r"\x1b]52;c;cm0gLXJmIH4=\x07"
        );
        assert_eq!(
            escape("\x1b]52;c;cm0gLXJmIH4=\x1b\\"),
            r"\x1b]52;c;cm0gLXJmIH4=\x1b\"
        );
        assert_eq!(
            escape("\u{9d}52;c;cm0gLXJmIH4=\u{9c}"),
            r"\u{9d}52;c;cm0gLXJmIH4=\u{9c}"
        );
    }

    #[test]
    fn c1_controls_become_unicode_escapes() {
        assert_eq!(escape("a\u{9b}2Jb\u{80}\u{85}"), r"a\u{9b}2Jb\u{80}\u{85}");
        // The printable neighbours of the C1 range stay.
        assert_eq!(escape("\u{7e}\u{a0}é"), "\u{7e}\u{a0}é");
    }

    #[test]
    fn bidi_controls_become_unicode_escapes() {
        // "gpj.exe" shown reversed as "exe.jpg" by an override.
        assert_eq!(escape("photo\u{202e}gpj.exe"), r"photo\u{202e}gpj.exe");
        for c in ('\u{202a}'..='\u{202e}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200e}', '\u{200f}', '\u{61c}', '\u{2028}', '\u{2029}'])
        {
            let s = format!("x{c}y");
            let out = escape(&s);
            assert_eq!(out, format!("x\\u{{{:x}}}y", c as u32));
        }
        // Arabic and Hebrew letters themselves are text, not controls.
        assert_eq!(escape("שלום مرحبا"), "שלום مرحبا");
    }

    #[test]
    fn only_the_unsafe_characters_change() {
        assert_eq!(
            escape("证书\x1b[2J颁发者\u{202e}"),
            r"证书\x1b[2J颁发者\u{202e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn paths_show_bytes_that_are_not_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/a\xff\x1b[2J\n.pem"));
        assert_eq!(path(p), r"/tmp/a\xff\x1b[2J\n.pem");
        assert!(matches!(
            path(Path::new("/etc/ssl")),
            Cow::Borrowed("/etc/ssl")
        ));
    }

    #[test]
    fn widths_are_terminal_cells() {
        assert_eq!(width("python3"), 7);
        assert_eq!(width("张三"), 4, "wide characters take two cells");
        assert_eq!(width("e\u{301}"), 1, "a combining mark takes none");
        assert_eq!(pad("张三", 6), "张三  ");
        assert_eq!(pad("abc", 2), "abc", "wider text is left as it is");
        assert_eq!(pad_left("信任", 6), "  信任");
        assert_eq!(pad_left("145", 6), "   145");
    }

    #[test]
    fn fit_cuts_between_escapes() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("abcdefgh", 5), "abcde");
        // `a\x1b` is 5 characters; the escape does not fit in 4 and is dropped whole.
        assert_eq!(fit("a\x1bbc", 4), "a");
        assert_eq!(fit("a\x1bbc", 5), r"a\x1b");
        // By cells: each of 中文 takes two, so 3 cells hold one of them.
        assert_eq!(fit("中文\n", 4), "中文");
        assert_eq!(fit("中文\n", 3), "中");
        assert_eq!(fit("中文\n", 6), r"中文\n");
    }
}
