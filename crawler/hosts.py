"""Which hosts a source may reach: its allowed hosts (port included) and no redirect from
another host into loopback or private addresses. Both fetchers (the HTTP layer and the
Scrapy spider) ask the same questions here.

An allowed entry is ``host`` (that host and its subdomains on the standard web ports 80
and 443) or ``host:port`` (that port only); a source's own URLs are always allowed,
exactly as written (their port included).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

WEB_PORTS = {"http": 80, "https": 443}


def _entry(entry: str) -> tuple[str, int | None]:
    """``host`` / ``host:port`` / ``[v6]:port`` / a URL → (host, port or None)."""
    e = entry.strip().lower()
    if "://" in e:
        host, port = host_port(e)
        return host, None if port in WEB_PORTS.values() and f":{port}" not in e else port
    if e.startswith("["):
        host, _, rest = e[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if e.count(":") == 1:
        host, _, port = e.partition(":")
        return host.rstrip("."), int(port) if port.isdigit() else None
    return e.rstrip("."), None


def entry_host(entry: str) -> str:
    """The host of an allowed entry, without its port."""
    return _entry(entry)[0]


def host_port(url: str) -> tuple[str, int | None]:
    """The URL's host (lower case) and port (the scheme's default when not written);
    port None when the URL's port is not a number."""
    try:
        p = urlsplit(url)
        host = (p.hostname or "").lower().rstrip(".")
    except ValueError:  # "http://[" and the like: no host at all
        return "", None
    try:
        port = p.port
    except ValueError:
        return host, None
    return host, port if port is not None else WEB_PORTS.get(p.scheme.lower())


def own_hosts(urls: list[str]) -> list[str]:
    """Allowed entries for a source's own URLs: the bare host for a URL on a standard web
    port (so http → https on the same host works), ``host:port`` for any other port."""
    out = []
    for u in urls:
        host, port = host_port(u)
        if not host or port is None:
            continue
        entry = (
            host
            if port in WEB_PORTS.values()
            else (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        )
        if entry not in out:
            out.append(entry)
    return out


def host_allowed(url: str, allowed: list[str]) -> bool:
    """True when the URL's host and port match an allowed entry (empty list: any)."""
    if not allowed:
        return True
    host, port = host_port(url)
    if not host or port is None:
        return False
    for entry in allowed:
        h, p = _entry(entry)
        if not h or not (host == h or host.endswith("." + h)):
            continue
        if (p is None and port in WEB_PORTS.values()) or p == port:
            return True
    return False


def _addresses(host: str) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    try:  # not cached: an answer may change (DNS rebinding), and this is rare
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()  # unresolvable: the fetch itself will say so
    return tuple(sorted({info[4][0] for info in infos}))


def private_address(host: str) -> str | None:
    """A loopback, private, link-local or otherwise non-public address the host is
    (or resolves to), or None."""
    for a in _addresses(host.strip("[]").lower()):
        ip = ipaddress.ip_address(a.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            return a
    return None


def redirect_refusal(
    src: str, dst: str, allowed: list[str], allow_private: bool
) -> tuple[str, str] | None:
    """(kind, why) when a redirect (or a request reached by one) from ``src`` to ``dst``
    is refused — kind ``redirect`` for an unusable target, ``offsite`` for a forbidden
    one — or None when it may go ahead."""
    scheme = dst.partition(":")[0].strip().lower()
    if scheme not in WEB_PORTS:
        return "redirect", f"跳转到不支持的地址 {dst[:200]}（只允许 http 和 https）"
    if not host_allowed(dst, allowed):
        return (
            "offsite",
            f"跳转到 {dst[:200]} 被拒绝：不在允许的网站（allowed_domains，含端口）之内",
        )
    if not allow_private and host_port(src)[0] != host_port(dst)[0]:
        addr = private_address(host_port(dst)[0])
        if addr is not None:
            return "offsite", (
                f"跳转到 {dst[:200]} 被拒绝：从其他网站跳转到本机或内网地址 {addr}"
                "（确需采集请为该来源设置 allow_private: true）"
            )
    return None
