"""What the payments plugin stores: an organisation's payment settings, its
rates, its VAT rules and its providers' accounts (encrypted).

Money and percentages are kept as exact decimal text (``DecimalText``), the
same on SQLite and PostgreSQL: nothing passes through a float.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped


class DecimalText(TypeDecorator):
    """A ``Decimal`` stored as its exact text."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


class PaymentSettings(OrganisationScoped, Base):
    """The organisation's own payment settings (one row, made on first save)."""

    __tablename__ = "payments_settings"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    # Where the organisation is established (ISO 3166), for VAT.
    country: Mapped[str] = mapped_column(String(2), default="")
    # The organisation's own VAT number, on its receipts.
    vat_number: Mapped[str] = mapped_column(String(20), default="")
    prices_include_vat: Mapped[bool] = mapped_column(default=True)
    reverse_charge: Mapped[bool] = mapped_column(default=True)


class Rate(OrganisationScoped, Base):
    """A price the organisation charges for an appointment. A rate in use
    is archived, not deleted: past payments keep naming it."""

    __tablename__ = "payments_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str] = mapped_column(String(3))
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VatRule(OrganisationScoped, Base):
    """The VAT rate (percent) for clients of one country ("" for every
    country without a rule of its own) who are private, business or any."""

    __tablename__ = "payments_vat_rule"
    __table_args__ = (UniqueConstraint("organisation_id", "country", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2), default="")
    kind: Mapped[str] = mapped_column(String(10))
    rate: Mapped[Decimal] = mapped_column(DecimalText)


class ProviderAccount(OrganisationScoped, Base):
    """An organisation's account with one payment provider: its settings
    (keys included) as JSON encrypted with the core's secret box."""

    __tablename__ = "payments_provider_account"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(50), primary_key=True)
    config: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
