//! Maven and Gradle, the build tools most Java `PKIX path building failed` reports come
//! from: each can hand its JVM a truststore of its own with `-Djavax.net.ssl.trustStore`,
//! which then replaces the JDK's `cacerts` for every download the build makes, whatever
//! JDK runs it. The JDK rows cannot show that choice; a row per setting here does.
//!
//! Where they are set (read, never run: the files are the user's, and `.mavenrc` is a
//! shell script another user wrote):
//! - Maven: `$MAVEN_OPTS`, which `mvn` passes to java; `/etc/mavenrc` and `~/.mavenrc`,
//!   which `mvn` sources first (only literal `-D…=` words count: trustsync does not
//!   evaluate shell).
//! - Gradle: `$GRADLE_OPTS` (the client JVM), and `gradle.properties` in
//!   `$GRADLE_USER_HOME` or `~/.gradle`: `systemProp.javax.net.ssl.trustStore` (a system
//!   property of the build JVM) or `-D…` in `org.gradle.jvmargs` (the daemon's command line).
//!   A project's own `gradle.properties` depends on the directory the build runs in: not
//!   judged here.
//!
//! A named store that is not a file is not a row: JSSE then falls back to the JDK's own
//! store (measured, see [`super::row`]), which the JDK rows judge. `fix` never edits these
//! files nor the store they chose (advice `java-store`, [`super::store_fix`]).

use crate::discover::Options;
use crate::model::runtime::Runtime;
use std::path::{Path, PathBuf};

/// One build tool's truststore choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolStore {
    /// `maven` or `gradle`.
    pub tool: &'static str,
    pub store: PathBuf,
    /// The variable that set it (`MAVEN_OPTS`), when a variable did.
    pub variable: Option<&'static str>,
    /// Otherwise the file and key, in words ("`systemProp.javax.net.ssl.trustStore` in …").
    pub set_in: String,
    /// `javax.net.ssl.trustStorePassword` is given beside it.
    pub password_set: bool,
    /// The home the file was found in (its account owns the row).
    pub home: Option<PathBuf>,
}

/// The value of `-D{name}=…` among `words` (the last one, as the JVM takes it); an empty
/// value names no file, and JSSE then loads its default store.
pub(super) fn system_property<'a>(
    words: impl Iterator<Item = &'a str>,
    name: &str,
) -> Option<String> {
    let prefix = format!("-D{name}=");
    words
        .filter_map(|w| w.strip_prefix(prefix.as_str()))
        .last()
        .map(|v| v.trim_matches(|c| c == '"' || c == '\'').to_string())
        .filter(|v| !v.is_empty())
}

const TRUST_STORE: &str = "javax.net.ssl.trustStore";
const TRUST_STORE_PASSWORD: &str = "javax.net.ssl.trustStorePassword";

/// The store `words` (a JVM command line) choose, and whether a password comes with it.
fn from_words(words: &str) -> Option<(PathBuf, bool)> {
    let store = system_property(words.split_whitespace(), TRUST_STORE)?;
    let password = system_property(words.split_whitespace(), TRUST_STORE_PASSWORD).is_some();
    Some((PathBuf::from(store), password))
}

/// A `gradle.properties` file's choice: `systemProp.…` wins over `org.gradle.jvmargs`
/// (Gradle sets system properties after the daemon started with its jvmargs).
/// Public for the fuzz tests: the text is another user's.
#[doc(hidden)]
pub fn gradle_properties(bytes: &[u8]) -> Option<(PathBuf, bool, &'static str)> {
    // java-properties reads the format as `Properties.load` does (`=`, `:` or blanks
    // between key and value, `\` continuations and escapes), but its decoder sniffs a
    // byte-order mark, which `Properties.load(InputStream)` (Gradle's) never does: the
    // bytes are decoded as ISO-8859-1 here, one char a byte, and handed over as UTF-8.
    let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut props = std::collections::HashMap::new();
    java_properties::PropertiesIter::new_with_encoding(latin1.as_bytes(), encoding_rs::UTF_8)
        .read_into(|k, v| {
            props.insert(k, v);
        })
        .ok()?;
    let key = format!("systemProp.{TRUST_STORE}");
    if let Some(store) = props.get(&key).filter(|v| !v.is_empty()) {
        let password = props.contains_key(&format!("systemProp.{TRUST_STORE_PASSWORD}"));
        return Some((
            PathBuf::from(store),
            password,
            "systemProp.javax.net.ssl.trustStore",
        ));
    }
    let (store, password) = from_words(props.get("org.gradle.jvmargs")?)?;
    Some((store, password, "org.gradle.jvmargs"))
}

/// A `.mavenrc`'s literal `-Djavax.net.ssl.trustStore=…` words (comments skipped).
#[doc(hidden)]
pub fn mavenrc(text: &str) -> Option<(PathBuf, bool)> {
    let code: Vec<&str> = text
        .lines()
        .take(10_000)
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect();
    let words = code.join(" ").replace(['"', '\''], " ");
    let (store, password) = from_words(&words)?;
    // A value made of shell (`$HOME/…`, `$(…)`) is the shell's to say, not trustsync's.
    (!store.as_os_str().to_string_lossy().contains('$')).then_some((store, password))
}

/// Every build tool truststore choice in `opts`' environment and (unless `--only`) its
/// covered homes, with `read` the caller's bounded reader (given the uid of the home's
/// account, whose rights a read of that home's files must not exceed).
pub fn choices(
    opts: &Options,
    read: impl Fn(&Path, Option<u32>) -> Option<Vec<u8>>,
) -> Vec<ToolStore> {
    let mut out = Vec::new();
    for (tool, var) in [("maven", "MAVEN_OPTS"), ("gradle", "GRADLE_OPTS")] {
        if let Some((store, password_set)) = opts.env.get(var).and_then(|v| from_words(v)) {
            out.push(ToolStore {
                tool,
                store,
                variable: Some(var),
                set_in: format!("${var}"),
                password_set,
                home: None,
            });
        }
    }
    // The files are the usual places: not with `--only`.
    if !opts.scan_common_dirs {
        return out;
    }
    let uid_of = |home: &Option<PathBuf>| {
        home.as_ref()
            .and_then(|h| opts.accounts.iter().find(|a| &a.home == h))
            .map(|a| a.uid)
    };
    let text = |p: &Path, uid| read(p, uid).map(|b| String::from_utf8_lossy(&b).into_owned());
    let mut mavenrcs = vec![(PathBuf::from("/etc/mavenrc"), None)];
    let mut gradle_homes = Vec::new();
    if let Some(g) = opts
        .env
        .get("GRADLE_USER_HOME")
        .filter(|g| Path::new(g).is_absolute())
    {
        gradle_homes.push((PathBuf::from(g), opts.home.clone()));
    }
    for home in opts.home_dirs() {
        mavenrcs.push((home.join(".mavenrc"), Some(home.clone())));
        gradle_homes.push((home.join(".gradle"), Some(home)));
    }
    for (file, home) in mavenrcs {
        if let Some((store, password_set)) = text(&file, uid_of(&home)).and_then(|t| mavenrc(&t)) {
            out.push(ToolStore {
                tool: "maven",
                store,
                variable: None,
                set_in: format!("MAVEN_OPTS in {}", file.display()),
                password_set,
                home,
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (dir, home) in gradle_homes {
        let file = dir.join("gradle.properties");
        if !seen.insert(file.clone()) {
            continue;
        }
        if let Some((store, password_set, key)) =
            read(&file, uid_of(&home)).and_then(|b| gradle_properties(&b))
        {
            out.push(ToolStore {
                tool: "gradle",
                store,
                variable: None,
                set_in: format!("`{key}` in {}", file.display()),
                password_set,
                home,
            });
        }
    }
    out
}

/// The row for one choice whose store is a file: the store's certificates are the whole
/// trust set of that tool's builds. `owner`: the account whose home the setting is in
/// (name, uid); a store that account could not read is not judged: root reading it on
/// their word would tell them about a file that is not theirs (`/etc/shadow`), and their
/// builds could not load it either.
pub fn row(choice: &ToolStore, owner: Option<(String, u32)>) -> Option<Runtime> {
    if !choice.store.is_file() {
        return None;
    }
    if let Some((_, uid)) = &owner {
        let reader = trustsync_platform::read::Reader::under(Path::new("/"));
        if reader.read_as(&choice.store, *uid).is_err() {
            return None;
        }
    }
    let mut rt = Runtime::new(
        super::KIND,
        choice.store.clone(),
        format!("{} ({})", choice.tool, choice.set_in),
    );
    rt.owner = owner.map(|(name, _)| name);
    match choice.variable {
        Some(var) => rt.overridden_by.push(var.to_string()),
        None => rt.configured_by = Some(choice.set_in.clone()),
    }
    super::judge_store(&mut rt, &choice.store, choice.password_set);
    Some(rt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradle_properties_as_java_reads_them() {
        let p = b"# comment\nsystemProp.javax.net.ssl.trustStore = /opt/corp/trust.jks\n";
        assert_eq!(
            gradle_properties(p),
            Some((
                PathBuf::from("/opt/corp/trust.jks"),
                false,
                "systemProp.javax.net.ssl.trustStore"
            ))
        );
        // A continuation line and the `:` separator; the password beside it.
        let p = b"org.gradle.jvmargs: -Xmx2g \\\n  -Djavax.net.ssl.trustStore=/t.p12 -Djavax.net.ssl.trustStorePassword=x\n";
        assert_eq!(
            gradle_properties(p),
            Some((PathBuf::from("/t.p12"), true, "org.gradle.jvmargs"))
        );
        // systemProp wins over jvmargs.
        let p = b"org.gradle.jvmargs=-Djavax.net.ssl.trustStore=/a\nsystemProp.javax.net.ssl.trustStore=/b\n";
        assert_eq!(gradle_properties(p).unwrap().0, PathBuf::from("/b"));
        assert_eq!(gradle_properties(b"org.gradle.jvmargs=-Xmx1g\n"), None);
        assert_eq!(gradle_properties(b"\xff\xfe\x00garbage"), None);
    }

    #[test]
    fn mavenrc_literal_words_only() {
        let rc =
            "# set by IT\nMAVEN_OPTS=\"$MAVEN_OPTS -Djavax.net.ssl.trustStore=/etc/corp.jks\"\n";
        assert_eq!(mavenrc(rc), Some((PathBuf::from("/etc/corp.jks"), false)));
        assert_eq!(
            mavenrc("MAVEN_OPTS=-Djavax.net.ssl.trustStore=$HOME/x.jks"),
            None
        );
        assert_eq!(mavenrc("# -Djavax.net.ssl.trustStore=/commented"), None);
        // The last one is the JVM's.
        let rc = "MAVEN_OPTS='-Djavax.net.ssl.trustStore=/a -Djavax.net.ssl.trustStore=/b'";
        assert_eq!(mavenrc(rc).unwrap().0, PathBuf::from("/b"));
    }
}
