"""Web pages: an organisation's page sets (a main page and up to three
follow-up pages, shown on their own subdomain or path) and the images they
use, kept in the organisation's media library."""

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped

MAX_FOLLOW_UP_PAGES = 3
WIDGET_NONE, WIDGET_BOOKING, WIDGET_WALK_IN = "", "booking", "walk_in"


def _public_id():
    return secrets.token_urlsafe(12)


class WebImage(OrganisationScoped, Base):
    """An uploaded image, checked and re-encoded as PNG on upload."""

    __tablename__ = "web_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    # In the public address instead of the id: images cannot be enumerated.
    public_id: Mapped[str] = mapped_column(String(20), unique=True, default=_public_id)
    name: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebPageSet(OrganisationScoped, Base):
    """A set of pages with one look; published at ``<slug>.<base domain>``
    and ``/site/<slug>`` on the organisation's own site."""

    __tablename__ = "web_page_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # A DNS label, unique in the installation (also among organisations).
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    published: Mapped[bool] = mapped_column(default=False)
    header_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_image.id", ondelete="RESTRICT"), default=None, index=True
    )
    primary_colour: Mapped[str] = mapped_column(String(7), default="#1f6f8b")
    background_colour: Mapped[str] = mapped_column(String(7), default="#ffffff")
    text_colour: Mapped[str] = mapped_column(String(7), default="#1a1a1a")
    menu_background: Mapped[str] = mapped_column(String(7), default="#1f6f8b")
    menu_text: Mapped[str] = mapped_column(String(7), default="#ffffff")
    # Cleaned by consultroom.web.safecss on save.
    custom_css: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    header_image: Mapped[WebImage | None] = relationship()
    pages: Mapped[list["WebPage"]] = relationship(
        back_populates="page_set", order_by="WebPage.position", cascade="all, delete-orphan"
    )


class WebPage(OrganisationScoped, Base):
    """One page of a set: position 0 is the main page, 1 to 3 follow it."""

    __tablename__ = "web_page"
    __table_args__ = (UniqueConstraint("set_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(
        ForeignKey("web_page_set.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()
    menu_title: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200), default="")
    # Sanitised HTML (nh3) on save; shown as it is.
    main_text: Mapped[str] = mapped_column(Text, default="")
    main_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_image.id", ondelete="RESTRICT"), default=None, index=True
    )
    widget: Mapped[str] = mapped_column(String(10), default=WIDGET_NONE)
    walk_in_widget_id: Mapped[int | None] = mapped_column(
        ForeignKey("walk_in_widget.id", ondelete="SET NULL"), default=None, index=True
    )
    subtext: Mapped[str] = mapped_column(Text, default="")

    page_set: Mapped[WebPageSet] = relationship(back_populates="pages")
    main_image: Mapped[WebImage | None] = relationship()
