"""Canonical URLs: one canonical URL is one post."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from crawler.sanitize import clean_line

# Query parameters that only say how a reader arrived, never which page it is.
TRACKING_PARAMS = frozenset(
    {
        "spm",
        "from",
        "src",
        "source",
        "ref",
        "referer",
        "refer",
        "share_token",
        "fbclid",
        "gclid",
        "yclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "scene",
        "isappinstalled",
        "share_from",
        "sharer_shareid",
        "sharer_sharetime",
        "wfr",
        "tt_from",
        "utm",
        "igshid",
        "xtrack",
        "timestamp",
        "clicktime",
        "enterid",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    n = name.lower()
    return n.startswith("utm_") or n in TRACKING_PARAMS


def canonical(url: str) -> str:
    """The URL that identifies a page: scheme and host lower-cased, default port and
    fragment dropped, tracking parameters (utm_*, spm, from, ...) removed, the remaining
    query kept in its original order, an empty path written as ``/``. A URL that cannot
    be parsed is returned as it is (never an exception: it comes from crawled pages)."""
    url = clean_line(url).strip()  # no control character or lone surrogate in a URL
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:  # "http://[::1" and the like: it names itself, as written
        return url
    scheme = parts.scheme.lower()
    if host and ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    if parts.username:
        auth = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{auth}@{netloc}"
    path = quote(unquote(parts.path), safe="/%:@!$&'()*+,;=-._~") or "/"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))
