"""Feed text leaving the product safely: only web links, and no spreadsheet formulas.

Titles and URLs come from the Federal Register and the CSL, which we do not control (a proxy, a compromised mirror,
or a hostile test server can put anything there). A ``javascript:`` or ``data:`` URL must never become a clickable
link in Slack or the HTML report, and a title starting ``=`` must never run as a formula when report.csv is opened
in a spreadsheet. Escaping for each output format (HTML, Slack mrkdwn) stays with its renderer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Leading characters that make Excel, LibreOffice and Google Sheets read a cell as a formula (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def web_url(value: str | None) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host, else None (the link is then shown as plain text)."""
    if not value:
        return None
    candidate = value.strip()
    if any(ord(char) < 0x20 or char.isspace() for char in candidate):
        return None  # browsers strip tabs/newlines inside a scheme ("java\tscript:"): refuse them outright
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate


def csv_cell(value: str) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character is quoted with an apostrophe.

    Numbers are not text cells and never pass through here, so a negative return stays a number.
    """
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value
