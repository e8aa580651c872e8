"""The texts of the e-mails clients receive, per organisation, language and
department."""

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import Base
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department

template_set_department = Table(
    "mail_template_set_department",
    Base.metadata,
    Column(
        "template_set_id", ForeignKey("mail_template_set.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)

KINDS = ("invitation", "reminder", "change", "cancellation")


class TemplateSet(OrganisationScoped, Base):
    """Subject and body for each kind of client e-mail, in one language.

    A set assigned to departments is used for their appointments; otherwise
    the organisation's default set in the client's language; otherwise the
    built-in texts.
    """

    __tablename__ = "mail_template_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))
    is_default: Mapped[bool] = mapped_column(default=False)

    departments: Mapped[list[Department]] = relationship(secondary=template_set_department)
    templates: Mapped[list["Template"]] = relationship(
        back_populates="template_set", cascade="all, delete-orphan"
    )


class Template(Base):
    __tablename__ = "mail_template"
    __table_args__ = (UniqueConstraint("template_set_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_set_id: Mapped[int] = mapped_column(
        ForeignKey("mail_template_set.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)

    template_set: Mapped[TemplateSet] = relationship(back_populates="templates")
