"""Freed photo-sized arrays are reused by the next photo instead of faulted in again."""

import platform
import resource
import sys

import numpy as np
import pytest
from numpy._core.multiarray import _set_madvise_hugepage

from remover.engine.heap import keep_freed_memory


def faults_to_fill(megabytes: int) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.empty(megabytes << 20, np.uint8)
    block.fill(1)  # touch every page
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's; elsewhere keep_freed_memory changes nothing")
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
