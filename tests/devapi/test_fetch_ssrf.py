"""image_url is fetched without becoming a way into the server's network: loopback, private,
link-local and reserved addresses are refused (also behind redirects and IPv6 wrappings), the
address checked is the address connected to (no DNS rebinding), redirects are bounded, bodies
are capped while they stream, slow servers time out. Every server here runs on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from remover.devapi.addresses import AddressPolicy, is_public
from remover.devapi.errors import ApiError
from remover.devapi.fetch import Fetcher

from .helpers import error_code, image_bytes, opened, post_json
from .servers import reply, serving, stream

LOCAL = AddressPolicy.allowing(["127.0.0.1/32"])  # the tests' servers, and nothing else private
PNG = image_bytes(80, 60)


def fetcher(policy: AddressPolicy = LOCAL, **options) -> Fetcher:
    return Fetcher(policy=policy, **{"max_bytes": 1_000_000, "timeout": 2.0, "deadline": 3.0, **options})


def refused_with(code: str, call) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "0.0.0.0", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "192.0.0.1", "192.0.2.1", "198.18.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "64:ff9b::a00:1", "2002:7f00:1::1", "2001:db8::1",
])
def test_non_public_addresses_are_refused(address):
    assert not is_public(__import__("ipaddress").ip_address(address))
    assert not AddressPolicy().allows(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert AddressPolicy().allows(address)


def test_loopback_server_is_never_contacted_by_default():
    with serving(lambda handler, state: reply(handler, 200, PNG)) as server:
        for url in (server.url("/a.png"), f"http://localhost:{server.port}/a.png",
                    f"http://[::ffff:127.0.0.1]:{server.port}/a.png", f"http://2130706433:{server.port}/a.png"):
            refused_with("url_not_allowed", lambda url=url: fetcher(AddressPolicy()).request(url))
        assert server.requests == []


def test_allowed_server_is_fetched():
    with serving(lambda handler, state: reply(handler, 200, PNG, {"Content-Type": "image/png"})) as server:
        response = fetcher().request(server.url("/photo.png?size=big"))
    assert response.status == 200 and response.body == PNG
    assert server.requests[0].path == "/photo.png?size=big"
    assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"


def test_a_name_that_resolves_to_any_private_address_is_refused():
    resolve = lambda host, port: ["93.184.216.34", "10.0.0.7"]
    refused_with("url_not_allowed", lambda: fetcher(AddressPolicy(), resolve=resolve).request("http://mixed.test/"))


def test_dns_rebinding_cannot_move_the_connection():
    """The name is resolved once per hop, checked, and that very address is connected to: a
    second answer (the rebinding to a private address) is never asked for or used."""
    answers = [["127.0.0.1"], ["10.0.0.9"]]
    calls = []

    def rebinding(host, port):
        calls.append(host)
        return answers[min(len(calls) - 1, 1)]

    with serving(lambda handler, state: reply(handler, 200, PNG)) as server:
        response = fetcher(resolve=rebinding).request(f"http://rebind.test:{server.port}/a.png")
    assert response.body == PNG and calls == ["rebind.test"]
    assert server.requests[0].headers["host"] == f"rebind.test:{server.port}"


def test_the_connected_peer_is_checked_too(monkeypatch):
    """Whatever the route, the far end of the socket must pass: a connection that lands on
    a refused address is closed before a byte is sent."""
    with serving(lambda handler, state: reply(handler, 200, PNG)) as server:
        strict = fetcher(policy=AddressPolicy())
        monkeypatch.setattr(strict, "check", lambda url: fetcher().check(url))  # the name check is fooled...
        refused_with("url_not_allowed", lambda: strict.request(server.url()))  # ...the peer check is not
        assert server.requests == []


@pytest.mark.parametrize("location", [
    "http://127.0.0.2/", "http://[::1]/x", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
    "http://192.168.0.1:8080/admin", "http://[::ffff:10.0.0.1]/", "http://0.0.0.0/",
])
def test_redirects_to_private_addresses_are_refused(location):
    with serving(lambda handler, state: reply(handler, 302, headers={"Location": location})) as server:
        refused_with("url_not_allowed", lambda: fetcher().request(server.url("/start")))
        assert len(server.requests) == 1


def test_redirect_to_another_scheme_is_refused():
    with serving(lambda handler, state: reply(handler, 301, headers={"Location": "file:///etc/passwd"})) as server:
        refused_with("invalid_url", lambda: fetcher().request(server.url()))


def test_redirects_are_followed_a_bounded_number_of_times():
    def answer(handler, state):
        if handler.path == "/final.png":
            reply(handler, 200, PNG)
        else:
            reply(handler, 302, headers={"Location": "/again" if len(state.requests) < 10 else "/final.png"})

    with serving(answer) as server:
        refused_with("url_fetch_failed", lambda: fetcher(max_redirects=3).request(server.url("/start")))
        assert len(server.requests) == 4  # the first request and three redirects, no more
    with serving(lambda h, s: reply(h, 302, headers={"Location": "/final.png"}) if h.path != "/final.png"
                 else reply(h, 200, PNG)) as server:
        assert fetcher().request(server.url("/start")).body == PNG  # a short chain is fine


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "no-length"])
def test_oversized_bodies_are_cut_off_while_streaming(declare):
    with serving(lambda handler, state: stream(handler, state, 20_000_000, declare)) as server:
        refused_with("file_too_large", lambda: fetcher(max_bytes=1_000_000).request(server.url()))
        deadline = time.monotonic() + 5
        while not server.sent_bytes and time.monotonic() < deadline:
            time.sleep(0.02)
    assert server.sent_bytes and server.sent_bytes[0] < 20_000_000  # we hung up, we did not read it all


def test_a_server_that_trickles_hits_the_deadline():
    def trickle(handler, state):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        try:
            for _ in range(1000):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    with serving(trickle) as server:
        started = time.monotonic()
        refused_with("url_fetch_failed", lambda: fetcher(timeout=1.0, deadline=1.5).request(server.url()))
    assert time.monotonic() - started < 3


def test_errors_from_the_image_server_are_reported():
    with serving(lambda handler, state: reply(handler, 404, b"nope")) as server:
        response = fetcher().request(server.url())
    assert response.status == 404
    with serving(lambda handler, state: None) as server:  # closes without answering
        refused_with("url_fetch_failed", lambda: fetcher().request(server.url()))


@pytest.mark.django_db
def test_the_api_fetches_from_allowed_networks_only(client, key, drained, settings):
    with serving(lambda handler, state: reply(handler, 200, PNG)) as server:
        response = post_json(client, "/api/v1/remove", key, {"image_url": server.url("/shop/shoe.png")})
        assert response.status_code == 400 and error_code(response) == "url_not_allowed"
        assert server.requests == []

        settings.CLEARCUT_API_FETCH_ALLOW_NETWORKS = "127.0.0.1/32"
        response = post_json(client, "/api/v1/remove", key, {"image_url": server.url("/shop/shoe.png")})
        assert response.status_code == 200, response.content
        assert opened(response).size == (80, 60)
    with serving(lambda handler, state: reply(handler, 404)) as server:
        response = post_json(client, "/api/v1/remove", key, {"image_url": server.url("/gone.png")})
        assert response.status_code == 422 and error_code(response) == "url_fetch_failed"
        assert "404" in response.json()["error"]["message"]
