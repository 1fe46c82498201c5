"""Pages for people: the API docs, and the account page where signed-in users create and
revoke their keys. A new key is shown once, in the answer to the form that created it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from remover.idphoto.presets import load_presets
from remover.web.limits import tier_for

from . import conf
from .errors import CATALOGUE
from .forms import NewKeyForm
from .keys import HEADER, create_key, revoke_key
from .models import ApiKey
from .openapi import PARAMETERS, WEBHOOK_PARAMETER, described
from .usage import credits_left
from .webhooks import SIGNATURE_HEADER


def docs(request):
    parameters = [(name, spec[0].get("type", ""), described(name, *spec)["description"])
                  for name, spec in [*PARAMETERS.items(), ("webhook_url", WEBHOOK_PARAMETER)]]
    context = {
        "base_url": request.build_absolute_uri("/").rstrip("/"),
        "header": HEADER,
        "signature_header": SIGNATURE_HEADER,
        "parameters": parameters,
        "presets": ", ".join(load_presets()),
        "errors": [(code, status, meaning) for code, (status, meaning) in CATALOGUE.items()],
        "openapi_url": reverse("devapi-openapi"),
        "preview_mp": f"{conf.get('CLEARCUT_API_PREVIEW_MEGAPIXELS'):g}",
        "free_mp": f"{settings.CLEARCUT_FREE_MEGAPIXELS:g}",
        "pro_mp": f"{settings.CLEARCUT_PRO_MEGAPIXELS:g}",
        "keys_url": reverse("devapi-keys"),
    }
    return render(request, "devapi/docs.html", context)


@never_cache  # the page holds a new key once; no cache may keep a copy
@login_required
@require_http_methods(["GET", "POST"])
def keys(request):
    """List the user's keys; POST creates one and shows it, this once."""
    user_keys = list(ApiKey.objects.filter(user=request.user))
    active = [key for key in user_keys if key.active]
    limit = conf.get("CLEARCUT_API_MAX_KEYS_PER_USER")
    created = None
    form = NewKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if len(active) >= limit:
            form.add_error(None, f"You have {limit} active keys, the most allowed. Revoke one first.")
        else:
            created = create_key(request.user, form.cleaned_data["name"])
            user_keys.insert(0, created.key)
            form = NewKeyForm()
    context = {
        "keys": [(key, credits_left(key) if key.active else None) for key in user_keys],
        "created": created,
        "form": form,
        "tier": tier_for(request.user).name,
        "header": HEADER,
        "docs_url": reverse("devapi-docs"),
    }
    return render(request, "devapi/keys.html", context, status=201 if created else 200)


@login_required
@require_POST
def revoke(request, key_id: int):
    key = get_object_or_404(ApiKey, pk=key_id, user=request.user)  # others' keys do not exist
    revoke_key(key)
    messages.success(request, f"The key “{key.name}” is revoked; requests with it are refused from now on.")
    return redirect("devapi-keys")
