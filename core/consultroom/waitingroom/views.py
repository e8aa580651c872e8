"""Administrators' pages: the organisation's waiting-room text, and service
messages (added, changed and deleted; optionally written in each language).
A department admin manages their own department's messages only."""

import wtforms
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import delete
from wtforms import validators as v
from zope.sqlalchemy import mark_changed

from consultroom.accounts.models import Role
from consultroom.audit import record
from consultroom.clientmail.placeholders import problem_messages
from consultroom.i18n import LANGUAGES, _
from consultroom.realtime import client_channel, publish_after_commit
from consultroom.tenancy.timezones import exists_locally, local_now, to_local, to_utc
from consultroom.waitingroom.live import waiting_appointment_ids
from consultroom.waitingroom.messages import manageable
from consultroom.waitingroom.models import ServiceMessage
from consultroom.waitingroom.page import WAITING_ROOM_PLACEHOLDERS
from consultroom.web import ID, flash
from consultroom.web.forms import Form, options

WHOLE_ORGANISATION = 0


MESSAGE_MAX = 1000


def _strip(value):
    return (value or "").strip()


def translation_field(language):
    return f"text_{language}"


class _MessageForm(Form):
    text = wtforms.TextAreaField(
        _("Message"),
        [v.DataRequired(), v.Length(max=MESSAGE_MAX)],
        filters=[_strip],
        description=_("Clients read this unless it is written below in their language."),
    )
    department_id = wtforms.SelectField(_("Shown in"), coerce=int)
    expires_at = wtforms.DateTimeLocalField(
        _("Remove automatically at"),
        [v.Optional()],
        format="%Y-%m-%dT%H:%M",
        description=_(
            "In your organisation's time zone. Leave empty to keep it until you delete it."
        ),
    )


def _translation_fields():
    labels = {
        "en": _("Message in English"),
        "nl": _("Message in Dutch"),
        "de": _("Message in German"),
        "sv": _("Message in Swedish"),
    }
    return {
        translation_field(language): wtforms.TextAreaField(
            labels[language], [v.Optional(), v.Length(max=MESSAGE_MAX)], filters=[_strip]
        )
        for language in LANGUAGES
    }


ServiceMessageForm = type("ServiceMessageForm", (_MessageForm,), _translation_fields())


def _translations(form):
    """The message's wording per language, the empty ones left out."""
    return {
        language: form[translation_field(language)].data
        for language in LANGUAGES
        if form[translation_field(language)].data
    }


def _scope_choices(request):
    user = request.identity
    departments = request.organisation.departments
    if user.role is Role.org_admin:
        return [(WHOLE_ORGANISATION, _("The whole organisation"))] + [
            (d.id, d.name) for d in departments
        ]
    return [(d.id, d.name) for d in departments if d.id == user.department_id]


def _expiry_problem(request, local):
    org = request.organisation
    if not exists_locally(local, org):
        return _("This time does not exist here: the clocks change then.")
    if local <= local_now(org).replace(tzinfo=None):
        return _("Choose a time in the future.")
    return None


def _tell_waiting_clients(request):
    """Waiting clients see service messages come and go without a reload."""
    for appointment_id in waiting_appointment_ids(request.dbsession, request.organisation.id):
        publish_after_commit(request, client_channel(appointment_id), {"type": "_resync"})


def _store(request, form, message, action, notice):
    """Save a new or changed ``message`` from the (valid) ``form``, tell the
    waiting clients, and go back to the list."""
    local = form.expires_at.data
    message.text = form.text.data
    message.translations = _translations(form)
    message.department_id = form.department_id.data or None
    message.expires_at = to_utc(local, request.organisation) if local else None
    request.dbsession.add(message)
    request.dbsession.flush()
    record(request, action, "service_message", message.id, department_id=message.department_id)
    _tell_waiting_clients(request)
    flash(request, notice, "success")
    return HTTPSeeOther(request.route_path("service_messages"))


@view_config(
    route_name="service_messages",
    renderer="waitingroom/service_messages.html",
    permission="department.manage",
)
def service_messages(request):
    form = ServiceMessageForm(request)
    form.department_id.choices = options(_scope_choices(request))
    if request.method == "POST" and form.validate():
        local = form.expires_at.data
        problem = _expiry_problem(request, local) if local else None
        if problem:
            form.add_error("expires_at", problem)
        else:
            message = ServiceMessage(organisation_id=request.organisation.id)
            notice = _("The message is shown in the waiting room.")
            return _store(request, form, message, "service_message.create", notice)
    messages = request.dbsession.scalars(manageable(request)).all()
    return {
        "form": form,
        "messages": messages,
        "local": lambda dt: to_local(dt, request.organisation),
    }


def _message_from_url(request):
    """The message in the address, if this administrator manages it; else 404."""
    message = request.dbsession.scalar(
        manageable(request).where(ServiceMessage.id == int(request.matchdict["id"]))
    )
    if message is None:
        raise HTTPNotFound()
    return message


@view_config(
    route_name="service_message_edit",
    renderer="waitingroom/service_message_edit.html",
    permission="department.manage",
)
def service_message_edit(request):
    message = _message_from_url(request)
    org = request.organisation
    initial = {
        "text": message.text,
        "department_id": message.department_id or WHOLE_ORGANISATION,
        "expires_at": to_local(message.expires_at, org).replace(tzinfo=None)
        if message.expires_at
        else None,
        **{translation_field(k): t for k, t in (message.translations or {}).items()},
    }
    form = ServiceMessageForm(request, **initial)
    form.department_id.choices = options(_scope_choices(request))
    if request.method == "POST" and form.validate():
        local = form.expires_at.data
        problem = _expiry_problem(request, local) if local else None
        if problem:
            form.add_error("expires_at", problem)
        else:
            notice = _("The message is saved.")
            return _store(request, form, message, "service_message.update", notice)
    return {"form": form, "message": message}


@view_config(
    route_name="service_message_delete", permission="department.manage", request_method="POST"
)
def service_message_delete(request):
    message = _message_from_url(request)
    record(request, "service_message.delete", "service_message", message.id)
    request.dbsession.delete(message)
    _tell_waiting_clients(request)
    flash(request, _("The message is deleted."), "success")
    return HTTPSeeOther(request.route_path("service_messages"))


@view_config(
    route_name="service_messages_delete_all", permission="department.manage", request_method="POST"
)
def service_messages_delete_all(request):
    ids = [m.id for m in request.dbsession.scalars(manageable(request))]
    if ids:
        request.dbsession.execute(delete(ServiceMessage).where(ServiceMessage.id.in_(ids)))
        mark_changed(request.dbsession)
        record(request, "service_message.delete", "service_message", ids=ids)
        _tell_waiting_clients(request)
    flash(request, _("${n} message(s) deleted.", mapping={"n": len(ids)}), "success")
    return HTTPSeeOther(request.route_path("service_messages"))


class WaitingRoomTextForm(Form):
    text = wtforms.TextAreaField(
        _("Text for clients who are on time"),
        [v.Length(max=5000)],
        filters=[lambda s: (s or "").strip()],
    )


@view_config(
    route_name="waiting_room_text",
    renderer="waitingroom/text.html",
    permission="organisation.manage",
)
def waiting_room_text(request):
    org = request.organisation
    form = WaitingRoomTextForm(request, text=org.waiting_room_text)
    if request.method == "POST" and form.validate():
        wrong = problem_messages(form.text.data, WAITING_ROOM_PLACEHOLDERS)
        for message in wrong:
            form.add_error("text", message)
        if not wrong:
            record(
                request,
                "organisation.waiting_room_text_update",
                "organisation",
                org.id,
                changed=org.waiting_room_text != form.text.data,
            )
            org.waiting_room_text = form.text.data
            flash(request, _("The waiting-room text is saved."), "success")
            return HTTPSeeOther(request.route_path("waiting_room_text"))
    return {"form": form, "placeholders": WAITING_ROOM_PLACEHOLDERS}


def includeme(config):
    org = "organisation"
    config.add_route("waiting_room_text", "/waiting-room-text", site=org)
    config.add_route("service_messages", "/service-messages", site=org)
    config.add_route("service_messages_delete_all", "/service-messages/delete-all", site=org)
    config.add_route("service_message_edit", f"/service-messages/{ID}", site=org)
    config.add_route("service_message_delete", f"/service-messages/{ID}/delete", site=org)
    config.scan(__name__)
