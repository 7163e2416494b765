/*
 * A stand-in for bcryptprimitives.dll, for Wine 8 only (Debian 12's Wine), which lacks it. Windows
 * has had it since Windows 8, and Rust's standard library (1.78 and later) imports its ProcessPrng
 * for HashMap seeds, so the addon does not load under Wine 8 without it. test/helpers/wine.ts
 * builds this with MinGW into the test's Wine prefix; nothing that ships contains it.
 * ProcessPrng is documented to always succeed; this one asks bcrypt.dll, which Wine has.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
