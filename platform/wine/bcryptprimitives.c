/*
 * Stand-in for Windows' bcryptprimitives.dll, used only to run trustsync's tests under Wine.
 *
 * Why it exists: Rust 1.78+ standard library imports ProcessPrng from bcryptprimitives.dll
 * to seed HashMap keys and std's random numbers. Wine 8.0 (Debian 12) does not ship that DLL,
 * so every Rust test binary fails to load ("import_dll ... not found", exit code 53). This
 * file implements the one export Rust needs on top of advapi32's SystemFunction036
 * (RtlGenRandom), which Wine does implement with the host's random source.
 *
 * Built by scripts/windows-tests.sh with x86_64-w64-mingw32-gcc and copied into the Wine
 * prefix's system32. It is never shipped to users: real Windows has the real DLL.
 */
#include <windows.h>

/* advapi32's RtlGenRandom; declared by hand because mingw's ntsecapi.h only exposes it
 * under the RtlGenRandom macro name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Same contract as the real export: fill the buffer with cryptographically secure random
 * bytes and always return TRUE (Microsoft documents that ProcessPrng cannot fail). The
 * length is a SIZE_T while SystemFunction036 takes a ULONG, so large requests go in chunks. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            /* The real ProcessPrng never returns; terminating beats handing out
             * predictable bytes as if they were random. */
            ExitProcess(0xC0000001);
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
