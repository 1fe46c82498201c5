"""HTTP requests to addresses clients give us (``image_url`` downloads, webhook deliveries),
safe against server-side request forgery.

For every hop: the URL must be http(s) without credentials; its host is resolved once and
every address it resolves to must pass the :class:`AddressPolicy`; the connection goes to
that checked address (so a DNS answer that changes between check and use, "DNS rebinding",
changes nothing), and the peer actually connected to is checked again. Redirects are
followed up to a limit, each one checked the same way. Bodies are read in pieces up to a
byte cap, every socket operation has a timeout, and a watchdog closes the socket at the
overall deadline so a server trickling bytes cannot hold a worker thread.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from .addresses import AddressPolicy
from .errors import ApiError

Resolver = Callable[[str, int], list[str]]  # (host, port) -> IP addresses, in preference order

USER_AGENT = "Clearcut/1 (+image fetch and webhooks)"
_CHUNK = 64 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class Target:
    """One checked hop: where to connect and what to ask for."""

    scheme: str
    host: str  # as in the URL (for the Host header, TLS name checks and messages)
    port: int
    path: str  # path and query
    addresses: list[str] = field(default_factory=list)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class FetchedResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    url: str  # after redirects


@dataclass
class Fetcher:
    """Settings of one kind of outgoing request; ``request()`` does one (with its redirects)."""

    policy: AddressPolicy
    max_bytes: int
    timeout: float = 10.0  # each connect, send and receive
    deadline: float = 30.0  # the whole exchange, redirects included
    max_redirects: int = 3
    resolve: Resolver = resolve_host

    def request(self, url: str, method: str = "GET", body: bytes | None = None,
                headers: dict[str, str] | None = None) -> FetchedResponse:
        """Raises :class:`ApiError`: ``invalid_url``, ``url_not_allowed``, ``url_fetch_failed``
        or ``file_too_large``. Redirects are followed for GET only."""
        give_up_at = time.monotonic() + self.deadline
        for hop in range(self.max_redirects + 1):
            target = self.check(url)
            response = self._exchange(url, target, method, body, headers or {}, give_up_at)
            location = response.headers.get("location")
            if method != "GET" or response.status not in _REDIRECTS or not location:
                return response
            url = urljoin(url, location)
        raise ApiError("url_fetch_failed", f"The URL redirected more than {self.max_redirects} times.")

    # --- Checks ----------------------------------------------------------------------------

    def check(self, url: str) -> Target:
        """Parse ``url`` and resolve its host; every address must pass the policy."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ApiError("invalid_url", "The URL is not valid.")
        if parts.scheme not in ("http", "https"):
            raise ApiError("invalid_url", "Only http:// and https:// URLs are accepted.")
        if parts.username is not None or parts.password is not None:
            raise ApiError("invalid_url", "URLs with a user name or password are not accepted.")
        host = parts.hostname
        if not host:
            raise ApiError("invalid_url", "The URL has no host name.")
        port = port or (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = self.resolve(host, port)
            except (OSError, UnicodeError):
                raise ApiError("url_fetch_failed", f"The host name {host!r} could not be resolved.")
        if not addresses:
            raise ApiError("url_fetch_failed", f"The host name {host!r} could not be resolved.")
        if not all(self.policy.allows(address) for address in addresses):
            raise ApiError(
                "url_not_allowed",
                f"{host} is a private, loopback, link-local or reserved address; only public addresses are fetched.",
            )
        return Target(scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses)

    # --- One hop ---------------------------------------------------------------------------

    def _connect(self, target: Target, give_up_at: float) -> socket.socket:
        last_error: OSError | None = None
        for address in target.addresses:
            try:
                sock = socket.create_connection((address, target.port), timeout=self._left(give_up_at))
            except OSError as exc:
                last_error = exc
                continue
            peer = sock.getpeername()[0]
            if not self.policy.allows(peer):  # whatever route we took, the far end must pass too
                sock.close()
                raise ApiError("url_not_allowed", f"{target.host} connected to an address that is not allowed.")
            if target.scheme == "https":
                try:
                    context = ssl.create_default_context()
                    sock = context.wrap_socket(sock, server_hostname=target.host)
                except (ssl.SSLError, OSError) as exc:
                    sock.close()
                    raise ApiError("url_fetch_failed", f"The TLS connection to {target.host} failed ({exc.__class__.__name__}).")
            return sock
        reason = "it timed out" if isinstance(last_error, TimeoutError) else "the connection was refused"
        raise ApiError("url_fetch_failed", f"Could not connect to {target.host} ({reason}).")

    def _left(self, give_up_at: float) -> float:
        left = give_up_at - time.monotonic()
        if left <= 0:
            raise ApiError("url_fetch_failed", f"The server did not answer within {self.deadline:g} s.")
        return min(self.timeout, left)

    def _exchange(self, url: str, target: Target, method: str, body: bytes | None, headers: dict[str, str],
                  give_up_at: float) -> FetchedResponse:
        sock = self._connect(target, give_up_at)
        # The watchdog: past the deadline the socket is shut, which ends any blocking read.
        expired = threading.Event()
        watchdog = threading.Timer(max(0.0, give_up_at - time.monotonic()), _expire, args=(sock, expired))
        watchdog.daemon = True
        watchdog.start()
        connection = http.client.HTTPConnection(target.host, target.port, timeout=self.timeout)
        connection.sock = sock
        response = None
        try:
            connection.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
            for name, value in {
                "Host": target.host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                "Connection": "close", **headers,
            }.items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            response_headers = {name.lower(): value for name, value in response.getheaders()}
            data = self._read_body(response, response_headers)
        except ApiError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set():
                raise ApiError("url_fetch_failed", f"The server did not answer within {self.deadline:g} s.")
            raise ApiError("url_fetch_failed", f"The download from {target.host} failed ({exc.__class__.__name__}).")
        finally:
            watchdog.cancel()
            # The response holds its own reference to the socket: close both, and shut the
            # socket so the server learns at once that we stopped reading.
            if response is not None:
                response.close()
            connection.close()
            _shut(sock)
            sock.close()
        if expired.is_set():  # the watchdog cut the body short
            raise ApiError("url_fetch_failed", f"The server did not answer within {self.deadline:g} s.")
        declared = response_headers.get("content-length", "")
        if declared.isdigit() and len(data) < int(declared):
            raise ApiError("url_fetch_failed", f"The download from {target.host} was cut short.")
        return FetchedResponse(response.status, response_headers, data, url)

    def _read_body(self, response: http.client.HTTPResponse, headers: dict[str, str]) -> bytes:
        too_large = ApiError("file_too_large", f"The file at the URL is larger than {self.max_bytes / 1e6:.1f} MB.")
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        pieces: list[bytes] = []
        total = 0
        while True:
            piece = response.read1(_CHUNK)  # one socket read at most: the deadline is checked often
            if not piece:
                return b"".join(pieces)
            total += len(piece)
            if total > self.max_bytes:
                raise too_large
            pieces.append(piece)


def _expire(sock: socket.socket, expired: threading.Event) -> None:
    expired.set()
    _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
