#include "CSCANAllocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int scan_allocator_keep_freed_memory(void) {
#if defined(__GLIBC__)
    // mallopt lives in <malloc.h>, which Swift's Glibc module does not import: hence this helper.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return 1;
#else
    return 0;
#endif
}
