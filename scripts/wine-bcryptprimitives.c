/* A stand-in bcryptprimitives.dll for Wine 8 (Debian 12), which lacks the DLL.
 * Go >= 1.22 programs need bcryptprimitives.dll!ProcessPrng at start-up and die
 * without it. This implements it with advapi32's RtlGenRandom (SystemFunction036).
 * Built and installed into the test prefix by wine-test.sh; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE; /* as documented: ProcessPrng always succeeds */
}
