"""The organisation admin's page of the audit trail: filters, pages and the
CSV export of what the filters select, for the request's organisation only.

Neither grows with the trail's length: the filters offer the organisation's
facets (kept by the chainer, ``consultroom.audit.models.AuditFacet``), and a
page is read by keyset (the entries before or after a seq, from the indexes
on ``(organisation_id, ..., seq)``), so the oldest page costs what the newest
does. Only the unfiltered trail says how many entries it has (its chain's
length); counting a filter's matches would read them all.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import wtforms
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from wtforms import validators as v

from consultroom.audit import record
from consultroom.audit.chain import canonical_json
from consultroom.audit.models import ACTION, OBJECT_TYPE, USER, AuditChain, AuditEntry, AuditFacet
from consultroom.i18n import _
from consultroom.tenancy.timezones import to_local, to_utc
from consultroom.web.forms import Form, options
from consultroom.web.listing import csv_bytes

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


def _facets(request):
    """{kind: [(value, label)]} of what occurs in the organisation's trail."""
    found = {USER: [], ACTION: [], OBJECT_TYPE: []}
    rows = request.dbsession.execute(
        select(AuditFacet.kind, AuditFacet.value, AuditFacet.label)
        .where(AuditFacet.organisation_id == request.organisation.id)
        .order_by(AuditFacet.label, AuditFacet.value)
    )
    for kind, value, label in rows:
        found.setdefault(kind, []).append((value, label))
    return found


def _filter_form(request):
    form = AuditFilterForm(request)
    everything = ("", _("All"))
    facets = _facets(request)
    form.user.choices = options(
        [("", _("Everyone")), *((int(value), label) for value, label in facets[USER])]
    )
    form.action.choices = options([everything, *facets[ACTION]])
    form.object_type.choices = options([everything, *facets[OBJECT_TYPE]])
    return form


def _local_midnight(request, day):
    return to_utc(datetime.combine(day, time()), request.organisation)


def _filtered(request, form):
    """The organisation's entries matching the filters that are valid."""
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
    return query


def _filters_used(form):
    return {field.name: str(field.data) for field in form if not field.errors and field.data}


CURSORS = ("before", "after")


@dataclass
class TrailPage:
    """Up to PAGE_SIZE entries, newest first, and whether there are newer and
    older ones beyond them."""

    items: list
    newer: bool
    older: bool


def _cursor(request, name):
    """The ``before`` or ``after`` parameter: a seq, or None when missing or nonsense."""
    raw = request.GET.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _any(request, query):
    return request.dbsession.scalar(query.with_only_columns(AuditEntry.id).limit(1)) is not None


def _read_page(request, query, before, after):
    seq = AuditEntry.seq
    if after is not None:  # the page just newer than ``after``; 0: the oldest page
        rows = request.dbsession.scalars(
            query.where(seq > after).order_by(seq).limit(PAGE_SIZE + 1)
        ).all()
        items = rows[:PAGE_SIZE][::-1]
        return TrailPage(items, len(rows) > PAGE_SIZE, _any(request, query.where(seq <= after)))
    older_than = query if before is None else query.where(seq < before)
    rows = request.dbsession.scalars(older_than.order_by(seq.desc()).limit(PAGE_SIZE + 1)).all()
    newer = before is not None and _any(request, query.where(seq >= before))
    return TrailPage(rows[:PAGE_SIZE], newer, len(rows) > PAGE_SIZE)


def _page(request, query):
    """The page the cursors ask for; past either end, the newest page."""
    before, after = _cursor(request, "before"), _cursor(request, "after")
    page = _read_page(request, query, before, after)
    if not page.items and (before, after) != (None, None):
        page = _read_page(request, query, None, None)
    return page


def _length(request):
    """How many entries the organisation's trail has, from its chain's head."""
    head = request.dbsession.get(AuditChain, request.organisation.id)
    return head.length if head is not None else 0


@view_config(route_name="audit_log", renderer="audit/list.html", permission="organisation.manage")
def audit_log(request):
    form = _filter_form(request)
    page = _page(request, _filtered(request, form))
    org = request.organisation
    query = [(k, val) for k, val in request.GET.items() if k not in (*CURSORS, "page")]
    return {
        "form": form,
        "page": page,
        "total": None if _filters_used(form) else _length(request),
        "query": query,
        "local": lambda entry: to_local(entry.at, org),
    }


@view_config(route_name="audit_export", permission="organisation.manage")
def audit_export(request):
    form = _filter_form(request)
    entries = request.dbsession.scalars(
        _filtered(request, form).order_by(AuditEntry.seq.desc())
    ).all()
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
