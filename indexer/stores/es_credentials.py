"""Credentials in an Elasticsearch URL, and keeping them out of every message.

``urlsplit`` cannot be trusted with a password: a ``/``, ``?`` or ``#`` in it ends the host part early, so
the password (or a prefix of it) lands in the host, path or fragment and from there in error messages.
Here the user information is everything before the *last* ``@`` of the authority, and any error about a
URL shows it masked. ``scrub`` removes a secret in the forms a server or proxy may echo it back: as typed,
percent-encoded, JSON-escaped, and base64-encoded inside an ``Authorization`` header.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = ["MASK", "mask_url", "scrub", "split_credentials"]

MASK = "***"
_MIN_SECRET = 4  # scrubbing a one- or two-character secret would garble ordinary text
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")
_AUTH_HEADER = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?\s*(?:basic|apikey|bearer)\s+)[A-Za-z0-9+/=._~-]+"
)


def _split_userinfo(url: str) -> tuple[str, str, str | None]:
    """``(scheme, host-and-rest, userinfo or None)`` without trusting any character of the password."""
    scheme = _SCHEME.match(url)
    if scheme is None:
        raise ValueError("Elasticsearch URL must look like http(s)://host:port")
    rest = url[scheme.end() :].strip()
    userinfo, at, host = rest.rpartition("@")
    return scheme.group(1).lower(), host if at else rest, userinfo if at else None


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print)."""
    try:
        scheme, host, userinfo = _split_userinfo(url)
    except ValueError:
        return MASK if "@" in url else url
    if userinfo is None:
        return f"{scheme}://{host}"
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:{MASK}@{host}" if ":" in userinfo else f"{scheme}://{user}@{host}"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without user information, user, password)``; only the first part may ever be shown.

    Raises ``ValueError`` naming the problem with the URL masked.
    """
    scheme, host, userinfo = _split_userinfo(url)
    shown = mask_url(url)
    if scheme not in ("http", "https"):
        raise ValueError(f"Elasticsearch URL must start with http:// or https://, not {shown}")
    parts = urlsplit(f"{scheme}://{host}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ValueError(f"Elasticsearch URL has a bad port: {shown}") from None
    if not parts.hostname:
        raise ValueError(f"Elasticsearch URL has no host: {shown}")
    if parts.query or parts.fragment:
        raise ValueError(f"Elasticsearch URL must not have a query or fragment: {shown}")
    clean = urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    if userinfo is None:
        return clean, None, None
    user, colon, password = userinfo.partition(":")
    return clean, unquote(user) or None, unquote(password) if colon else None


def _forms(user: str | None, secret: str) -> Iterable[str]:
    yield secret
    yield quote(secret, safe="")
    escaped = json.dumps(secret)[1:-1]
    yield escaped
    yield escaped.replace("/", "\\/")  # JSON may escape the solidus
    for raw in (secret, f"{user}:{secret}" if user else None):
        if raw:
            yield base64.b64encode(raw.encode()).decode()
            yield base64.urlsafe_b64encode(raw.encode()).decode()


def scrub(text: str, secrets: Iterable[str | None], user: str | None = None) -> str:
    """``text`` without the secrets in any of the forms a server may echo them, nor Authorization values."""
    text = _AUTH_HEADER.sub(rf"\g<1>{MASK}", text)
    forms = {form for secret in secrets if secret for form in _forms(user, secret)}
    for form in sorted(forms, key=len, reverse=True):  # the longest first: base64 of user:password
        if len(form) >= _MIN_SECRET:
            text = text.replace(form, MASK)
    return text
