"""The usage report (the seed's "Usage"): the last 40 days up to yesterday,
as the worker computed them last night: appointments per day as a graph and
a table, no-shows, consultation time, and what each staff member did; a
department admin reads their department's, an organisation admin every
department's or the whole organisation's. CSV export of the same rows."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from consultroom.accounts.models import Role
from consultroom.i18n import _
from consultroom.reports import figures
from consultroom.reports.graph import bars_svg
from consultroom.web.listing import csv_bytes

PERMISSION = "department.manage"
CSV_HEADER = [
    _("Day"),
    _("Department"),
    _("Staff member"),
    _("Booked"),
    _("Held"),
    _("No-shows"),
    _("Cancelled"),
    _("Consultations"),
    _("Consultation minutes"),
    _("Logins"),
    _("Connection problems"),
]


def _department(request):
    """The department asked for (``?department=<id>``) among those the user
    may read, or None for the whole organisation (organisation admins only);
    raises 404 for any other."""
    choices = figures.departments_for(request)
    wanted = request.params.get("department", "")
    if request.identity.role is not Role.org_admin:
        if not choices or wanted not in ("", str(choices[0].id)):
            raise HTTPNotFound()
        return choices[0], choices
    if not wanted:
        return None, choices
    found = [d for d in choices if str(d.id) == wanted]
    if not found:
        raise HTTPNotFound()
    return found[0], choices


@view_config(route_name="usage_report", renderer="reports/usage.html", permission=PERMISSION)
def usage(request):
    department, choices = _department(request)
    report = figures.report(request, department)
    t = request.localizer.translate
    graph = bars_svg(
        report.days,
        t(_("Appointments per day")),
        t(
            _(
                "${held} held and ${missed} missed appointments from ${first} to ${last}.",
                mapping={
                    "held": report.total.held,
                    "missed": report.total.no_shows,
                    "first": report.first.isoformat(),
                    "last": report.last.isoformat(),
                },
            )
        ),
        (t(_("Held")), t(_("No-shows"))),
    )
    return {
        "report": report,
        "graph": graph,
        "department": department,
        "departments": choices,
        "can_choose": request.identity.role is Role.org_admin,
    }


@view_config(route_name="usage_export", permission=PERMISSION)
def export(request):
    department, _choices = _department(request)
    rows = figures.rows(request, department)
    names = figures.names(request, rows)
    t = request.localizer.translate
    body = csv_bytes(
        [t(h) for h in CSV_HEADER],
        (
            [
                row.day.isoformat(),
                names["departments"].get(row.department_id, ""),
                names["users"].get(row.user_id, ""),
                row.booked,
                row.held,
                row.no_shows,
                row.cancelled,
                row.consultations,
                round(row.consultation_seconds / 60),
                row.logins,
                row.connection_problems,
            ]
            for row in rows
        ),
    )
    response = Response(body=body, content_type="text/csv", charset="utf-8")
    response.content_disposition = 'attachment; filename="usage.csv"'
    response.cache_control = "no-store"
    return response


def includeme(config):
    config.add_route("usage_report", "/reports/usage", site="organisation")
    config.add_route("usage_export", "/reports/usage.csv", site="organisation")
    config.scan(__name__)
