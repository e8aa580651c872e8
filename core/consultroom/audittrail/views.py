"""The organisation admin's page of the audit trail: filters, pages and the
CSV export of what the filters select, for the request's organisation only."""

from datetime import datetime, time, timedelta

import wtforms
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from wtforms import validators as v

from consultroom.accounts.models import User
from consultroom.audit import record
from consultroom.audit.chain import canonical_json
from consultroom.audit.models import AuditEntry
from consultroom.i18n import _
from consultroom.tenancy.timezones import to_local, to_utc
from consultroom.web.forms import Form, options
from consultroom.web.listing import csv_bytes, page_number, paginate

PAGE_SIZE = 50
EXPORT_HEADER = (
    _("Entry"),
    _("Time"),
    _("User id"),
    _("User"),
    _("Support user id"),
    _("Support user"),
    _("Action"),
    _("Object type"),
    _("Object id"),
    _("Address"),
    _("Detail"),
    _("Hash"),
)


def _optional_int(value):
    return int(value) if value not in ("", None) else None


class AuditFilterForm(Form):
    """The filters, read from the query string."""

    user = wtforms.SelectField(
        _("User"), coerce=_optional_int, invalid_choice_message=_("Choose one of the options.")
    )
    action = wtforms.SelectField(
        _("Action"), default="", invalid_choice_message=_("Choose one of the options.")
    )
    object_type = wtforms.SelectField(
        _("Object type"), default="", invalid_choice_message=_("Choose one of the options.")
    )
    object_id = wtforms.StringField(
        _("Object id"),
        [v.Optional(), v.Length(max=100)],
        # PostgreSQL refuses NUL in a string.
        filters=[lambda s: (s or "").replace("\x00", "").strip()],
    )
    date_from = wtforms.DateField(_("From"), [v.Optional()], format=["%Y-%m-%d", "%d-%m-%Y"])
    date_to = wtforms.DateField(_("Until"), [v.Optional()], format=["%Y-%m-%d", "%d-%m-%Y"])

    def __init__(self, request):
        super().__init__(request, bind=False)
        self.process(request.GET)


def _entries(request):
    return select(AuditEntry).where(AuditEntry.organisation_id == request.organisation.id)


def _distinct(request, column):
    return request.dbsession.scalars(
        select(column)
        .where(AuditEntry.organisation_id == request.organisation.id, column.is_not(None))
        .distinct()
        .order_by(column)
    ).all()


def _filter_form(request):
    form = AuditFilterForm(request)
    staff = request.dbsession.scalars(
        select(User).where(User.organisation_id == request.organisation.id).order_by(User.name)
    ).all()
    everything = ("", _("All"))
    form.user.choices = options([("", _("Everyone")), *((u.id, u.name) for u in staff)])
    form.action.choices = options(
        [everything, *((a, a) for a in _distinct(request, AuditEntry.action))]
    )
    form.object_type.choices = options(
        [everything, *((t, t) for t in _distinct(request, AuditEntry.object_type))]
    )
    return form


def _local_midnight(request, day):
    return to_utc(datetime.combine(day, time()), request.organisation)


def _filtered(request, form):
    """The organisation's entries matching the filters that are valid, newest first."""
    form.validate()
    ok = {field.name: field.data for field in form if not field.errors and field.data}
    query = _entries(request)
    if "user" in ok:
        query = query.where(AuditEntry.user_id == ok["user"])
    for name in ("action", "object_type", "object_id"):
        if name in ok:
            query = query.where(getattr(AuditEntry, name) == ok[name])
    if "date_from" in ok:
        query = query.where(AuditEntry.at >= _local_midnight(request, ok["date_from"]))
    if "date_to" in ok:
        query = query.where(
            AuditEntry.at < _local_midnight(request, ok["date_to"] + timedelta(days=1))
        )
    return query.order_by(AuditEntry.seq.desc())


def _filters_used(form):
    return {field.name: str(field.data) for field in form if not field.errors and field.data}


@view_config(route_name="audit_log", renderer="audit/list.html", permission="organisation.manage")
def audit_log(request):
    form = _filter_form(request)
    page = paginate(request.dbsession, _filtered(request, form), page_number(request), PAGE_SIZE)
    org = request.organisation
    query = [(k, val) for k, val in request.GET.items() if k != "page"]
    return {
        "form": form,
        "page": page,
        "query": query,
        "local": lambda entry: to_local(entry.at, org),
    }


@view_config(route_name="audit_export", permission="organisation.manage")
def audit_export(request):
    form = _filter_form(request)
    entries = request.dbsession.scalars(_filtered(request, form)).all()
    org = request.organisation
    rows = (
        [
            e.id,
            to_local(e.at, org).isoformat(timespec="seconds"),
            e.user_id,
            e.user_name,
            e.support_user_id,
            e.support_user_name,
            e.action,
            e.object_type,
            e.object_id,
            e.address,
            canonical_json(e.detail),
            e.hash,
        ]
        for e in entries
    )
    t = request.localizer.translate
    # Reading the trail is itself an event worth keeping.
    record(request, "audit.export", filters=_filters_used(form), rows=len(entries))
    response = Response(
        body=csv_bytes([t(h) for h in EXPORT_HEADER], rows),
        content_type="text/csv",
        charset="utf-8",
    )
    response.content_disposition = 'attachment; filename="audit-trail.csv"'
    response.cache_control = "no-store"
    return response


def includeme(config):
    config.add_route("audit_log", "/organisation/audit", site="organisation")
    config.add_route("audit_export", "/organisation/audit.csv", site="organisation")
    config.scan(__name__)
