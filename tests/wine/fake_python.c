/*
 * A stand-in for python.exe in the Wine tests (tests/windows_fix.rs), built by
 * scripts/windows-tests.sh with x86_64-w64-mingw32-gcc.
 *
 * Why: there is no CPython for Windows to install under Wine in CI, and a python.exe must
 * be a real executable (a .bat cannot take trustsync's multi-line probe argument). This
 * program answers trustsync's probe the way a real interpreter would: it prints the file
 * probe-answer.json found next to itself (written by the test, in the exact shape
 * probe_python.py prints) and ignores its arguments. Everything else trustsync does with
 * that answer (reading certifi's and the packages' bundles, diffing, fixing) is real.
 */
#include <stdio.h>
#include <wchar.h>
#include <windows.h>

int main(void)
{
    static const wchar_t answer_name[] = L"probe-answer.json";
    wchar_t path[MAX_PATH];
    DWORD length = GetModuleFileNameW(NULL, path, MAX_PATH);
    if (length == 0 || length >= MAX_PATH) {
        fputs("fake python: cannot tell where it lives\n", stderr);
        return 3;
    }
    wchar_t *slash = wcsrchr(path, L'\\');
    if (slash == NULL || (size_t)(slash + 1 - path) + wcslen(answer_name) + 1 > MAX_PATH) {
        fputs("fake python: path too long\n", stderr);
        return 3;
    }
    wcscpy(slash + 1, answer_name);
    FILE *answer = _wfopen(path, L"rb");
    if (answer == NULL) {
        fputs("fake python: no probe-answer.json next to it\n", stderr);
        return 4;
    }
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, answer)) > 0) {
        fwrite(buffer, 1, n, stdout);
    }
    fclose(answer);
    return 0;
}
