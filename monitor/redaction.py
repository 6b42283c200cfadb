"""Credentials inside web URLs, found and masked wherever a URL setting is shown or logged.

A webhook URL is often a credential in itself: ``https://hooks.slack.com/services/T…/B…/<secret>`` authorises
anyone holding it, some receivers take ``?token=…`` or ``?sig=…``, and a proxy can be written
``https://user:password@host``. ``monitor config show`` prints the URL with those parts masked, and the log
redactor is given their clear values so they never reach a log line either. Scheme, host, port and the plain
path stay readable, because that is what an operator checks.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "********"

# Query parameter names that carry a credential in the webhook receivers we know of (and in most others).
_SECRET_KEYS = re.compile(r"(?i)token|secret|key|sig|signature|password|passwd|pwd|auth|credential|code|session")
# A path segment or query value that looks generated rather than chosen: long, URL-safe, letters and digits mixed.
_TOKEN_SHAPE = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9_\-.~+/=]{16,}$")
# Hosts whose URL paths are themselves the credential (incoming webhooks, workflow and trigger URLs).
_PATH_IS_SECRET_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")


def _path_is_secret(host: str) -> bool:
    return any(host == name or host.endswith("." + name) for name in _PATH_IS_SECRET_HOSTS)


def _secret_segment(segment: str) -> bool:
    return bool(_TOKEN_SHAPE.match(segment))


def url_secrets(url: str) -> list[str]:
    """The clear values in ``url`` that are credentials (for the log redactor); empty for a plain URL."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return [url] if url else []
    found: list[str] = []
    if parts.username:
        found.append(parts.username)
    if parts.password:
        found.append(parts.password)
    segments = [segment for segment in parts.path.split("/") if segment]
    if _path_is_secret(host):
        found += segments[1:]  # /services/T…/B…/<secret>: everything after the kind of hook
    else:
        found += [segment for segment in segments if _secret_segment(segment)]
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if value and (_SECRET_KEYS.search(key) or _secret_segment(value)):
            found.append(value)
        elif not value and _secret_segment(key):  # a bare ?<token>
            found.append(key)
    if parts.fragment:
        found.append(parts.fragment)
    return [value for value in dict.fromkeys(found) if value]


def redact_web_url(url: str) -> str:
    """``url`` with its userinfo, secret path segments and credential-like query values replaced by a mask."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return "(unparseable URL)"
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        netloc = f"{MASK}@{parts.hostname or ''}" + (f":{port}" if port is not None else "")
    segments = parts.path.split("/")
    if _path_is_secret(host):
        seen = 0
        for index, segment in enumerate(segments):
            if segment:
                seen += 1
                if seen > 1:
                    segments[index] = MASK
    else:
        segments = [MASK if _secret_segment(segment) else segment for segment in segments]
    query: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if value and (_SECRET_KEYS.search(key) or _secret_segment(value)):
            value = MASK
        elif not value and _secret_segment(key):  # a bare ?<token>
            key = MASK
        query.append((key, value))
    fragment = MASK if parts.fragment else ""  # #access_token=… in implicit-grant style URLs
    return urlunsplit((parts.scheme, netloc, "/".join(segments), urlencode(query, safe="*"), fragment))
