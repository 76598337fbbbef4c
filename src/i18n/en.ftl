# trustsync's messages in English: the text --json carries and the default language.
# Every id here is in zh-CN.ftl too, with the same placeables (src/i18n/tests.rs).
# Arguments named `yes`/`no` choose a variant; `count`-like numbers choose the plural.

## Verdicts

verdict-ok = ok
verdict-drift = drift
verdict-broken = broken

## status

status-store = OS trust store ({ $flavor }): { $count } CAs from { $bundle }
status-store-system = the system store
status-store-local = ; { $count } added locally ({ $names })
status-store-distrusted = ; { $count } distrusted
status-store-expired = ; { $count } expired
status-warning = warning: { $warning }
status-store-behind = the OS store may be out of date: certifi { $version } ({ $source }) trusts { $count } roots it lacks ({ $names }{ $more ->
        [yes] , …
       *[no] {""}
    }); update it the OS way: { $update }
status-col-kind = KIND
status-col-runtime = RUNTIME
status-col-trusts = TRUSTS
status-col-verdict = VERDICT
status-row-fix = fix: { $hint }
status-summary = { $ok } ok, { $drift } drift, { $broken } broken
status-fix-line = fix: { $command }   (fixes { $count ->
        [one] { $count } runtime
       *[other] { $count } runtimes
    } above; preview with `trustsync fix --dry-run`)
looked-this-user = this user only
looked-homes = looked in the homes of { $accounts } ({ $homes }); discovery took { $millis } ms
looked-walk = walked { $path } to depth { $depth }: { $entries } entries in { $millis } ms{ $truncated ->
        [yes] {" "}(stopped at the entry budget: deeper venvs there are not listed)
       *[no] {""}
    }

## The line under a status row that fix would not change

hint-run-as-owner = run `trustsync status` as the owner of this interpreter
hint-variable = point { $variable } at the OS bundle, or unset it (`{ $command }` rewrites it only where trustsync set it)
hint-repair = repair or remove this runtime; trustsync cannot see where it looks
hint-log-in-again = nothing left for fix: this session started before it; log in again or run `. /etc/profile.d/trustsync.sh` (running services need a restart)
hint-advice = fix changes nothing for it: { $advice }
hint-nothing-to-change = fix has nothing to change for it (`trustsync fix --dry-run` shows the plan)

## Problems (diagnose)

names-some = { $names }{ $more ->
        [0] {""}
       *[other] , and { $more } more
    }
sources-builtin = { $from } ({ $count } CAs)
sources-path = { $path }
sources-and = { $first } and { $rest }
sources-none = no CA file or directory is configured
noun-cafile = CA file { $path }
noun-capath = certificate directory { $path }
what-missing = does not exist
what-not-a-dir = is not a directory
what-not-a-file = is a directory, not a file
what-unreadable = cannot be read: { $error }
what-no-certificates = holds no certificates
what-no-readable-certificate = holds no readable certificate ({ $first })
what-unloadable = cannot be loaded by OpenSSL ({ $why }), so none of its { $count } certificates count
problem-path = { $noun } { $what }
problem-env-var-broken = { $variable } names { $path }, which { $what }; it affects { $affects }
problem-extra-cafile-unusable = CA file { $path } { $what }; it is loaded on top of the other sources and loading it raises, so every TLS connection fails
problem-cafile-unloadable = CA file { $path } { $what }; loading it raises, so every TLS connection fails
problem-bad-entries-skipped = { $count } unreadable entries skipped in { $path }: { $first }
problem-capath-empty = certificate directory { $path } is empty
problem-capath-no-hash-links = certificate directory { $path } has { $count } files but no HASH.N names, so OpenSSL finds none of them
problem-ca-refused = { $strict ->
        [yes] verifies with VERIFY_X509_STRICT and refuses
       *[no] refuses
    } the locally added CA '{ $name }': { $why }; the CA must be re-issued (trustsync cannot fix this)
problem-env-override = { $variables } decides where it looks
problem-no-trust-anchors = trusts no CA at all: { $sources } yield nothing, so every TLS connection fails; the OS store has { $count } CAs it cannot see
problem-os-cas-missing = lacks { $count } of the OS store's { $total } CAs{ $local ->
        [0] {""}
       *[other] , including { $local } added locally on this machine ({ $names })
    }; it reads { $sources }
problem-compiled-cas-not-in-os-store = { $from } has { $count } CAs the OS store does not (another Mozilla snapshot; they do not stop it trusting what the OS trusts): { $names }
problem-distrusted-ca-trusted = trusts { $count } CAs the OS distrusts: { $names }
problem-ca-not-in-os-store = trusts { $count } CAs the OS store does not (roots removed from Mozilla's list but kept by an old bundle, or newer roots the OS store lacks yet): { $names }
problem-ca-not-in-os-store-old = trusts { $count } CAs the OS store does not and no newer bundle here holds (roots removed from Mozilla's list but kept by an old bundle): { $names }
problem-ca-newer-than-os-store = also trusts { $count } roots newer than the OS store ({ $source } has them too): { $names }; the store is behind, not this runtime
problem-expired-cas = holds { $count } expired CAs (harmless to keep, but a sign of a stale bundle): { $names }
problem-fixed-for-new-shells = { $snippet } sets ${ $variable } for new login shells; this one started before it: run `. { $snippet }` or log in again
problem-fixed-for-new-windows = { $key }\{ $variable } points at { $bundle } for programs started from now on; this one started before `trustsync fix`: open a new window

## fix: the plan, and what a run did

plan-nothing-to-do = Nothing to do: everything is already in place.
plan-changes = { $count } change(s):
plan-changes-made = Applied. { $count } change(s) made:
plan-why = why: { $reason }
plan-create-dir = create directory { $target } (mode { $mode })
plan-write-file = { $replace ->
        [yes] replace
       *[no] create
    } file { $target } (mode { $mode }, { $bytes } bytes{ $bundle ->
        [yes] , { $certs } certificates
       *[no] {""}
    })
plan-symlink = link { $target } -> { $link }
plan-keystore-add = add { $count } CA entries (aliases trustsync-…) to the Java keystore { $target }
plan-block-add = add block { $block } to { $target } ({ $count } certificates)
plan-keystore-remove = remove trustsync's CA entries from the Java keystore { $target }
plan-block-remove = remove block { $block } from { $target }
plan-remove = remove { $target } (created by trustsync)
plan-win-write-file = { $replace ->
        [yes] replace
       *[no] create
    } file { $target } ({ $bytes } bytes, { $certs } certificates)
plan-win-set-var = set { $variable } = { $value }
fix-dry-run-note = (dry run: nothing changed; `{ $command }` applies exactly this)
fix-undo-with = Undo with `{ $command }`.
fix-variables-reach = The variables reach { $reached }; in this shell: `. { $snippet }`.
fix-variables-not-reached = { $count ->
        [0] Not reached: programs started with an empty environment (bundles root may write are patched instead: the default strategy).
       *[other] Not reached here: { $not }, nor programs started with an empty environment (bundles root may write are patched instead: the default strategy).
    }
fix-windows-new-window = Programs started from now on see the variables; this window and programs already running do not: open a new one.
fix-advice-heading = Not changed by trustsync (yours to decide):

## undo

undo-restored = restored { $path }
undo-removed = removed  { $path }
undo-kept = kept     { $path } (not empty: someone added files)
undo-block-gone = note     { $path }: trustsync's block was already gone
undo-nothing = Nothing to undo.

## list

list-col-expires = EXPIRES
list-col-flags = FLAGS
list-col-ca = CA
list-flag-local = local
list-flag-distrusted = distrusted
list-flag-expired = expired
list-summary = { $shown } of the { $total } CAs in the OS store ({ $flavor })

## probe

probe-of = Probe of
probe-header = { $probe_of } { $host } (name { $name }, peer { $peer }{ $proxy }{ $protocol })
probe-header-proxy = , via proxy { $proxy }
probe-header-protocol = , { $protocol }
probe-header-saved = { $probe_of } { $name } (saved chain)
probe-checked-at = Checked at { $time }
probe-chain-heading = Chain sent by the server ({ $count ->
        [one] { $count } certificate
       *[other] { $count } certificates
    }):
probe-unreadable-certificate = unreadable certificate: { $error }
probe-self-signed-tag = self-signed
probe-issued-by = issued by { $issuer }
probe-expired-tag = EXPIRED
probe-not-yet-valid-tag = NOT YET VALID
probe-chain-state = , { $state }
probe-chain-line = { $subject } ({ $by }; until { $until }{ $state })
probe-field-issuer = issuer
probe-field-valid = valid
probe-field-names = names
probe-issuer-at = issuer certificate at: { $url }
probe-outcome-heading = Outcome per trust set:
probe-verification-heading = Verification per trust set:
probe-no-trust-sets = (no trust sets given)
probe-group = { $verified ->
        [yes] verifies in
       *[no] fails in
    } { $count ->
        [one] { $count } trust set
       *[other] { $count } trust sets
    }: { $who } — { $reason }
probe-each-of-them = each of them
probe-next-step = next step: { $step }
probe-see-verbose = Each trust set's own verdict: trustsync probe -v …
probe-notes-heading = Notes:
probe-result-ok = Result: verifies in every trust set.
probe-result-fail = Result: { $overall } ({ $failing } of { $total } trust sets fail).
probe-reason-anchored = anchored at '{ $root }'
probe-reason-lack = they lack '{ $name }'
probe-reason-nobody-has = nobody has '{ $name }', which the server did not send
probe-reason-valid = '{ $name }' is valid { $from } .. { $until }
probe-reason-name = the certificate does not name '{ $name }'
probe-verifies-to-root = Verifies up to the trusted root '{ $root }'.
probe-untrusted-root = The chain leads to the root CA '{ $root }', which { $set } does not trust.
probe-unknown-issuer = The chain leads to '{ $issuer }', which { $set } does not trust; the server did not send it and no trust set here has it (an unknown root CA, or an intermediate the server left out).
probe-incomplete-chain = Incomplete chain: the server sent '{ $sent }' but not its issuer '{ $issuer }', an intermediate certificate that no trust set here has. It is published at { $urls }.
probe-self-signed = The server's certificate '{ $name }' is self-signed (it is its own issuer), and { $set } does not trust it.
probe-not-yet-valid = { $leaf ->
        [yes] The server's certificate
       *[no] The CA certificate
    } '{ $name }' is not valid yet: valid from { $from } to { $until }, and it is now { $now } here.
probe-expired = { $leaf ->
        [yes] The server's certificate
       *[no] The CA certificate
    } '{ $name }' expired on { $until } (valid from { $from }); it is now { $now } here.
probe-step-check-service = Check that HOST:PORT is the TLS service you meant.
probe-step-inspection = If this is your organisation's TLS-inspecting proxy, ask whoever runs it for its root CA certificate, compare its SHA-256 fingerprint with them, add it to the OS trust store, then run `sudo trustsync fix`. Do not turn certificate verification off.
probe-step-hostname = Connect with a name the certificate covers, or have the server's operator add '{ $name }' to its certificate. (A proxy or load balancer answering for another site also causes this.)
probe-step-fix-chain = The server's operator must fix its certificate chain.
probe-step-check-clock = Check this machine's clock first: it says { $now }, which is outside the validity of most certificates in the chain.
probe-step-renew = The server's operator must renew the certificate (or install the current intermediate); nothing on this machine can fix it safely.
probe-step-not-yet-valid = If this machine's clock is right, the server installed a certificate that is not valid yet; its operator must fix that.
probe-step-self-signed-os-trusts = The { $os } trusts this certificate: run `sudo trustsync fix` so { $set } does too.
probe-step-self-signed = If this is your own server, give it a certificate from a CA you trust. To trust this one certificate, compare its SHA-256 ({ $sha256 }) with the server's operator, add it to the OS trust store, then run `sudo trustsync fix`.
probe-step-send-full-chain = The server's operator must send the full chain: '{ $sent }' followed by the intermediate '{ $issuer }' (download: { $urls }). Browsers hide this by fetching the intermediate themselves; OpenSSL, Python and curl do not.
probe-step-run-fix = Run `sudo trustsync fix`: it makes { $set } trust what the { $os } trusts.
probe-step-trusted-elsewhere = '{ $name }' is trusted by { $by } but not by the { $os }; trustsync copies trust from the OS store only. If you trust this CA, add it to the OS trust store, then run `sudo trustsync fix`.
probe-step-private-ca = No trust set on this machine trusts '{ $name }'. If it is a private CA you trust, add it to the OS trust store, then run `sudo trustsync fix`.

## The one-line errors on stderr (the error document's `message` is their English text)

error-runtime-not-found = --runtime { $path }: no such file or directory
error-not-a-runtime = --runtime { $path }: not an interpreter, venv, openssl binary or CA bundle trustsync knows
error-store-unreadable = cannot read the OS trust store: { $error }
error-internal = internal error: { $what }
error-undo-unavailable = undo is not available on this OS yet
error-fix-unavailable = fix is not available on this OS yet
error-hooks-windows = hooks are for Linux and macOS package managers; on Windows, schedule `trustsync fix --yes`
error-fix-option-windows = fix: { $flag } is not available on Windows (there, fix writes a managed bundle and sets the variables runtimes read)
error-hook-needs-root = hook { $what } writes system files and needs root: sudo trustsync hook { $what }
error-hook-binary-unknown = hook install: cannot tell where trustsync is: { $error }
fix-hooks-refreshed = hooks brought up to date ({ $count } file(s)); see `trustsync hook status`
fix-hooks-not-refreshed = fix: the hooks were not brought up to date: { $error }; run `sudo trustsync hook install`
fix-not-applied-no-terminal = not applied: pass --yes to apply without a terminal to confirm on
fix-prompt = Apply these { $count } changes? [y/N]
fix-nothing-changed = nothing changed

## add / remove

manage-the-os-store = the OS store
manage-added = added    { $subject } (SHA-256 { $short }…) to { $at }
manage-present = present  { $subject } (SHA-256 { $short }…) was already in { $at }
manage-removed = removed  { $subject } (SHA-256 { $short }…) from { $at }
manage-kept = kept     { $subject } (SHA-256 { $short }…): trusted through something trustsync did not add
manage-already-trusted = trusted  { $subject } (SHA-256 { $short }…) is already trusted by the OS store; nothing to do
manage-ran = ran      { $command }{ $has_said ->
        [no] {""}
       *[yes] : { $said }
    }
manage-not-present = The OS store does not trust SHA-256 { $sha256 }; nothing to remove.
note-line = note: { $note }
manage-next = Next: { $step }.
manage-next-step = runtimes with a CA bundle of their own do not see this yet: run `sudo trustsync fix` (preview with `trustsync fix --dry-run`)
manage-next-step-windows = runtimes with a CA bundle of their own do not see this yet: `trustsync status` lists them
manage-take-out = Take it out again with `{ $sudo }trustsync remove { $sha256 }`.
manage-error = { $command } { $refused ->
        [yes] refused
       *[no] failed
    }: { $error }

## fix: advice (what trustsync leaves to the user)

advice-profile-not-read = macOS shells do not read /etc/profile.d: add `. { $snippet }` to /etc/zshrc (and /etc/bashrc), or set the variables with `launchctl setenv` for GUI apps
advice-sudo-env-file-set = a sudoers file already sets env_file, so trustsync adds none: add the variables of { $file } to that file for `sudo` to pass them on
advice-etc-environment-not-changed = { $file } is the OS's file, so trustsync leaves it alone: rerun with `--etc-environment` to add the variables there for su, login, ssh and cron (pam_env)
advice-pam-environment-odd = { $file } is not a regular file, so trustsync leaves it alone; sudo, su and cron will not get the variables
advice-cannot-see-runtime = trustsync cannot tell where this runtime looks ({ $why }); nothing changed for it
advice-curl-ca-bundle-empty = it verifies nothing because $CURL_CA_BUNDLE is set but empty{ $origin }: unset it (trustsync does not change a variable it did not set)
advice-verification-off = { $said }: remove that setting (trustsync does not edit configuration it did not write)
advice-config-set-elsewhere = { $origin } decides where it looks; point it at { $bundle }, or remove the setting (trustsync does not edit configuration it did not write)
advice-variable-set-elsewhere = ${ $variable } is set outside trustsync{ $origin }; point it at { $bundle } (or { $managed } after `sudo trustsync fix`), or unset it
advice-variables-decide = { $variables } decides where it looks and is set outside trustsync; fix the variable (see its own row) rather than the runtime
advice-reported-by-user = where it looks was reported by a program that belongs to uid { $uid }; as root, trustsync does not write where another user's program points. That user can run `trustsync fix` themselves, or point the runtime at { $bundle }
advice-extra-cas-kept-bundle = it trusts CAs the OS does not; trustsync withdraws only what it added itself. { $target } holds only OS CAs: point the runtime at it to drop the rest
advice-extra-cas-kept-dir = it trusts CAs the OS does not; trustsync withdraws only the entries it made itself: remove the others from its files, or accept them
advice-no-variable = this package has no variable to point it at another bundle, and root does not write its file (another user's directory, or a link): configure the application, or run `trustsync fix` as the file's owner
advice-not-a-file = { $target } is not a regular file; not patched
advice-no-capath = this runtime reads no certificate directory; point SSL_CERT_FILE at the OS bundle

## Runtime families: what discovery found

note-not-executed = not run as root because { $reason }
note-npm-strict-ssl-off = strict-ssl=false in { $at }: npm accepts any certificate
note-node-probe-failed = could not ask it how it was built: { $error }
note-node-options-refused = $NODE_OPTIONS has --use-system-ca, which node { $version } does not know: it refuses to start ("bad option"); that option needs v22.15 or v23.9 and later
note-node-roots-unknown = node { $version } is older than 12.3 and cannot list its compiled-in roots
note-node-extra-ca-missing = $NODE_EXTRA_CA_CERTS names { $file }, which is not a readable file: node warns and starts without it
note-client-verification-off = { $at }: { $client } accepts any certificate
note-client-cafile-unreadable = the cafile { $file } set in { $at } cannot be read: { $client } warns and uses node's own roots
note-java-foreign-store-type = ${ $variable } sets javax.net.ssl.trustStoreType={ $store_type }, a store only { $os } has: JSSE cannot load its truststore here, so every connection fails
note-java-keychain-partial = KeychainStore holds only the certificates your keychains trust explicitly; the system roots need KeychainStore-ROOT (JDK 23+)
advice-client-refused-setting = { $said }: rename the setting (httpsCaFilePath, naming { $bundle }) or remove it (trustsync does not edit configuration it did not write)
note-java-store-missing = ${ $variable } names the truststore { $path }, which is not a file: JSSE uses { $default } instead
note-pip-trusted-host = pip checks no certificate for { $hosts } (`trusted-host` in { $origin }): anyone in the path can answer for them; remove it once pip trusts the CA
note-truststore-fallback = OpenSSL's default paths hold nothing, so truststore falls back to { $path }
note-probe-failed = could not ask it where it looks: { $error }
note-no-ssl-module = this Python has no working ssl module ({ $error }): it cannot verify TLS at all
note-truststore-injected = { $by } injects truststore: `ssl` and requests verify through it
note-unverified-context = { $by } sets ssl._create_default_https_context to the unverified one: urllib.request and http.client accept any certificate; remove that line once the CA is trusted
note-pythonhttpsverify = PYTHONHTTPSVERIFY=0 and this Python honours it (PEP 493, as RHEL patches it): urllib.request and http.client accept any certificate; unset it once the CA is trusted
note-certifi-missing = requests is installed but certifi is not: requests cannot verify anything until it is
note-requests-curl-empty = requests { $version } takes CURL_CA_BUNDLE="" (set but empty) as `verify=False`: every HTTPS connection is accepted without checking the server; unset the variable (or upgrade requests to 2.28 or later)
note-not-executed-user = not run as root because { $reason }; run `trustsync status` as that user to check it
note-no-openssldir = `openssl version -d` printed no OPENSSLDIR
note-empty-variable = ${ $variable } is set but empty: OpenSSL then reads nothing in place of { $default }

## The OS store's warnings

warning-clock = the clock looks wrong: it says { $date }, and { $expired } of the { $total } CAs in the OS store have expired by then, { $future } are not yet valid; every TLS connection will fail until the time is right (check `timedatectl` or the host's time)
warning-local-ca-refused = locally added CA '{ $name }': every OpenSSL client (Python, requests, pip, curl) refuses it: { $why }; it must be re-issued
warning-local-ca-strict = locally added CA '{ $name }': Python 3.13+ (`ssl`, and requests with urllib3 2.3+) refuses it under VERIFY_X509_STRICT: { $why }; older clients and pip accept it; re-issue it to keep working after a Python upgrade
warning-local-ca-expired = locally added CA '{ $name }' expired on { $date }: no client accepts what it issues
warning-local-ca-not-yet = locally added CA '{ $name }' is not valid before { $date }

## probe: notes on the whole chain

probe-note-unusable-roots = some trusted certificates could not be used as roots and were skipped: { $sets }
probe-name-no-host = The certificate names no host (no subject alternative names; TLS libraries ignore the subject CN '{ $cn }'), so it cannot match '{ $name }'.
probe-name-mismatch = The certificate is for { $names } but the name asked was '{ $name }'.
probe-reasons-and = { $first }; { $rest }
probe-note-inspection = No trust set here trusts '{ $name }' ({ $reasons }): this looks like a TLS-inspecting proxy (corporate firewall, antivirus, debugging proxy) re-signing the connection, or a private CA.
probe-reason-product = its name contains "{ $product }"
probe-reason-not-public = it is not a well-known public CA
probe-reason-proxy = a proxy is in use (HTTPS_PROXY or --proxy)
probe-note-clock = This machine's clock says { $now }, which is outside the validity of most certificates seen: the clock may be wrong (check date, time zone and NTP) before blaming the server.

## hook

hook-last-ran = last ran { $time } ({ $outcome }): { $message }
hook-not-run-yet = has not run yet
hook-changed-not-run = what it watches changed at { $time } and it has not run since
hook-none-installed = no hooks installed
hook-dry-run-note = (dry run: nothing changed)

## undo: its one-line errors

error-undo-needs-admin = undo: trustsync fix ran as administrator here; run `trustsync undo` from an elevated prompt
error-undo-store-not-rebuilt = undo: the OS store was not rebuilt: { $error }
error-undo-root-windows = undo: --root is not available on Windows

## fix on Windows: advice

advice-win-variable-set-elsewhere = ${ $variable } is set outside trustsync (in { $place }) to { $value }; trustsync leaves it alone: { $managed ->
        [yes] point it at { $bundle } or remove it, then run `trustsync fix` again
       *[no] remove it, or point it at certificates the OS store trusts
    }
advice-win-curl-ca-bundle-empty = it verifies nothing because CURL_CA_BUNDLE is set but empty: unset it (trustsync does not change a variable it did not set)
advice-win-config-set-elsewhere = { $origin } decides where it looks; point it at a bundle that holds the OS store's CAs, or remove the setting (trustsync does not edit configuration it did not write)
advice-win-java-store = this JDK trusts only its own store { $store }: have it use the Windows store with `-Djavax.net.ssl.trustStoreType=Windows-ROOT` (in JAVA_TOOL_OPTIONS or the application's options), or add the CA with that JDK's keytool
advice-win-no-variable = this package has no variable to point it at another bundle (and `--strategy patch-bundle` is not available on Windows); configure the application to use the managed bundle

## fix: the JDKs' truststores

advice-java-no-store = trustsync found no truststore for this JDK
advice-java-store-chosen = ${ $variable } names its truststore { $store } (`-Djavax.net.ssl.trustStore`), a choice trustsync does not override: add the CA there with keytool as that file's owner, or point the property at { $debian } where that file exists
advice-java-store-configured = { $setting } names its truststore { $store }, a choice trustsync does not override: add the CA there with keytool as that file's owner, or point the setting at { $debian } where that file exists
advice-java-debian-store = { $store } is Debian's Java store, which ca-certificates-java rebuilds from the OS store; it has not picked this CA up yet: run `update-ca-certificates --fresh` (or `dpkg-reconfigure ca-certificates-java`)
advice-java-store-link = { $store } is a link to { $resolved }; trustsync does not write through links: add the CA to that file with keytool as its owner (`keytool -importcert -keystore FILE -alias trustsync-<sha256> -file CA.pem`)
advice-java-owner = { $why }; the JDK's owner can run `trustsync fix`, or add the CA with that JDK's keytool: `keytool -importcert -keystore { $store } -storepass changeit -alias trustsync-<sha256> -file CA.pem`, or point JAVA_TOOL_OPTIONS at `-Djavax.net.ssl.trustStore={ $debian }` where that file exists
advice-java-env-strategy = --strategy env sets variables, and no variable every JVM reads can add CAs to { $store }

## Why each planned change is made (the "why:" line of a plan; JSON keeps the English).
reason-hash-link = OpenSSL looks up CAs in { $dir } by subject hash; { $name } provides { $source }
reason-hash-unlink = the OS store no longer provides the CA trustsync linked as { $name }
reason-withdraw-block = the OS no longer trusts what trustsync added to { $runtime }; withdraw its block
reason-append-block = { $runtime } lacks { $count ->
        [one] { $count } OS CA; add it
       *[other] { $count } OS CAs; add them
    } in a marked block (`sudo trustsync undo` removes it)
reason-withdraw-entries = the OS no longer trusts what trustsync added to { $runtime }; withdraw its entries
reason-append-entries = { $runtime } lacks { $count ->
        [one] { $count } OS CA; add it to its store as a trustsync-… entry (`sudo trustsync undo` removes it)
       *[other] { $count } OS CAs; add them to its store as trustsync-… entries (`sudo trustsync undo` removes them)
    }
reason-cafile-link = { $runtime } reads this CA file, which does not exist; link it to the OS bundle
reason-dir-certs = the runtime's certificate directory needs it
reason-dir-cafile = the runtime's CA file lives here
reason-dir-managed = trustsync keeps its managed files here
reason-dir-profile = the profile snippet directory
reason-dir-environment-d = systemd reads environment.d here
reason-dir-systemd = systemd reads manager drop-ins here
reason-managed-cert = the OS store has no single file for this CA; a hashed directory needs one
reason-managed-bundle = the OS store as one PEM file, for runtimes that read a bundle of their own
reason-profile-snippet = login shells point bundle-reading runtimes at the OS bundle
reason-environment-d = systemd user sessions and their services get the same variables
reason-systemd-system = system services (after `systemctl daemon-reexec` or a reboot) get the same variables
reason-sudoers = sudo and `sudo -u` (env_reset, no pam_env) get the same variables
reason-pam-environment = sudo, su, login, ssh sessions and cron jobs (pam_env) get the same variables
reason-hook-file = { $hook } hook
reason-hook-unit-dir = systemd's unit directory
reason-hook-enable = enable the { $hook } hook
reason-hook-remove = { $hook } hook
reason-managed-bundle-follows = trustsync's bundle follows the OS store
reason-windows-variable = { $scope ->
        [machine] every user's new processes
       *[user] this user's new processes
    } read ${ $variable } and find the managed bundle
