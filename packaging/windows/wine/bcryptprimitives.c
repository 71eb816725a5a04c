/*
 * bcryptprimitives.dll for Wine 8.0, used ONLY inside the throwaway
 * WINEPREFIX of `make windows-check`; it is never shipped.
 *
 * Go 1.24 and later read random numbers through ProcessPrng in
 * bcryptprimitives.dll, which every Windows 10 and 11 has; Go programs
 * stop at start-up with "fatal error: bcryptprimitives.dll not found"
 * without it. Wine added the DLL after 8.0 (Debian 12's version). This
 * one forwards to Wine's BCryptGenRandom with the system RNG, which reads
 * the host's /dev/urandom, so the programs under test see real randomness.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
