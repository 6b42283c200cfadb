"""A document becomes an alert: the one path from "a document arrived" to stored events, matches, studies and
outbox rows, shared by the daemon, the backfill and the demo.

- ``core``: ``Pipeline`` (``handle`` / ``document_arrived``, ``refresh_prices``, ``update_studies``).
- ``dating``: ``Signals`` and ``announcement``, when the market could first react (pure).
- ``facts``: what the pipeline reads about a document, its matches and its studied securities.
- ``event_rows``: the event and study writes.
- ``detected`` and ``followups``: which cards are due and what they say (pure); ``quotes``: the card's prices.
- ``studies`` (compute), ``study_rows`` (persist) and ``bars`` (read bars, never from the future).

The names below are re-exported lazily, so ``monitor.pipeline.dating`` can be imported without the matcher, the
price store and the rest of ``core``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.pipeline.core import (
        OPEN_STUDY,
        RETRY_STUDY,
        ArrivalOutcome,
        CatchUp,
        Pipeline,
        PipelineOptions,
        StudyUpdate,
    )

__all__ = ["OPEN_STUDY", "RETRY_STUDY", "ArrivalOutcome", "CatchUp", "Pipeline", "PipelineOptions", "StudyUpdate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("monitor.pipeline.core"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
