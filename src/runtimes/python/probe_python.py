# trustsync's question to a Python interpreter: where do you look for CAs?
# Runs on Python 2.7 and every Python 3; imports nothing heavy and nothing from pip.
# trustsync runs it with -I (-E -s on 2.7) from "/", and with -S when a file in the site
# directories is not root's: then nothing from site-packages is imported or run (no .pth,
# no sitecustomize, no certifi), and the site directories are computed and searched by path.
import json, os, re, sys
out = {
    "executable": sys.executable,
    "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "platform": sys.platform,
}
try:
    import ssl
    p = ssl.get_default_verify_paths()
    out["openssl_version"] = ssl.OPENSSL_VERSION
    out["verify_paths"] = {
        "cafile_env": p.openssl_cafile_env, "cafile": p.openssl_cafile,
        "capath_env": p.openssl_capath_env, "capath": p.openssl_capath,
    }
    # Python 3.13 turned VERIFY_X509_STRICT on in create_default_context (a distro may
    # backport it): ask the context itself rather than guess from the version.
    out["x509_strict"] = bool(ssl.create_default_context().verify_flags & getattr(ssl, "VERIFY_X509_STRICT", 0))
    # What site's start files did (they ran unless -S): truststore.inject_into_ssl()
    # replaces ssl.SSLContext; the copied-from-the-web "fix" makes urllib's default context
    # the unverified one. RHEL's PEP 493 patch adds _https_verify_envvar (PYTHONHTTPSVERIFY).
    out["ssl_context_class"] = "%s.%s" % (getattr(ssl.SSLContext, "__module__", "?"), getattr(ssl.SSLContext, "__name__", "?"))
    out["https_context_factory"] = getattr(getattr(ssl, "_create_default_https_context", None), "__name__", None)
    out["pep493"] = hasattr(ssl, "_https_verify_envvar")
except Exception as e:
    out["ssl_error"] = "%s: %s" % (type(e).__name__, e)
def version_of(path):
    try:
        with open(path) as f:
            # `__version__ = "2.32.3"`, or hatch-vcs's `__version__ = version = '2.8.0'`
            m = re.search(r"__version__\s*=\s*(?:\w+\s*=\s*)?['\"]([^'\"]+)", f.read())
            return m and m.group(1)
    except Exception:
        return None
def patched_where(pkg_dir):
    # Distros patch certifi.where() to return the OS bundle while cacert.pem still ships
    # (Debian: a top-level `def where(): return DEBIAN_CA_CERTS_PATH` at the end of core.py,
    # in python3-certifi and in pip's vendored copy). Read the source, never import it:
    # the last top-level where() that returns a string literal, or a name bound to one.
    try:
        with open(os.path.join(pkg_dir, "core.py")) as f:
            src = f.read()
    except Exception:
        return None
    rets = re.findall(r"^def where\(\)[^:\n]*:[ \t]*\n[ \t]+return[ \t]+([^\n]+)$", src, re.M)
    if not rets:
        return None
    ret = rets[-1].strip()
    m = re.match(r"['\"]([^'\"]+)['\"]$", ret)
    if m:
        return m.group(1)
    m = re.search(r"^%s\s*=\s*['\"]([^'\"]+)['\"]" % re.escape(ret), src, re.M)
    return m.group(1) if m else None
def site_dirs_without_site():
    # What site.main() would add, without running it: the venv's prefix (pyvenv.cfg next to
    # or above the executable; before 3.11 only site.py knew it) and the base prefix.
    exe_dir = os.path.dirname(os.path.abspath(sys.executable))
    prefixes, include_system, cfg_found = [], True, False
    for d in (exe_dir, os.path.dirname(exe_dir)):
        cfg = os.path.join(d, "pyvenv.cfg")
        if os.path.isfile(cfg):
            cfg_found = True
            prefixes.append(d)
            include_system = False
            try:
                with open(cfg) as f:
                    for line in f:
                        k, _, v = line.partition("=")
                        if k.strip().lower() == "include-system-site-packages":
                            include_system = v.strip().lower() == "true"
            except Exception:
                pass
            break
    if include_system:
        for p in (sys.prefix, getattr(sys, "base_prefix", sys.prefix)):
            if p not in prefixes:
                prefixes.append(p)
    # site.py's own layout first (lib/pythonX.Y/site-packages), then what this build's
    # site.getsitepackages() adds (Debian's dist-packages; it knows no venv layout).
    ver = "python%d.%d" % sys.version_info[:2]
    dirs = []
    for p in prefixes:
        for lib in ("lib", "lib64"):
            dirs.append(os.path.join(p, lib, ver, "site-packages"))
    import site  # with -S, importing site runs nothing (site.main() is not called)
    try:
        dirs += site.getsitepackages(prefixes)
    except Exception:
        try:
            dirs += site.getsitepackages()
        except Exception:
            pass
    seen, out = set(), []
    for d in dirs:
        if os.path.realpath(d) not in seen and os.path.isdir(d):
            seen.add(os.path.realpath(d))
            out.append(d)
    return (prefixes[0] if cfg_found else None), out
no_site = bool(getattr(sys.flags, "no_site", 0))
search = sys.path
if no_site:
    # Before 3.11 only site.py turned sys.prefix into the venv's: say the venv's here too.
    venv_prefix, search = site_dirs_without_site()
    if venv_prefix:
        out["prefix"] = venv_prefix
if no_site:
    for d in search:
        pem = os.path.join(d, "certifi", "cacert.pem")
        if os.path.isfile(pem):
            out["certifi"] = {"path": patched_where(os.path.join(d, "certifi")) or pem, "version": version_of(os.path.join(d, "certifi", "__init__.py"))}
            break
else:
    try:
        import certifi
        out["certifi"] = {"path": certifi.where(), "version": getattr(certifi, "__version__", None)}
    except Exception:
        pass
out["no_site"] = no_site
for d in search:
    if not d or not os.path.isdir(d):
        continue
    if "pip" not in out and os.path.isfile(os.path.join(d, "pip", "__init__.py")):
        bundle = os.path.join(d, "pip", "_vendor", "certifi", "cacert.pem")
        bundle = patched_where(os.path.join(d, "pip", "_vendor", "certifi")) or (bundle if os.path.isfile(bundle) else None)
        out["pip"] = {"version": version_of(os.path.join(d, "pip", "__init__.py")),
                      "bundle": bundle,
                      "certifi_version": version_of(os.path.join(d, "pip", "_vendor", "certifi", "__init__.py"))}
    if "requests" not in out and os.path.isfile(os.path.join(d, "requests", "__init__.py")):
        out["requests"] = {"version": version_of(os.path.join(d, "requests", "__version__.py"))}
    if "urllib3" not in out and os.path.isfile(os.path.join(d, "urllib3", "_version.py")):
        out["urllib3"] = version_of(os.path.join(d, "urllib3", "_version.py"))
# The sitecustomize and usercustomize site would import: the first on the path, so
# Debian's /usr/lib/python3.X/sitecustomize.py hides a venv's own (read, never imported).
def first_on_path(name, dirs):
    for d in dirs:
        f = os.path.join(d, name + ".py") if d else None
        if f and os.path.isfile(f):
            return f
    return None
order = list(sys.path) + [d for d in search if d not in sys.path]
out["customize"] = [f for f in (first_on_path("sitecustomize", order), first_on_path("usercustomize", order)) if f]
out["site_dirs"] = [d for d in search if d and os.path.basename(d) in ("site-packages", "dist-packages") and os.path.isdir(d)]
try:
    import site
    out["user_site"] = site.USER_SITE if getattr(site, "ENABLE_USER_SITE", True) is not False else None
except Exception:
    out["user_site"] = None
print(json.dumps(out))
