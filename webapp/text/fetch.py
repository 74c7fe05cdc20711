"""Fetching a stranger's web address on the server, safely.

http(s) only; the host is resolved and every address it has must be public (not loopback,
private, link-local, multicast, reserved, unspecified, or a cloud metadata address) unless
the host, by name or address, is in `allowed_hosts`; the connection goes to the address
that was checked, so a second DNS answer cannot swap in another (no rebinding gap). The
same checks run at every redirect. A deadline covers the whole fetch, the body is capped
while it streams (compressed or not), and redirects are limited.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from webapp.text.extract import (
    MAX_IMAGE_BYTES,
    MAX_UPLOAD_BYTES,
    ExtractedArticle,
    ExtractError,
    extract,
    megabytes,
)

DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.1"
IMAGE_ACCEPT = "image/png,image/jpeg,image/gif,image/webp;q=0.9"
USER_AGENT = "Marginalia/0.1 (article import)"
MAX_URL_CHARS = 2000
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Cloud metadata services; link-local or private already, named for the message's sake.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
ARTICLE_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/pdf"})
# A page's images share one time budget (seconds), so 40 slow images cannot hold a request.
IMAGES_BUDGET = 20.0
_CHUNK = 64 * 1024


class FetchError(ExtractError):
    """Why an address could not be fetched, for the person who gave it."""


@dataclass(frozen=True)
class FetchedResource:
    url: str  # the final address, after redirects
    content_type: str
    data: bytes


def is_web_address(value: str) -> bool:
    return value.strip().lower().startswith(("http://", "https://"))


def fetch_url(
    url: str,
    *,
    allowed_hosts: Iterable[str] = frozenset(),
    timeout: float = 10,
    max_bytes: int = 5_000_000,
    max_redirects: int = 5,
    accept: str = DEFAULT_ACCEPT,
) -> FetchedResource:
    """GET an address within the limits; FetchError with a clear message otherwise."""
    allowed = frozenset(host.strip().strip("[]").lower() for host in allowed_hosts)
    deadline = time.monotonic() + timeout
    current = _checked_url(url)
    for _ in range(max_redirects + 1):
        parts = urlsplit(current)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = _public_addresses(host, port, allowed, deadline, timeout)
        connection, sock, response = _request(parts, addresses, accept, deadline, timeout)
        try:
            if response.status in REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{host} answered a redirect without saying where to.")
                current = _checked_url(urljoin(current, location.strip()))
                continue
            if response.status != 200:
                reason = response.reason or http.client.responses.get(response.status, "")
                raise FetchError(f"{host} answered {response.status} {reason}".strip() + ".")
            content_type = response.getheader("Content-Type") or ""
            data = _read_body(response, sock, max_bytes, deadline, timeout, host)
            return FetchedResource(current, content_type, data)
        finally:
            response.close()
            connection.close()
            sock.close()
    raise FetchError(f"The address redirected more than {max_redirects} times.")


def fetch_article(
    url: str,
    *,
    allowed_hosts: Iterable[str] = frozenset(),
    timeout: float = 10,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> ExtractedArticle:
    """The article at a web address: an HTML page (its images copied) or a PDF.

    Anything else (an image, JSON, a plain file) is refused by its declared type, and
    then, like an upload, by its content.
    """
    resource = fetch_url(url, allowed_hosts=allowed_hosts, timeout=timeout, max_bytes=max_bytes)
    declared = resource.content_type.split(";")[0].strip().lower()
    if declared and declared not in ARTICLE_TYPES and declared != "application/octet-stream":
        raise FetchError(
            f"The address returned {declared}, not a web page (HTML) or a PDF. Download "
            "the file and upload it instead, if it is an article."
        )
    images_deadline = time.monotonic() + IMAGES_BUDGET

    def fetch_image(address: str) -> bytes | None:
        remaining = images_deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            image = fetch_url(
                address,
                allowed_hosts=allowed_hosts,
                timeout=min(timeout, remaining),
                max_bytes=MAX_IMAGE_BYTES,
                accept=IMAGE_ACCEPT,
            )
        except FetchError:
            return None
        return image.data

    article = extract(
        resource.data,
        content_type=resource.content_type,
        base_url=resource.url,
        fetch_image=fetch_image,
    )
    if article.kind not in {"html", "pdf"}:
        raise FetchError("The address did not return a web page (HTML) or a PDF.")
    if article.source_url is None:
        article = replace(article, source_url=resource.url)
    return article


def _checked_url(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise FetchError(f"The address is longer than {MAX_URL_CHARS:,} characters.")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        raise FetchError("This is not a valid web address.") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise FetchError("Only http:// and https:// addresses can be fetched.")
    if not parts.hostname:
        raise FetchError("The address has no host name.")
    if parts.username is not None or parts.password is not None:
        raise FetchError("Addresses with a user name or password are not fetched.")
    return url


def _public_addresses(host, port, allowed, deadline, timeout) -> list[tuple]:
    """The host's addresses to connect to; FetchError if any is not a public one."""
    try:
        ascii_host = host.encode("idna").decode("ascii") if not _is_ip(host) else host
    except UnicodeError:
        raise FetchError(f"{host} is not a valid host name.") from None
    pool = ThreadPoolExecutor(1)
    try:
        future = pool.submit(socket.getaddrinfo, ascii_host, port, type=socket.SOCK_STREAM)
        infos = future.result(timeout=max(0.01, deadline - time.monotonic()))
    except FutureTimeout:
        raise FetchError(_timeout_message(host, timeout)) from None
    except (socket.gaierror, UnicodeError, OSError):
        raise FetchError(f"The host {host} was not found.") from None
    finally:
        pool.shutdown(wait=False)
    if host.lower() in allowed:
        return [info[4] for info in infos]
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if str(address) in allowed:
            addresses.append(sockaddr)
            continue
        if not _is_public(address):
            what = "a cloud metadata address" if address in METADATA_ADDRESSES else "not public"
            raise FetchError(
                f"{host} leads to {address}, which is {what}: the server does not fetch "
                "private, loopback or link-local addresses."
            )
        addresses.append(sockaddr)
    if not addresses:
        raise FetchError(f"The host {host} was not found.")
    return addresses


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address written as IPv6 (::ffff:127.0.0.1, 2002:7f00:1::) is judged as IPv4.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _is_public(embedded)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast and address not in METADATA_ADDRESSES


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header keeps the name."""

    def __init__(self, host, port, sockaddr, timeout):
        super().__init__(host, port, timeout=timeout)
        self.sockaddr = sockaddr

    def connect(self):
        self.sock = _connect(self.sockaddr, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the host name (SNI too)."""

    def __init__(self, host, port, sockaddr, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.sockaddr = sockaddr

    def connect(self):
        sock = _connect(self.sockaddr, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _connect(sockaddr, timeout) -> socket.socket:
    family = socket.AF_INET6 if ":" in sockaddr[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def _request(parts, addresses, accept, deadline, timeout):
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": accept,
        "Accept-Encoding": "gzip",
        "Connection": "close",
    }
    last_error: Exception | None = None
    for sockaddr in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(_timeout_message(host, timeout))
        cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = cls(host, port, sockaddr, remaining)
        try:
            connection.request("GET", path, headers=headers)
            sock = connection.sock  # kept: the connection lets go of it once answered
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            return connection, sock, connection.getresponse()
        except TimeoutError:
            connection.close()
            raise FetchError(_timeout_message(host, timeout)) from None
        except ssl.SSLError as error:
            connection.close()
            raise FetchError(
                f"The secure connection to {host} failed ({error.reason or error})."
            ) from None
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            last_error = error
    detail = f" ({last_error})" if last_error else ""
    raise FetchError(f"Could not connect to {host}{detail}.")


def _read_body(response, sock, max_bytes, deadline, timeout, host) -> bytes:
    too_large = FetchError(f"The page at {host} is larger than {megabytes(max_bytes)}.")
    length = response.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise too_large
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding not in {"identity", "gzip", "x-gzip", "deflate"}:
        raise FetchError(f"{host} answered in an encoding the server cannot read ({encoding}).")
    decoder = None
    if encoding in {"gzip", "x-gzip"}:
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(_timeout_message(host, timeout))
            sock.settimeout(remaining)
            chunk = response.read1(_CHUNK)  # one receive at most: the deadline holds
            if not chunk:
                break
            if decoder is not None:
                # Decompress with a cap: a small compressed body must not unpack without end.
                chunk = decoder.decompress(chunk, max_bytes + 1 - size)
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            chunks.append(chunk)
    except TimeoutError:
        raise FetchError(_timeout_message(host, timeout)) from None
    except zlib.error:
        raise FetchError(f"{host} sent a damaged compressed page.") from None
    except (OSError, http.client.HTTPException) as error:
        raise FetchError(f"The connection to {host} broke off ({error}).") from None
    return b"".join(chunks)


def _timeout_message(host: str, timeout: float) -> str:
    return f"{host} did not answer within {timeout:g} seconds."
