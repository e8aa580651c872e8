"""Models of consultroom.audit: the entries of the audit trail, those
recorded but not yet linked into their chain, the head of each
organisation's chain, and the values the trail's filters offer."""

from datetime import datetime

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base
from consultroom.db.scope import OrganisationScoped

# The chain of the hosting provider's own events, which concern no organisation.
CONSOLE_CHAIN = 0
GENESIS = "0" * 64


class Recorded(OrganisationScoped):
    """The columns of an event as ``record`` notes it."""

    # Not a foreign key: the trail must outlive what it describes.
    organisation_id: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column()
    # Ids and names as they were: people are renamed and deleted later.
    user_id: Mapped[int | None] = mapped_column(default=None)
    user_name: Mapped[str] = mapped_column(String(200), default="")
    support_user_id: Mapped[int | None] = mapped_column(default=None)
    support_user_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(40), default=None)
    object_id: Mapped[str | None] = mapped_column(String(100), default=None)
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditPending(Recorded, Base):
    """An event recorded in a transaction that committed, waiting for the
    chainer (``consultroom.audit.chain.link_pending``), which moves it into
    ``audit_entry`` right after that commit. Inserting one takes no lock, so
    that one organisation's requests do not queue behind each other; the
    database refuses to change one (it may only be removed, by the chainer)."""

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(primary_key=True)  # the order of linking


# The names of the recorded columns, which an entry copies from its pending row.
RECORDED = tuple(c.name for c in AuditPending.__table__.columns if c.name != "id")


class AuditEntry(Recorded, Base):
    """One event, linked into its organisation's chain. ``hash`` covers every
    other column (but ``id``) and the previous entry's hash, so that changing,
    removing or inserting a row breaks the chain of its organisation."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        UniqueConstraint("organisation_id", "seq"),
        # The trail page's filters, each read newest first from its index,
        # however long the trail (consultroom.audittrail).
        Index("ix_audit_entry_user", "organisation_id", "user_id", "seq"),
        Index("ix_audit_entry_action", "organisation_id", "action", "seq"),
        Index("ix_audit_entry_object_type", "organisation_id", "object_type", "seq"),
        Index("ix_audit_entry_object_id", "organisation_id", "object_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column()  # 1, 2, 3… within the organisation's chain
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def __init__(self, **values):
        # Every hashed column set now: column defaults would only be filled
        # in at INSERT, after the hash was taken.
        super().__init__(**{**ENTRY_DEFAULTS, **values})


ENTRY_DEFAULTS = {
    "user_id": None,
    "user_name": "",
    "support_user_id": None,
    "support_user_name": "",
    "object_type": None,
    "object_id": None,
    "address": "",
    "detail": {},
}


class AuditChain(Base):
    """The head of one organisation's chain: locked by the chainer while it
    links entries, so that two chainers line up behind each other; and it
    remembers the length, so that removing the last entries shows."""

    __tablename__ = "audit_chain"

    organisation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


# The kinds of AuditFacet.
ACTION, OBJECT_TYPE, USER = "action", "object_type", "user"


class AuditFacet(OrganisationScoped, Base):
    """A value that occurs in an organisation's trail, for the filters of the
    trail page: an action, an object type, or a user (``value`` its id,
    ``label`` the name of its latest entry). The chainer adds them as it
    links entries, so that the page need not scan the trail for them."""

    __tablename__ = "audit_facet"

    organisation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
