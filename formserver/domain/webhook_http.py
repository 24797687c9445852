"""Webhook HTTP: refuse internal targets, then POST to the address we checked, never redirected."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:  # httpx is imported where a webhook is checked or sent, not at start-up
    import httpx

logger = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REFUSED = "refused: private address"
MAX_ERROR = 500
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# The shorthand IPv4 spellings inet_aton (and so getaddrinfo) accepts: 127.1, 0x7f.1, 2130706433.
_LOOSE_IPV4 = re.compile(r"^[0-9a-fx.]+$", re.IGNORECASE)


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``, in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolver(app: Flask) -> Resolver:
    """The app's resolver: ``app.extensions["webhook_resolver"]`` (tests) or the system's."""
    return app.extensions.get("webhook_resolver") or system_resolve


def _kind(ip: IPAddress) -> str | None:
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private network", ip.is_private),
        ("shared CGNAT range", ip.version == 4 and ip in _CGNAT),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _embedded(ip: IPAddress) -> IPAddress | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, NAT64): it is where packets go."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None


def address_refusal(address: str) -> str | None:
    """Why ``address`` may not be a webhook target (``refused: private address ...``), or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # getaddrinfo adds %zone to fe80::
    except ValueError:
        return f"refused: {address!r} is not an IP address"
    inner = _embedded(ip)
    kind = (_kind(inner) if inner else None) or _kind(ip)
    return f"{REFUSED} {address} ({kind})" if kind else None


def _literal(host: str) -> str | None:
    """The address ``host`` spells out itself, in any form the resolver would accept, or None."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _LOOSE_IPV4.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def url_refusal(url: str, allow_private: bool) -> str | None:
    """Why a webhook URL is refused before any lookup (scheme, host, internal literal), or None."""
    import httpx

    try:
        target = httpx.URL(url)
        host = target.host  # decodes IDNA, which may fail (UnicodeError is a ValueError)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "not a valid URL"
    if target.scheme not in ("http", "https"):
        return "must start with https:// or http://"
    if not host:
        return "has no host"
    if target.port is not None and not 0 < target.port < 65536:
        return "has an invalid port"
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{REFUSED} {host} (loopback)"
    literal = _literal(host)
    return address_refusal(literal) if literal else None


def addresses(url: str, allow_private: bool, resolve: Resolver) -> tuple[list[str], str]:
    """Resolve the URL's host once and check every answer: (addresses, "") or ([], the reason)."""
    import httpx

    refusal = url_refusal(url, allow_private)
    if refusal:
        return [], refusal
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii")  # the IDNA form is what DNS knows
    port = target.port or (443 if target.scheme == "https" else 80)
    literal = _literal(target.host)
    try:
        found = [literal] if literal else [str(a) for a in resolve(host, port)]
    except (OSError, UnicodeError) as e:
        return [], f"DNS lookup of {host} failed: {e}"
    if not found:
        return [], f"DNS lookup of {host} found no address"
    if not allow_private:
        # Every answer, not just the first: a client may try them all, and so may we.
        for address in found:
            refusal = address_refusal(address)
            if refusal:
                return [], refusal
    return found, ""


def _answer(response: httpx.Response) -> tuple[int, str]:
    status = response.status_code
    if 200 <= status < 300:
        return status, ""
    if 300 <= status < 400:
        # Followed, a 302 would turn our POST into a GET elsewhere and still look "delivered".
        location = response.headers.get("location", "")[:200]
        return status, f"redirect to {location or '(no Location)'} not followed"
    text = b""
    for chunk in response.iter_bytes():
        text += chunk
        if len(text) >= MAX_ERROR:
            break
    return status, text[:MAX_ERROR].decode("utf-8", "replace")


def post(
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    timeout: float,
    *,
    allow_private: bool,
    resolve: Resolver = system_resolve,
) -> tuple[int, str]:
    """POST once: (HTTP status, "") on an answer, (status or 0, why) otherwise; never raises."""
    import httpx

    found, refusal = addresses(url, allow_private, resolve)
    if refusal:
        return 0, refusal
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii")
    # Connect to the address we checked, never to a second lookup's answer (DNS rebinding);
    # the receiver still sees its own name in Host, and in SNI and the certificate check.
    wire_headers = {**headers, "Host": target.netloc.decode("ascii")}
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    error = ""
    # trust_env off: an HTTP(S)_PROXY from the environment would do its own lookup.
    with httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False) as client:
        for address in found:
            try:
                request = client.build_request(
                    "POST",
                    target.copy_with(host=address),
                    content=content,
                    headers=wire_headers,
                    extensions=extensions,
                )
                response = client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as e:
                error = f"{address}: {e or type(e).__name__}"[:MAX_ERROR]
                continue  # nothing was sent: the next address may answer
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as e:
                return 0, (str(e) or type(e).__name__)[:MAX_ERROR]
            try:
                return _answer(response)
            except httpx.HTTPError as e:
                return response.status_code, (str(e) or type(e).__name__)[:MAX_ERROR]
            finally:
                response.close()
    return 0, error
