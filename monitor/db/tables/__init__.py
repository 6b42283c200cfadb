"""Every table of the data model; importing this package registers them all on ``Base.metadata``."""

from monitor.db.base import Base
from monitor.db.tables.documents import CslEntry, Document, EventRow, FeedState, ListingActionRow
from monitor.db.tables.ops import Lease
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.db.tables.ownership import LeiRecord, LeiRelationship, SecurityLei
from monitor.db.tables.prices import DailyPrice, PriceSyncState
from monitor.db.tables.studies import EventStatistic, Study, StudyDay
from monitor.db.tables.universe import CorporateLink, Exposure, MatchRow, SecurityAlias, SecurityRow

metadata = Base.metadata

__all__ = [
    "AlertDelivery",
    "AlertRow",
    "Base",
    "CorporateLink",
    "CslEntry",
    "DailyPrice",
    "Document",
    "EventRow",
    "EventStatistic",
    "Exposure",
    "FeedState",
    "Lease",
    "LeiRecord",
    "LeiRelationship",
    "ListingActionRow",
    "MatchRow",
    "PriceSyncState",
    "SecurityAlias",
    "SecurityLei",
    "SecurityRow",
    "Study",
    "StudyDay",
    "metadata",
]
