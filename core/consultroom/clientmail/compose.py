"""What a client e-mail says: the template set that applies, the values of its
placeholders, and the filled-in subject and body."""

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


def texts(request, template_set, kind, language):
    """``(subject, body)`` with placeholders: the set's, or the built-in ones."""
    if template_set is not None:
        for template in template_set.templates:
            if template.kind == kind:
                return template.subject, template.body
    return default_texts(localizer_for(request.registry, language), kind)


def values(request, appointment, language):
    """The placeholders' values for ``appointment``, for a reader of ``language``."""
    org = request.organisation
    client = appointment.client
    date, time = format_local(appointment.starts_at, org, language)
    opens, _closes = link_window(appointment, org)
    opens_date, opens_time = format_local(opens, org, language)
    department = department_of(appointment)
    return {
        "consult_deeplink": consult_link(request, appointment),
        "portal_deeplink": org_url(request, org, f"/portal/{client.portal_token}"),
        # Only the time when the link opens on the appointment's own day.
        "booking_welcome_from": opens_time if opens_date == date else f"{opens_date} {opens_time}",
        "client_name": client.display_name,
        "practitioner_name": with_name(appointment),
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


def compose(request, appointment, kind):
    """The e-mail of ``kind`` about ``appointment``, in the client's language."""
    language = language_of(appointment.client, request.organisation)
    template_set = template_set_for(request.dbsession, appointment, language)
    filled = {**plugin_values(request, appointment, kind), **values(request, appointment, language)}
    subject, body = render(*texts(request, template_set, kind, language), filled)
    return Composed(subject, body, language, filled)
