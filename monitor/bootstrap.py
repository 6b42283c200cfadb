"""The composition root's toolbox: settings, logging and storage built lazily for the command being run.

Only ``monitor.cli`` and the command modules use this. Nothing here runs at import time, so ``monitor --help``
stays fast and a broken database never stops ``monitor config show``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from monitor.config import Settings


@dataclass
class AppContext:
    """What every command receives through ``typer.Context.obj``."""

    config_path: Path | None = None
    cli_overrides: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None
    _engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from monitor.config import load_settings, secret_values
            from monitor.logs import configure_logging, redactor

            settings = load_settings(self.config_path, **self.cli_overrides)
            redactor.register(secret_values(settings))
            configure_logging(settings.log.level, settings.log.format)
            self._settings = settings
        return self._settings

    def engine(self, *, migrate: bool = True) -> Engine:
        """The database engine; by default the schema is checked (and the embedded database upgraded)."""
        if self._engine is None:
            from monitor.db.engine import check_connection, make_engine

            engine = make_engine(self.settings.effective_database_url)
            check_connection(engine)
            self._engine = engine
        if migrate:
            from monitor.db.migrate import ensure_schema

            ensure_schema(self._engine, auto_upgrade=self.settings.uses_embedded_database)
        return self._engine

    def sessions(self) -> sessionmaker[Session]:
        from monitor.db.engine import session_factory

        return session_factory(self.engine())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
