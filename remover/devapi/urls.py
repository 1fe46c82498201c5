"""Routes of the developer API (``/api/v1/...``), remove.bg's paths (``/v1.0/...``) and the
API's pages (docs, key management).

Included by project/urls.py before the site's routes, whose ``/api/...`` catch-all would
otherwise answer for these paths.
"""

from django.urls import path, re_path

from . import pages, removebg, views

urlpatterns = [
    path("api/v1/remove", views.remove, name="devapi-remove"),
    path("api/v1/jobs", views.create_job, name="devapi-jobs"),
    path("api/v1/jobs/<uuid:job_id>", views.job_detail, name="devapi-job"),
    path("api/v1/jobs/<uuid:job_id>/result", views.job_result, name="devapi-job-result"),
    path("api/v1/openapi.json", views.openapi_document, name="devapi-openapi"),
    re_path(r"^api/v1/(?P<rest>[\s\S]*)$", views.not_found),  # [\s\S]: paths holding a newline too
    # remove.bg's paths, so its clients need only a new host name (remover/devapi/removebg.py).
    path("v1.0/removebg", removebg.remove, name="removebg-remove"),
    path("v1.0/account", removebg.account, name="removebg-account"),
    re_path(r"^v1\.0/(?P<rest>[\s\S]*)$", removebg.not_found),
    path("developers/", pages.docs, name="devapi-docs"),
    path("account/api-keys/", pages.keys, name="devapi-keys"),
    path("account/api-keys/<int:key_id>/revoke", pages.revoke, name="devapi-key-revoke"),
]
