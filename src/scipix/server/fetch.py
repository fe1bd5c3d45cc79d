"""Fetching an image from a ``src`` URL, guarded: off by default, no private addresses, bounded.

* Only when ``server.allow_url_fetch`` is on; only ``http``/``https``.
* The host is resolved once and every address must be public (not loopback, private, link-local,
  multicast, reserved or unspecified) unless ``server.allow_private_urls`` is on. The connection
  then goes to the checked address itself (the ``Host`` header and TLS server name stay the host's
  name), so a DNS answer that changes between check and connect cannot reach a private address.
* Redirects are followed by hand (at most 3), each hop checked again.
* ``server.url_timeout_s`` bounds the whole download and ``server.url_max_bytes`` its size.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit, urlunsplit

import anyio
import httpx

from scipix.errors import ImageDownloadError
from scipix.settings import ServerSettings

MAX_REDIRECTS = 3
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


async def resolve(host: str, port: int) -> list[IpAddress]:
    """The addresses of ``host`` (a literal address resolves to itself without DNS)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ImageDownloadError(f"cannot resolve the host {host!r}: {exc}") from exc
    found: list[IpAddress] = []
    for info in infos:
        found.append(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
    return found


async def checked_target(url: str, settings: ServerSettings) -> tuple[str, str, IpAddress]:
    """``(url to connect to, host name, address)`` after checking scheme and address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageDownloadError(f"src URL must be http(s)://host/...: {url!r}", url=url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ImageDownloadError(f"src URL has a bad port: {url!r}", url=url) from exc
    addresses = await resolve(parts.hostname, port)
    if not addresses:
        raise ImageDownloadError(f"the host {parts.hostname!r} has no address", url=url)
    if not settings.allow_private_urls:
        for address in addresses:
            if not is_public(address):
                raise ImageDownloadError(
                    f"refusing to fetch {url!r}: {address} is a private, loopback or reserved"
                    " address (server.allow_private_urls is off)",
                    url=url,
                )
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{port}"
    return (
        urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
        parts.hostname,
        address,
    )


async def fetch_image(url: str, settings: ServerSettings) -> bytes:
    """The bytes at ``url``, or :class:`ImageDownloadError` saying why not."""
    if not settings.allow_url_fetch:
        raise ImageDownloadError(
            "this server does not fetch src URLs (server.allow_url_fetch is off): send the image"
            " as a data URI in src or as a multipart file",
            url=url,
        )
    try:
        with anyio.fail_after(settings.url_timeout_s):
            return await _follow(url, settings)
    except TimeoutError as exc:
        raise ImageDownloadError(
            f"downloading {url!r} took longer than {settings.url_timeout_s:g} s", url=url
        ) from exc


async def _follow(url: str, settings: ServerSettings) -> bytes:
    current = url
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            target, host, _address = await checked_target(current, settings)
            port = urlsplit(current).port
            host_header = host if port is None else f"{host}:{port}"
            request = client.build_request(
                "GET",
                target,
                headers={"Host": host_header, "Accept": "image/*"},
                extensions={"sni_hostname": host},
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise ImageDownloadError(f"cannot download {url!r}: {exc}", url=url) from exc
            try:
                if response.is_redirect and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise ImageDownloadError(
                        f"downloading {url!r} answered HTTP {response.status_code}", url=url
                    )
                return await _read_capped(response, url, settings.url_max_bytes)
            finally:
                await response.aclose()
    raise ImageDownloadError(f"{url!r} redirects more than {MAX_REDIRECTS} times", url=url)


async def _read_capped(response: httpx.Response, url: str, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ImageDownloadError(f"{url!r} is larger than {limit} bytes", url=url)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ImageDownloadError(f"{url!r} is larger than {limit} bytes", url=url)
            chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise ImageDownloadError(f"cannot download {url!r}: {exc}", url=url) from exc
    return b"".join(chunks)
