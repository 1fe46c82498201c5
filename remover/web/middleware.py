"""Response headers Django 5.2 does not set itself: Content-Security-Policy and
Permissions-Policy (SecurityMiddleware sets nosniff, Referrer-Policy, HSTS and COOP)."""

from __future__ import annotations

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Adds ``settings.CLEARCUT_CSP`` and ``settings.CLEARCUT_PERMISSIONS_POLICY`` to every
    response that does not set its own (works for sync and async views alike)."""

    def process_response(self, request, response):
        csp = "; ".join(f"{directive} {sources}".strip() for directive, sources in settings.CLEARCUT_CSP.items())
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("Permissions-Policy", settings.CLEARCUT_PERMISSIONS_POLICY)
        return response
