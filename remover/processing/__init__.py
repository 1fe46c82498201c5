"""The job pipeline: a job's life from queued to purged (``jobs``), and every kind of worker
that runs it: the in-process thread (``worker``), Celery (``tasks``, chosen by ``dispatch``),
with shared forward passes (``batching``) and one model per process (``segmentation``).
Progress leaves through ``events``; ``metrics`` and ``health`` watch it."""
