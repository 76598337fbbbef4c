# trustsync's question to a Python interpreter: where do you look for CAs?
# Runs on Python 2.7 and every Python 3; imports nothing heavy and nothing from pip.
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
except Exception as e:
    out["ssl_error"] = "%s: %s" % (type(e).__name__, e)
try:
    import certifi
    out["certifi"] = {"path": certifi.where(), "version": getattr(certifi, "__version__", None)}
except Exception:
    pass
def version_of(path):
    try:
        with open(path) as f:
            m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", f.read())
            return m and m.group(1)
    except Exception:
        return None
for d in sys.path:
    if not d or not os.path.isdir(d):
        continue
    if "pip" not in out and os.path.isfile(os.path.join(d, "pip", "__init__.py")):
        bundle = os.path.join(d, "pip", "_vendor", "certifi", "cacert.pem")
        out["pip"] = {"version": version_of(os.path.join(d, "pip", "__init__.py")),
                      "bundle": bundle if os.path.isfile(bundle) else None,
                      "certifi_version": version_of(os.path.join(d, "pip", "_vendor", "certifi", "__init__.py"))}
    if "requests" not in out and os.path.isfile(os.path.join(d, "requests", "__init__.py")):
        out["requests"] = {"version": version_of(os.path.join(d, "requests", "__version__.py"))}
out["site_dirs"] = [d for d in sys.path if d and os.path.basename(d) in ("site-packages", "dist-packages") and os.path.isdir(d)]
try:
    import site
    out["user_site"] = site.USER_SITE
except Exception:
    out["user_site"] = None
print(json.dumps(out))
