"""Keeping freed memory in the process for the next photo (glibc's malloc)."""

from __future__ import annotations

import ctypes
import platform
import sys

# mallopt parameters, from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8


def keep_freed_memory() -> bool:
    """Have malloc reuse freed blocks instead of handing them back to the kernel.

    glibc gives every block above its mmap threshold (32 MB at most) a mapping of its own and
    unmaps it when freed, and each thread's arena lives in mappings it gives back as well; a
    12 MP photo's float planes are 48-144 MB, so each step's arrays were faulted in page by
    page again: about 500 k page faults and 1-3 s of kernel time per two 12 MP photos on the
    2-core machine (BENCHMARKS.md, "Phone-size photos"). With one arena, no mappings and no
    trimming, the heap keeps its high-water mark, which a process that cuts out photos
    reaches again with the next one anyway. Returns False, changing nothing, where the C
    library is not glibc.
    """
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    settings = ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1))
    return all(libc.mallopt(parameter, value) == 1 for parameter, value in settings)
