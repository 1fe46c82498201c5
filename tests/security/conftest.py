"""Security suite fixtures: the web tests' isolated settings, test-driven worker and stand-in
model, imported so that both suites run the app the same way."""

from tests.web.conftest import fake_model, web_settings, worker  # noqa: F401  (fixtures)
