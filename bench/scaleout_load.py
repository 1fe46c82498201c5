"""Load on loopback: N jobs from C concurrent clients, scaled out and embedded.

    python -m bench.scaleout_load [--mode both|celery|embedded] [--jobs 100] [--clients 10]
                                  [--workers 2] [--size 256]

``celery``: daphne + ``--workers`` Celery workers + redis-server + moto's S3 (the cluster
of tests/scaleout). ``embedded``: one daphne with its in-process worker, SQLite and local
files, the default with no environment variables. Each client is a browser session that
uploads its share of the jobs as one batch over HTTP, opening each job's WebSocket right
after its upload, like the page does.

Reports, per mode: throughput, and p50/p95 of the time in each stage as the sockets saw
it (decoding ... compositing), of the queue wait (the job's database timestamps) and of
upload-to-done. Checks that no job was lost or run twice: every upload accepted, every job
done exactly once (one claim in the database, one "done" on its socket, one set of files).
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from bench.environment import describe
from tests.scaleout.cluster import Cluster
from tests.scaleout.visitor import Visitor, photo_png

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
STAGES = ("decoding", "segmenting", "refining", "compositing")
OUT_DIR = Path(__file__).resolve().parent / "out"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_client(cluster: Cluster, jobs: int, images: list[bytes], results: list, lock: threading.Lock) -> None:
    """One browser: uploads ``jobs`` files as a batch, following each job on its socket."""
    visitor = Visitor(cluster.url)
    batch = None
    followers = []
    for i in range(jobs):
        started = time.monotonic()
        job = visitor.upload(images[i % len(images)], f"photo{i}.png", batch=batch)
        batch = job["batch"]
        accepted = time.monotonic()
        follower = ThreadPoolExecutor(1)
        followers.append((job, started, accepted, follower.submit(visitor.follow, job, 1800)))
        follower.shutdown(wait=False)
    for job, started, accepted, future in followers:
        followed = future.result()
        with lock:
            results.append({"id": job["id"], "started": started, "accepted": accepted, "followed": followed})


def stage_times(followed) -> dict[str, float]:
    """Seconds in each stage, from the first message of that stage to the first of the next."""
    order = [*STAGES, "done"]
    seen = {stage: followed.first(stage) for stage in order}
    return {
        stage: seen[nxt] - seen[stage]
        for stage, nxt in zip(order, order[1:])
        if seen[stage] is not None and seen[nxt] is not None
    }


def database_rows(cluster: Cluster) -> dict[str, dict]:
    with sqlite3.connect(cluster.tmp / "db.sqlite3", timeout=30) as db:
        db.row_factory = sqlite3.Row
        return {row["id"]: dict(row) for row in db.execute("SELECT * FROM remover_job")}


def stored_files(cluster: Cluster) -> list[str]:
    if cluster.scaled:
        return cluster.bucket_keys()
    return [p.name for p in (cluster.tmp / "media" / "jobs").iterdir()]


def run(mode: str, jobs: int, clients: int, workers: int, size: int) -> dict:
    images = [photo_png(name, size) for name in PHOTOS]
    with tempfile.TemporaryDirectory(prefix=f"clearcut-load-{mode}-") as tmp:
        cluster = Cluster(Path(tmp), scaled=mode == "celery", workers=workers,
                          env={"CLEARCUT_QUEUE_SIZE": str(jobs * 2), "CLEARCUT_BATCH_MAX_FILES": str(jobs)})
        cluster.start()
        try:
            Visitor(cluster.url)  # the first connection: the embedded worker loads its model now
            # ... and gets the seconds that takes, as the Celery workers had before saying ready.
            time.sleep(10 if mode == "embedded" else 0)
            results: list[dict] = []
            lock = threading.Lock()
            shares = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]
            began = time.monotonic()
            with ThreadPoolExecutor(clients) as pool:
                for future in [pool.submit(run_client, cluster, n, images, results, lock) for n in shares]:
                    future.result()
            rows = database_rows(cluster)
            files = stored_files(cluster)
            succeeded = sum(w.log.count("succeeded") for w in cluster.workers.values())
        finally:
            cluster.stop()
    return summarise(mode, results, rows, files, succeeded, began, jobs, clients, workers, size)


def summarise(mode, results, rows, files, succeeded, began, jobs, clients, workers, size) -> dict:
    ends = [r["followed"].first("done") or r["followed"].times[-1] for r in results]
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for r in results:
        for stage, seconds in stage_times(r["followed"]).items():
            per_stage[stage].append(seconds)
    waits, totals, attempts = [], [], []
    for r in results:
        row = rows[r["id"].replace("-", "")]
        attempts.append(row["attempts"])
        created, started = (datetime.fromisoformat(row[k]) for k in ("created_at", "started_at"))
        waits.append((started - created).total_seconds())
        totals.append((r["followed"].first("done") or r["followed"].times[-1]) - r["started"])
    done_events = [sum(e["stage"] == "done" for e in r["followed"].events) for r in results]
    per_job_files = {r["id"]: sum(r["id"] in name for name in files) for r in results}
    checks = {
        "accepted": len(results),
        "done": sum(rows[r["id"].replace("-", "")]["status"] == "done" for r in results),
        "claimed_once": sum(a == 1 for a in attempts),
        "one_done_message": sum(n == 1 for n in done_events),
        "four_files_each": sum(n == 4 for n in per_job_files.values()),  # input, cut-out, preview, original
        "stray_files": len(files) - sum(per_job_files.values()),
        "socket_retries": sum(r["followed"].failures for r in results),
        "task_runs": succeeded if mode == "celery" else None,
    }
    lost_or_doubled = not (
        checks["accepted"] == checks["done"] == checks["claimed_once"] == checks["one_done_message"]
        == checks["four_files_each"] == jobs
        and checks["stray_files"] == 0
        and (mode != "celery" or succeeded == jobs)
    )

    def stats(values):
        return {"n": len(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
                "mean": statistics.fmean(values)} if values else None

    return {
        "mode": mode, "jobs": jobs, "clients": clients, "workers": workers if mode == "celery" else 1,
        "image_px": size, "seconds": max(ends) - began, "jobs_per_second": jobs / (max(ends) - began),
        "stages": {stage: stats(values) for stage, values in per_stage.items()},
        "queue_wait": stats(waits), "upload_to_done": stats(totals),
        "checks": checks, "lost_or_duplicated": lost_or_doubled,
    }


def table(reports: list[dict]) -> str:
    head = "| | " + " | ".join(f"{r['mode']} ({r['workers']} worker{'s' * (r['workers'] > 1)})" for r in reports) + " |"
    lines = [head, "|---" * (len(reports) + 1) + "|"]
    lines.append("| throughput (jobs/s) | " + " | ".join(f"{r['jobs_per_second']:.2f}" for r in reports) + " |")
    lines.append("| wall time (s) | " + " | ".join(f"{r['seconds']:.0f}" for r in reports) + " |")
    rows = [(stage, lambda r, s=stage: r["stages"][s]) for stage in STAGES]
    rows += [("queue wait", lambda r: r["queue_wait"]), ("upload to done", lambda r: r["upload_to_done"])]
    for name, get in rows:
        lines.append(f"| {name} p50 / p95 (s) | " + " | ".join(
            f"{get(r)['p50']:.2f} / {get(r)['p95']:.2f}" if get(r) else "–" for r in reports) + " |")
    lines.append("| lost or duplicated jobs | " + " | ".join(
        "none" if not r["lost_or_duplicated"] else "**YES**" for r in reports) + " |")
    return "\n".join(lines)


def main() -> None:
    # A SIGTERM (timeout, Ctrl-C from a supervisor) unwinds like an exception, so the
    # cluster's processes are stopped rather than left behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("both", "celery", "embedded"), default="both")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=256, help="long side of the uploaded photos, pixels")
    args = parser.parse_args()
    modes = ("embedded", "celery") if args.mode == "both" else (args.mode,)
    reports = []
    for mode in modes:
        print(f"{mode}: {args.jobs} jobs from {args.clients} clients ...", flush=True)
        reports.append(run(mode, args.jobs, args.clients, args.workers, args.size))
        print(json.dumps(reports[-1]["checks"]), flush=True)
    out = OUT_DIR / f"scaleout-{args.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"environment": describe(), "reports": reports}, indent=2))
    print(describe())
    print(table(reports))
    if any(r["lost_or_duplicated"] for r in reports):
        raise SystemExit(f"jobs were lost or run twice: see {out}")


if __name__ == "__main__":
    main()
