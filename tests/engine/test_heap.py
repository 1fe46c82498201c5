"""Freed photo-sized arrays are reused by the next photo instead of faulted in again."""

import platform
import resource
import sys

import numpy as np
import pytest
from numpy._core.multiarray import _set_madvise_hugepage

from remover.engine.heap import KEEP_AFTER_TRIM, TRIM_ABOVE, hand_back_freed_memory, keep_freed_memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def faults_to_fill(megabytes: int) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.empty(megabytes << 20, np.uint8)
    block.fill(1)  # touch every page
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's; elsewhere keep_freed_memory changes nothing")
def test_a_second_large_array_reuses_the_first_ones_pages():
    # numpy asks for 2 MB pages where it can, which would hide the count of 4 kB faults.
    was = _set_madvise_hugepage(False)
    try:
        assert keep_freed_memory()
        faults_to_fill(96)  # the first one grows the heap
        # 96 MB is 24 576 pages of 4 kB: faulted in again (glibc's default), that would show.
        assert faults_to_fill(96) < 1000
    finally:
        _set_madvise_hugepage(was)


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's; elsewhere keep_freed_memory changes nothing")
def test_a_huge_photos_memory_is_handed_back_afterwards():
    assert keep_freed_memory()
    size = TRIM_ABOVE + (512 << 20)
    block = np.ones(size, np.uint8)
    later = np.ones(1 << 20, np.uint8)  # often placed above it, so that the heap cannot shrink from the top
    held = resident_bytes()
    del block
    assert not hand_back_freed_memory(above=1 << 40)  # under its limit: kept
    hand_back_freed_memory()  # where the free did not already trim the top
    # A server must not sit on a 49 MP upload's memory: all but KEEP_AFTER_TRIM goes back.
    assert held - resident_bytes() > size - KEEP_AFTER_TRIM - (64 << 20)
    assert later.sum() == 1 << 20
