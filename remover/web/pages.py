"""Page views. The JSON API the pages' JavaScript talks to lives in remover/web/page_api.py."""

from django.shortcuts import render
from django.urls import reverse

from remover.idphoto.sheet import PAPERS
from remover.processing import idphoto_jobs
from remover.web import limits
from remover.web.owners import owner_key

# Background presets offered next to the colour picker: (accessible name, hex).
COLOUR_PRESETS = [
    ("White", "#FFFFFF"),
    ("Light grey", "#E5E7EB"),
    ("Black", "#111111"),
    ("Sky blue", "#BAE6FD"),
    ("Mint", "#BBF7D0"),
    ("Butter", "#FEF08A"),
    ("Royal blue", "#1D4ED8"),
]


def home(request):
    """The upload page; it also holds the result view, filled in by static/js/app.js, and the
    passport / ID photo mode (``?mode=idphoto``, static/js/idphoto.js)."""
    summary = limits.summary(owner_key(request.session) or "", request.user, request.META.get("REMOTE_ADDR"))
    context = {
        "limits": summary,
        "colour_presets": COLOUR_PRESETS,
        "api_jobs": reverse("api-jobs"),
        "mode": "idphoto" if request.GET.get("mode") == "idphoto" else "cutout",
        "id_documents": idphoto_jobs.catalogue(),
        "id_papers": [(key, paper.name) for key, paper in PAPERS.items()],
    }
    return render(request, "remover/home.html", context)
