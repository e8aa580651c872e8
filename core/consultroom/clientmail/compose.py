"""What a client e-mail says: the template set that applies, the values of its
placeholders, and the filled-in subject and body. An appointment's extra
participants get the same e-mails as its client, each addressed to them and
with their own link (a ``Reader``)."""

import re
from dataclasses import dataclass

from sqlalchemy import select

from consultroom.appointments.display import (
    consult_link,
    department_id_of,
    department_of,
    format_local,
    with_name,
)
from consultroom.appointments.service import link_window
from consultroom.clientmail.defaults import default_texts
from consultroom.clientmail.models import TemplateSet
from consultroom.clientmail.placeholders import fill, plugin_placeholders
from consultroom.clients.contact import language_of
from consultroom.i18n import localizer_for
from consultroom.tenancy.models import Department
from consultroom.web.sites import org_url


@dataclass(frozen=True)
class Reader:
    """Whom an e-mail about an appointment is for: its client, or one of its
    extra participants."""

    person: object  # a Client or a Participant: name, e-mail address, language
    link: str  # their own link to the appointment ("" once they are removed from it)
    portal: str  # the client's portal; "" for a participant, who has none


def client_reader(request, appointment):
    client = appointment.client
    return Reader(
        client,
        consult_link(request, appointment),
        org_url(request, request.organisation, f"/portal/{client.portal_token}"),
    )


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str
    language: str
    values: dict


def template_set_for(dbsession, appointment, language):
    """The set of the appointment's department in ``language``; else the
    organisation's default set in that language; else None (built-in)."""
    query = (
        select(TemplateSet)
        .where(
            TemplateSet.organisation_id == appointment.organisation_id,
            TemplateSet.language == language,
        )
        .order_by(TemplateSet.id)
    )
    department_id = department_id_of(appointment)
    if department_id is not None:
        chosen = dbsession.scalar(
            query.where(TemplateSet.departments.any(Department.id == department_id))
        )
        if chosen is not None:
            return chosen
    return dbsession.scalar(query.where(TemplateSet.is_default))


def texts(request, template_set, kind, language, portal=True):
    """``(subject, body)`` with placeholders: the set's, or the built-in ones
    (``portal``: with the line linking the client's portal)."""
    if template_set is not None:
        for template in template_set.templates:
            if template.kind == kind:
                return template.subject, template.body
    return default_texts(localizer_for(request.registry, language), kind, portal)


def _with_addressed(appointment, organisation, language):
    """Whom the appointment is with, a practitioner after the organisation's
    form of address in ``language`` (a department has none)."""
    if appointment.practitioner:
        return organisation.addressed(appointment.practitioner.name, language)
    return with_name(appointment)


def values(request, appointment, language, reader=None):
    """The placeholders' values for ``appointment``, for ``reader`` (by
    default its client) reading ``language``. A participant is greeted by
    their own name; a template's portal link becomes their own link."""
    org = request.organisation
    reader = reader or client_reader(request, appointment)
    date, time = format_local(appointment.starts_at, org, language)
    opens, _closes = link_window(appointment, org)
    opens_date, opens_time = format_local(opens, org, language)
    department = department_of(appointment)
    return {
        "consult_deeplink": reader.link,
        "portal_deeplink": reader.portal or reader.link,
        # Only the time when the link opens on the appointment's own day.
        "booking_welcome_from": opens_time if opens_date == date else f"{opens_date} {opens_time}",
        "client_name": reader.person.display_name,
        "practitioner_name": _with_addressed(appointment, org, language),
        "department_name": department.name if department else "",
        "organisation_name": org.name,
        "date": date,
        "time": time,
        "duration": str(appointment.duration_minutes),
        "message": appointment.message or "",
    }


def plugin_values(request, appointment, kind):
    """The plugins' placeholders for this e-mail: each declared one, empty
    unless a plugin gives it a value."""
    declared = plugin_placeholders(request)
    filled = dict.fromkeys(declared, "")
    results = request.hooks.consultroom_mail_placeholder_values(
        request=request, appointment=appointment, kind=kind
    )
    for result in reversed(results):
        filled.update((k, str(v)) for k, v in (result or {}).items() if k in declared)
    return filled


def render(subject, body, values):
    """Fill in a template. An empty placeholder (no personal message) leaves
    no gap of blank lines; a subject stays on one line."""
    subject = " ".join(fill(subject, values).split())
    body = re.sub(r"\n{3,}", "\n\n", fill(body, values).replace("\r\n", "\n")).strip()
    return subject, body + "\n"


def compose(request, appointment, kind, reader=None):
    """The e-mail of ``kind`` about ``appointment`` for ``reader`` (by
    default its client), in the reader's language."""
    reader = reader or client_reader(request, appointment)
    language = language_of(reader.person, request.organisation)
    template_set = template_set_for(request.dbsession, appointment, language)
    filled = {
        **plugin_values(request, appointment, kind),
        **values(request, appointment, language, reader),
    }
    wording = texts(request, template_set, kind, language, portal=bool(reader.portal))
    subject, body = render(*wording, filled)
    return Composed(subject, body, language, filled)
