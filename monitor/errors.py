"""The exception tree, grouped by what the caller should do about each error.

```
MonitorError                      base; carries a one-line message fit for an operator
├── ConfigError                   stop: a setting, file or argument is wrong; a human must fix it
├── StorageError                  stop: the database is unreachable or not migrated
│   ├── DatabaseNotMigrated
│   └── DatabaseInUse             another `monitor run` holds this SQLite file (one daemon per file)
├── InputError                    stop this command: a file or argument the user gave is malformed
│   └── NoPriceData               a price source has no bars for a symbol: study it as insufficient data
├── TransientError                retry later with backoff; the daemon counts and logs these
│   ├── FeedUnavailable           a regulatory feed timed out, failed or returned garbage
│   ├── PriceSourceUnavailable    a price source failed transiently
│   │   └── RateLimited           the source asked us to slow down (Yahoo, Slack)
│   └── DeliveryFailed            a sink failed transiently; the outbox retries
├── FeedRejected                  a feed refused the request for good (4xx): skip it, retrying cannot help
│   └── DocumentNotFound          404: the document (or saved response) does not exist
├── FeedParseError                store the document with its error and still alert (title and link)
├── DeliveryRejected              a sink refused the message for good; the outbox marks the row dead
├── ClaimLost                     another worker took an outbox delivery over: stop, it finishes the job
└── CalendarOutOfRange            an exchange calendar does not cover a date; leave the study pending
```

Adapters wrap vendor exceptions (``raise FeedUnavailable(...) from exc``) so no foreign exception type reaches
the pipeline. ``monitor.cli`` maps each class to an exit code.
"""

from __future__ import annotations

from datetime import date


class MonitorError(Exception):
    """Base class; ``str(error)`` is a single line an operator can act on."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(MonitorError):
    """A setting, config file or command-line value is wrong; names the setting and the problem."""

    exit_code = 2

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(f"{setting}: {message}" if setting else message)
        self.setting = setting


class InputError(MonitorError):
    """A file or argument supplied by the user is malformed."""

    exit_code = 2


class StorageError(MonitorError):
    """The database cannot be reached or used."""

    exit_code = 3


class DatabaseNotMigrated(StorageError):
    """The database schema is behind the code; ``monitor db upgrade`` fixes it."""


class DatabaseInUse(StorageError):
    """Another ``monitor run`` holds this SQLite database."""


class NoPriceData(InputError):
    """The source has no prices for the symbol (unknown, delisted, or nothing in the range asked for)."""

    def __init__(self, message: str, *, symbol: str) -> None:
        super().__init__(message)
        self.symbol = symbol


class TransientError(MonitorError):
    """Worth retrying later; the daemon backs off, counts and logs it, and never dies on it."""

    exit_code = 4


class FeedUnavailable(TransientError):
    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class PriceSourceUnavailable(TransientError):
    def __init__(self, message: str, *, symbol: str | None = None) -> None:
        super().__init__(message)
        self.symbol = symbol


class RateLimited(PriceSourceUnavailable):
    def __init__(self, message: str, *, symbol: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, symbol=symbol)
        self.retry_after = retry_after


class DeliveryFailed(TransientError):
    def __init__(self, message: str, *, sink: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.sink = sink
        self.retry_after = retry_after


class FeedRejected(MonitorError):
    """The server refused the request for good (4xx other than 429): a wrong query, URL or document number."""

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class DocumentNotFound(FeedRejected):
    """404: the document (or saved response) does not exist."""


class FeedParseError(MonitorError):
    """The document could not be parsed; it is stored with this error and still alerted."""

    def __init__(self, message: str, *, document_number: str | None = None) -> None:
        super().__init__(f"{document_number}: {message}" if document_number else message)
        self.document_number = document_number


class DeliveryRejected(MonitorError):
    """The sink refused the message permanently (bad channel, invalid blocks); retrying will not help."""

    def __init__(self, message: str, *, sink: str) -> None:
        super().__init__(message)
        self.sink = sink


class ClaimLost(MonitorError):
    """Another worker recovered this delivery (ours looked crashed); stop and let it finish."""


class CalendarOutOfRange(MonitorError):
    """An exchange calendar has no data for the date; never guess sessions past a calendar's bound."""

    def __init__(self, calendar: str, value: date | str, bound: date | str) -> None:
        super().__init__(f"calendar {calendar} does not cover {value} (its data ends at {bound})")
        self.calendar = calendar
        self.value = value
        self.bound = bound
