"""Administrators' pages for the client texts written per language
(``ClientText``): the waiting-room text of the organisation or of a
department, the follow-up message and the disclaimer. Listed, added, edited
and deleted here; the organisation's own text of each kind (its setting) is
the fallback for every language without one.

A department admin writes their own department's waiting-room texts; the
other kinds and the organisation-wide texts are the organisation admin's.
A text they may not manage is neither listed nor found by its id.
"""

import wtforms
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import false, select
from wtforms import validators as v

from consultroom.accounts.models import Role
from consultroom.audit import record
from consultroom.clientmail.placeholders import problem_messages
from consultroom.i18n import LANGUAGES, _
from consultroom.waitingroom.models import ClientText
from consultroom.waitingroom.page import WAITING_ROOM_PLACEHOLDERS
from consultroom.waitingroom.texts import DEPARTMENT_KINDS, KINDS
from consultroom.web import ID, flash
from consultroom.web.forms import Form, options

# The kinds in the address, as people read it.
SLUGS = {"waiting-room": "waiting_room", "follow-up": "follow_up", "disclaimer": "disclaimer"}
KIND_SLUGS = {kind: slug for slug, kind in SLUGS.items()}
WHOLE_ORGANISATION = 0
MAX_LENGTH = {"waiting_room": 5000, "follow_up": 2000, "disclaimer": 10000}


class ClientTextForm(Form):
    department_id = wtforms.SelectField(_("For"), coerce=int)
    language = wtforms.SelectField(_("Language"), choices=options(LANGUAGES.items()))
    text = wtforms.TextAreaField(
        _("Text"), [v.DataRequired()], filters=[lambda s: (s or "").strip()]
    )


def _is_org_admin(request):
    return request.identity.role is Role.org_admin


def _kind(request):
    """The kind in the address, if this administrator writes it; else 404."""
    kind = SLUGS.get(request.matchdict["kind"])
    if kind is None or (kind not in DEPARTMENT_KINDS and not _is_org_admin(request)):
        raise HTTPNotFound()
    return kind


def _scopes(request, kind):
    """(department id or WHOLE_ORGANISATION, name) this administrator may
    write the texts of ``kind`` for."""
    if _is_org_admin(request):
        whole = [(WHOLE_ORGANISATION, request.localizer.translate(_("The whole organisation")))]
        if kind not in DEPARTMENT_KINDS:
            return whole
        return whole + [(d.id, d.name) for d in request.organisation.departments]
    own = request.identity.department_id
    return [(d.id, d.name) for d in request.organisation.departments if d.id == own]


def manageable_texts(request, kind):
    """The texts of ``kind`` the logged-in administrator may manage."""
    query = select(ClientText).where(
        ClientText.organisation_id == request.organisation.id, ClientText.kind == kind
    )
    if _is_org_admin(request):
        return query
    own = request.identity.department_id
    if own is None:
        return query.where(false())
    return query.where(ClientText.department_id == own)


def _text_from_url(request, kind):
    found = request.dbsession.scalar(
        manageable_texts(request, kind).where(ClientText.id == int(request.matchdict["id"]))
    )
    if found is None:
        raise HTTPNotFound()
    return found


def _form(request, kind, row=None):
    initial = {}
    if row is not None:
        initial = {
            "department_id": row.department_id or WHOLE_ORGANISATION,
            "language": row.language,
            "text": row.text,
        }
    form = ClientTextForm(request, **initial)
    form.department_id.choices = options(_scopes(request, kind))
    form.text.validators = [*form.text.validators, v.Length(max=MAX_LENGTH[kind])]
    return form


def _check(request, kind, form, row):
    """Placeholders the waiting room fills in, and one text per department
    and language (else which one a client reads would be chance)."""
    if kind == "waiting_room":
        for message in problem_messages(form.text.data, WAITING_ROOM_PLACEHOLDERS):
            form.add_error("text", message)
    department_id = form.department_id.data or None
    taken = manageable_texts(request, kind).where(
        ClientText.language == form.language.data,
        ClientText.department_id.is_(None)
        if department_id is None
        else ClientText.department_id == department_id,
    )
    if row is not None:
        taken = taken.where(ClientText.id != row.id)
    if request.dbsession.scalar(taken) is not None:
        form.add_error(
            "language",
            _("There is a text in this language for it already: change that one."),
        )


def _save(request, kind, form, row):
    action = "client_text.create" if row is None else "client_text.update"
    row = row or ClientText(organisation_id=request.organisation.id, kind=kind)
    row.department_id = form.department_id.data or None
    row.language = form.language.data
    row.text = form.text.data
    request.dbsession.add(row)
    request.dbsession.flush()
    record(
        request,
        action,
        "client_text",
        row.id,
        kind=kind,
        language=row.language,
        department_id=row.department_id,
    )
    flash(request, _("The text is saved."), "success")
    return HTTPSeeOther(request.route_path("client_texts", kind=KIND_SLUGS[kind]))


def _edit(request, kind, row):
    form = _form(request, kind, row)
    if request.method == "POST" and form.validate():
        _check(request, kind, form, row)
        if not form.problems:
            return _save(request, kind, form, row)
    return form


def _page(request, kind, form, row=None):
    texts = request.dbsession.scalars(
        manageable_texts(request, kind).order_by(ClientText.department_id, ClientText.language)
    ).all()
    return {
        "kind": kind,
        "slug": KIND_SLUGS[kind],
        "title": KINDS[kind],
        "kinds": [(KIND_SLUGS[k], label) for k, label in KINDS.items()],
        "form": form,
        "row": row,
        "texts": texts,
        "languages": LANGUAGES,
        "org_admin": _is_org_admin(request),
        "placeholders": WAITING_ROOM_PLACEHOLDERS if kind == "waiting_room" else (),
    }


@view_config(
    route_name="client_texts",
    renderer="waitingroom/client_texts.html",
    permission="department.manage",
)
def client_texts(request):
    kind = _kind(request)
    result = _edit(request, kind, None)
    return result if isinstance(result, HTTPSeeOther) else _page(request, kind, result)


@view_config(
    route_name="client_text_edit",
    renderer="waitingroom/client_texts.html",
    permission="department.manage",
)
def client_text_edit(request):
    kind = _kind(request)
    row = _text_from_url(request, kind)
    result = _edit(request, kind, row)
    return result if isinstance(result, HTTPSeeOther) else _page(request, kind, result, row)


@view_config(route_name="client_text_delete", permission="department.manage", request_method="POST")
def client_text_delete(request):
    kind = _kind(request)
    row = _text_from_url(request, kind)
    record(request, "client_text.delete", "client_text", row.id, kind=kind, language=row.language)
    request.dbsession.delete(row)
    flash(request, _("The text is deleted."), "success")
    return HTTPSeeOther(request.route_path("client_texts", kind=KIND_SLUGS[kind]))


def includeme(config):
    org = "organisation"
    kind = "{kind:[a-z-]{1,20}}"
    config.add_route("client_texts", f"/client-texts/{kind}", site=org)
    config.add_route("client_text_edit", f"/client-texts/{kind}/{ID}", site=org)
    config.add_route("client_text_delete", f"/client-texts/{kind}/{ID}/delete", site=org)
    config.scan(__name__)
