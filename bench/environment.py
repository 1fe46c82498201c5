"""What a benchmark figure was measured on: machine, threads, library versions, commit."""

from __future__ import annotations

import platform
import subprocess

import torch


def describe() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "unknown"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"commit {commit}; {cpu}; {torch.get_num_threads()} torch threads; {device}; "
        f"torch {torch.__version__}; Python {platform.python_version()}"
    )
