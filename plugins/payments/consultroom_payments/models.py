"""What the payments plugin stores: an organisation's payment settings, its
rates, its VAT rules and its providers' accounts (encrypted); which
appointments must be paid, at which rate; and the payments.

Money and percentages are kept as exact decimal text (``DecimalText``), the
same on SQLite and PostgreSQL: nothing passes through a float.
"""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from consultroom.appointments.models import Appointment
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
    # The rate of appointments booked in the booking widget, and of walk-ins
    # from the walk-in widget (None: free).
    booking_rate_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments_rate.id", ondelete="SET NULL"), default=None
    )
    walk_in_rate_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments_rate.id", ondelete="SET NULL"), default=None
    )


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


class Charge(OrganisationScoped, Base):
    """An appointment that must be paid before the waiting room, and its
    rate (chosen on the appointment form). No row: free."""

    __tablename__ = "payments_charge"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True
    )
    rate_id: Mapped[int] = mapped_column(ForeignKey("payments_rate.id"), index=True)

    rate: Mapped[Rate] = relationship()


class Status(enum.Enum):
    pending = "pending"
    paid = "paid"
    failed = "failed"
    refunded = "refunded"
    partly_refunded = "partly_refunded"


# A payment in one of these lets the client into the waiting room.
SETTLED = (Status.paid, Status.partly_refunded)


class Payment(OrganisationScoped, Base):
    """One attempt to pay for an appointment, with what was asked (a copy:
    rates and rules may change later) and how it went. Kept when the
    appointment or the client goes (bookkeeping), without them."""

    __tablename__ = "payments_payment"
    __table_args__ = (UniqueConstraint("provider", "provider_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    # The idempotency key of this attempt, sent to the provider: a double
    # click posts the same key and finds this payment.
    attempt: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(50))
    provider_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    checkout_url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=20), default=Status.pending, index=True
    )
    rate_name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    net: Mapped[Decimal] = mapped_column(DecimalText)
    vat: Mapped[Decimal] = mapped_column(DecimalText)
    gross: Mapped[Decimal] = mapped_column(DecimalText)
    vat_rate: Mapped[Decimal] = mapped_column(DecimalText)
    reverse_charge: Mapped[bool] = mapped_column(default=False)
    refunded: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(0))
    # Who pays, as they gave it on the payment page (for the receipt).
    payer_name: Mapped[str] = mapped_column(String(200))
    payer_email: Mapped[str] = mapped_column(String(254), default="")
    payer_country: Mapped[str] = mapped_column(String(2))
    payer_business: Mapped[bool] = mapped_column(default=False)
    payer_vat_number: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)

    appointment: Mapped[Appointment | None] = relationship()


class ReceiptCounter(OrganisationScoped, Base):
    """The organisation's last receipt number: raised in the transaction
    that issues a receipt, so that numbers have no gaps (an undone
    transaction undoes its number) and concurrent payments wait in turn."""

    __tablename__ = "payments_receipt_counter"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(default=0)


class Receipt(OrganisationScoped, Base):
    """A payment's receipt: its number in the organisation's sequence and
    the PDF as it was issued (kept, so that it reads the same later, also
    when the plugin is switched off)."""

    __tablename__ = "payments_receipt"
    __table_args__ = (UniqueConstraint("organisation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments_payment.id", ondelete="CASCADE"), unique=True
    )
    number: Mapped[int] = mapped_column()
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    payment: Mapped[Payment] = relationship()


class Refund(OrganisationScoped, Base):
    """Money given back of a payment, through its provider, by a staff member."""

    __tablename__ = "payments_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments_payment.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    provider_ref: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
