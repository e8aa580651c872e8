"""What single sign-on stores: an organisation's connections to identity
providers, which staff member each provider's subject is, the logins under
way (state, nonce, PKCE verifier; SAML request ids), and the SAML
assertions already used (replay protection).

A connection's client secret is kept encrypted with the core's secret box
and never shown back.
"""

import enum
from datetime import datetime

from sqlalchemy import (
    Enum,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.accounts.models import Role, User
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department


class Kind(enum.Enum):
    google = "google"
    microsoft = "microsoft"
    oidc = "oidc"
    saml = "saml"


class Connection(OrganisationScoped, Base):
    """One identity provider an organisation's staff log in with."""

    __tablename__ = "sso_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    button_text: Mapped[str] = mapped_column(String(100))
    kind: Mapped[Kind] = mapped_column(Enum(Kind, native_enum=False, length=20))
    # Given to staff created at their first login.
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    create_users: Mapped[bool] = mapped_column(default=False)
    # False: this organisation's staff may not log in with a password while
    # the connection is enabled.
    password_login: Mapped[bool] = mapped_column(default=True)
    # The provider's own MFA claim (OIDC ``amr``) counts as the second factor.
    accept_mfa: Mapped[bool] = mapped_column(default=False)
    # OpenID Connect.
    issuer: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(500), default="")
    client_secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    allowed_domains: Mapped[str] = mapped_column(String(1000), default="")  # Google hd
    allowed_tenants: Mapped[str] = mapped_column(String(1000), default="")  # Microsoft tid
    # SAML 2.0: the identity provider's metadata document (uploaded, or
    # fetched from its address when the admin saves), the attributes that
    # carry the e-mail address and the name (empty: the NameID; no name).
    idp_metadata: Mapped[str] = mapped_column(Text, default="")
    idp_metadata_url: Mapped[str] = mapped_column(String(500), default="")
    email_attribute: Mapped[str] = mapped_column(String(200), default="")
    name_attribute: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship()


class Identity(OrganisationScoped, Base):
    """A staff member as a connection's provider knows them: its stable subject."""

    __tablename__ = "sso_identity"
    __table_args__ = (
        UniqueConstraint("connection_id", "subject"),
        UniqueConstraint("connection_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sso_connection.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class PendingLogin(OrganisationScoped, Base):
    """A login sent to a provider and not back yet. Found by the hash of its
    state, and deleted by the one DELETE
    that uses it: an answer works once."""

    __tablename__ = "sso_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sso_connection.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The browser that started it (hash of a cookie of ours): an answer
    # carried into another browser is refused (login CSRF).
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(100), default="")
    code_verifier: Mapped[str] = mapped_column(String(128), default="")
    next_url: Mapped[str] = mapped_column(String(500), default="")
    # Set when a logged-in staff member links their account.
    link_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE")
    )
    # A SAML answer checked at the assertion consumer (a cross-site POST,
    # which carries no session cookie), waiting for the same-site redirect
    # that finishes the login in the browser that started it.
    subject: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime]


class SeenAssertion(OrganisationScoped, Base):
    """A SAML assertion already used, kept until it expires: never twice."""

    __tablename__ = "sso_seen_assertion"
    __table_args__ = (UniqueConstraint("connection_id", "assertion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sso_connection.id", ondelete="CASCADE"))
    assertion_id: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]
