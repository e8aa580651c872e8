"""Which plugins each organisation has switched on, with their settings."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped


class PluginEnablement(OrganisationScoped, Base):
    __tablename__ = "plugin_enablement"
    __table_args__ = (UniqueConstraint("organisation_id", "plugin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
