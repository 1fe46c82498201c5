"""Keeping freed memory in the process for the next photo (glibc's malloc)."""

from __future__ import annotations

import ctypes
import platform
import sys

# mallopt parameters, from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_MAX = -4
M_ARENA_MAX = -8
# Free memory is handed back once more than TRIM_ABOVE of it lies free, down to
# KEEP_AFTER_TRIM at the top of the heap. A 24 MP photo frees and reuses well under
# TRIM_ABOVE between its steps; a 49 MP upload leaves nearly 2 GB free afterwards, which a
# server should not sit on.
TRIM_ABOVE = 1 << 30
KEEP_AFTER_TRIM = 256 << 20


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    return ctypes.CDLL(None)


class _MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (2.33 and later): byte counts of the heap."""

    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
    )]


def keep_freed_memory() -> bool:
    """Have malloc reuse freed blocks instead of handing them back to the kernel at once.

    glibc gives every block above its mmap threshold (32 MB at most) a mapping of its own and
    unmaps it when freed, and each thread's arena lives in mappings it gives back as well; a
    12 MP photo's float planes are 48-144 MB, so each step's arrays were faulted in page by
    page again: about 500 k page faults and 1-3 s of kernel time per two 12 MP photos on the
    2-core machine (BENCHMARKS.md, "Phone-size photos"). With one arena and no mappings, the
    heap keeps what it frees for the next step and the next photo, up to TRIM_ABOVE of free
    memory. Returns False, changing nothing, where the C library is not glibc.
    """
    libc = _glibc()
    if libc is None:
        return False
    settings = ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, TRIM_ABOVE), (M_TOP_PAD, KEEP_AFTER_TRIM))
    return all(libc.mallopt(parameter, value) == 1 for parameter, value in settings)


def hand_back_freed_memory(above: int = TRIM_ABOVE) -> bool:
    """Return the heap's free memory to the kernel if more than ``above`` bytes of it lie free.

    Memory freed below a block still in use cannot shrink the heap from the top, so a server
    calls this between jobs (``processing.jobs.process_job``): ``malloc_trim`` releases free
    pages wherever they lie. Returns whether anything was handed back.
    """
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return False
    libc.mallinfo2.restype = _MallInfo2
    if libc.mallinfo2().fordblks <= above:
        return False
    return bool(libc.malloc_trim(ctypes.c_size_t(KEEP_AFTER_TRIM)))
