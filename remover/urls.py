from django.urls import path, re_path

from remover.processing import (
    health,  # Pages (templates/, static/) first, then the JSON API the pages' JavaScript uses.
)
from remover.web import (  # Pages (templates/, static/) first, then the JSON API the pages' JavaScript uses.
    edit_api,
    idphoto_api,
)
from remover.web import page_api as api
from remover.web import pages as views

urlpatterns = [
    path("", views.home, name="home"),
    # JSON API (remover/web/page_api.py); unknown /api/ paths answer with a JSON 404.
    path("api/jobs", api.create_job, name="api-jobs"),
    path("api/jobs/<uuid:job_id>", api.job_detail, name="api-job"),
    path("api/jobs/<uuid:job_id>/download", api.job_download, name="api-job-download"),
    path("api/jobs/<uuid:job_id>/preview", api.job_preview, name="api-job-preview"),
    path("api/jobs/<uuid:job_id>/original", api.job_original, name="api-job-original"),
    path("api/batches/<uuid:batch>/download", api.batch_download, name="api-batch-download"),
    path("api/jobs/<uuid:job_id>/edit", edit_api.edit, name="api-job-edit"),
    path("api/jobs/<uuid:job_id>/idphoto", idphoto_api.photo, name="api-job-idphoto"),
    path("api/jobs/<uuid:job_id>/sheet", idphoto_api.sheet, name="api-job-sheet"),
    path("api/idphoto/presets", idphoto_api.presets, name="api-idphoto-presets"),
    path("api/limits", api.limits_summary, name="api-limits"),
    re_path(r"^api/(?P<rest>.*)$", api.not_found),
    # For load balancers and Prometheus (remover/processing/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
]
