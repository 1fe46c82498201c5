"""The developer API: API keys, ``/api/v1/remove`` (synchronous), ``/api/v1/jobs`` (asynchronous,
with signed webhooks), the OpenAPI document and the human docs.

It adds no pipeline of its own: every image becomes a :class:`remover.models.Job`, queued on the
same worker as the site's uploads and processed by :func:`remover.processing.jobs.process_job`.
"""
