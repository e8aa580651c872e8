"""Administrators' pages for the template sets of client e-mail: list (with
a search box, filters and pages), add, edit, delete and a preview with sample
data.

An organisation admin manages every set of the organisation. A department
admin manages the sets of their own department only: a set used by no other
department and not the organisation's default (which serves every
department). Any other set is neither listed nor found by its id for them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import false, select
from sqlalchemy.orm import selectinload

from consultroom.accounts.models import Role
from consultroom.audit import record
from consultroom.clientmail.compose import render, texts, values
from consultroom.clientmail.defaults import default_texts
from consultroom.clientmail.forms import KIND_LABELS, TemplateSetForm, body_field, subject_field
from consultroom.clientmail.models import KINDS, Template, TemplateSet
from consultroom.clientmail.placeholders import available, plugin_placeholders, problem_messages
from consultroom.clients.contact import language_of
from consultroom.i18n import LANGUAGES, _, localizer_for
from consultroom.tenancy.models import Department
from consultroom.tenancy.timezones import local_now, to_utc
from consultroom.web import ID, flash
from consultroom.web.forms import options
from consultroom.web.listing import page_number, paginate, search

PERMISSION = "department.manage"
NO_DEPARTMENT = "none"  # the department filter's "used by no department"


def _sets(request):
    return select(TemplateSet).where(TemplateSet.organisation_id == request.organisation.id)


def own_department(request):
    """The department a department admin is limited to; None for an
    organisation admin, who is limited to none."""
    user = request.identity
    return None if user.role is Role.org_admin else user.department_id


def _is_department_admin(request):
    return request.identity.role is not Role.org_admin


def manageable_sets(request):
    """The sets the logged-in administrator may see and change."""
    query = _sets(request)
    if not _is_department_admin(request):
        return query
    department_id = own_department(request)
    if department_id is None:
        return query.where(false())
    return query.where(
        TemplateSet.is_default.is_(False),
        TemplateSet.departments.any(Department.id == department_id),
        ~TemplateSet.departments.any(Department.id != department_id),
    )


def _departments(request):
    """The departments the administrator may give a set to."""
    departments = request.organisation.departments
    if _is_department_admin(request):
        return [d for d in departments if d.id == own_department(request)]
    return departments


def _template_set(request):
    """The set in the URL, if the administrator may manage it; else 404."""
    set_id = int(request.matchdict["id"])  # the route allows only digits
    found = request.dbsession.scalar(manageable_sets(request).where(TemplateSet.id == set_id))
    if found is None:
        raise HTTPNotFound()
    return found


def _page(request, form, template_set):
    return {
        "form": form,
        "template_set": template_set,
        "kinds": KINDS,
        "kind_labels": KIND_LABELS,
        "subject_field": subject_field,
        "body_field": body_field,
        "placeholders": available(request),
    }


def _form(request, template_set=None):
    if template_set is None:
        # A new set starts from the built-in texts of the language asked for.
        language = request.params.get("language")
        if language not in LANGUAGES:
            language = language_of(None, request.organisation)
        initial = {
            "language": language,
            "departments": list(filter(None, [own_department(request)])),
        }
        localizer = localizer_for(request.registry, language)
        for kind in KINDS:
            initial[subject_field(kind)], initial[body_field(kind)] = default_texts(localizer, kind)
    else:
        initial = {
            "name": template_set.name,
            "language": template_set.language,
            "is_default": template_set.is_default,
            "departments": [d.id for d in template_set.departments],
        }
        for template in template_set.templates:
            initial[subject_field(template.kind)] = template.subject
            initial[body_field(template.kind)] = template.body
    form = TemplateSetForm(request, **initial)
    form.departments.choices = options((d.id, d.name) for d in _departments(request))
    if _is_department_admin(request):
        # A default set serves every department: the organisation admin's.
        del form.is_default
    return form


def _check_placeholders(request, form):
    allowed = available(request)
    for kind in KINDS:
        for name in (subject_field(kind), body_field(kind)):
            for message in problem_messages(form[name].data, allowed):
                form.add_error(name, message)


def chosen_departments(request, form):
    """The departments chosen on the form; a department admin's set is always
    their own department's (else they could no longer find it)."""
    if _is_department_admin(request):
        return {own_department(request)}
    return set(form.departments.data or [])


def _check_departments(request, form, template_set):
    """A department has at most one set per language: otherwise which one
    its clients get would be a matter of chance."""
    chosen = chosen_departments(request, form)
    if not chosen:
        return
    others = _sets(request).where(TemplateSet.language == form.language.data)
    if template_set is not None:
        others = others.where(TemplateSet.id != template_set.id)
    for other in request.dbsession.scalars(
        others.where(TemplateSet.departments.any(Department.id.in_(chosen)))
    ):
        for department in other.departments:
            if department.id in chosen:
                form.add_error(
                    "departments",
                    _(
                        "${department} already has the set ${set} in this language.",
                        mapping={"department": department.name, "set": other.name},
                    ),
                )


def _save(request, form, template_set):
    org = request.organisation
    action = "mail_templates.create" if template_set.id is None else "mail_templates.update"
    template_set.organisation_id = org.id
    template_set.name = form.name.data
    template_set.language = form.language.data
    template_set.is_default = form.is_default.data if "is_default" in form else False
    chosen = chosen_departments(request, form)
    template_set.departments = [d for d in _departments(request) if d.id in chosen]
    by_kind = {t.kind: t for t in template_set.templates}
    for kind in KINDS:
        template = by_kind.get(kind) or Template(kind=kind)
        template.subject = form[subject_field(kind)].data
        template.body = form[body_field(kind)].data
        if kind not in by_kind:
            template_set.templates.append(template)
    request.dbsession.add(template_set)
    request.dbsession.flush()
    record(
        request,
        action,
        "mail_template_set",
        template_set.id,
        name=template_set.name,
        language=template_set.language,
    )
    if template_set.is_default:  # only one default per language
        for other in request.dbsession.scalars(
            _sets(request).where(
                TemplateSet.language == template_set.language,
                TemplateSet.is_default,
                TemplateSet.id != template_set.id,
            )
        ):
            other.is_default = False
    flash(
        request,
        _("The template set ${name} is saved.", mapping={"name": template_set.name}),
        "success",
    )
    return HTTPSeeOther(request.route_path("mail_templates"))


def _edit(request, template_set):
    form = _form(request, template_set)
    if request.method == "POST" and form.validate():
        _check_placeholders(request, form)
        _check_departments(request, form, template_set)
        if not form.problems:
            return _save(request, form, template_set or TemplateSet())
    return _page(request, form, template_set)


def _filters(request):
    """The list's search words, language and department, each ignored when
    it is not one the list offers (a hand-made address lists everything)."""
    q = request.params.get("q", "").strip()[:200]
    language = request.params.get("language", "")
    department = request.params.get("department", "")
    offered = {str(d.id) for d in _departments(request)} | {NO_DEPARTMENT}
    return {
        "q": q,
        "language": language if language in LANGUAGES else "",
        "department": department if department in offered else "",
    }


def _filtered(request, filters):
    query = search(manageable_sets(request), [TemplateSet.name], filters["q"])
    if filters["language"]:
        query = query.where(TemplateSet.language == filters["language"])
    if filters["department"] == NO_DEPARTMENT:
        query = query.where(~TemplateSet.departments.any())
    elif filters["department"]:
        department_id = int(filters["department"])
        query = query.where(TemplateSet.departments.any(Department.id == department_id))
    return query.order_by(TemplateSet.language, TemplateSet.name, TemplateSet.id)


@view_config(route_name="mail_templates", renderer="clientmail/sets.html", permission=PERMISSION)
def template_sets(request):
    filters = _filters(request)
    listed = _filtered(request, filters).options(selectinload(TemplateSet.departments))
    page = paginate(request.dbsession, listed, page_number(request))
    return {
        "page": page,
        "filters": filters,
        "query": [(k, v) for k, v in filters.items() if v],
        "languages": LANGUAGES,
        "departments": _departments(request),
        "department_admin": _is_department_admin(request),
        "no_department": NO_DEPARTMENT,
    }


@view_config(
    route_name="mail_template_new", renderer="clientmail/set_form.html", permission=PERMISSION
)
def template_set_new(request):
    return _edit(request, None)


@view_config(
    route_name="mail_template_edit", renderer="clientmail/set_form.html", permission=PERMISSION
)
def template_set_edit(request):
    return _edit(request, _template_set(request))


@view_config(route_name="mail_template_delete", permission=PERMISSION, request_method="POST")
def template_set_delete(request):
    template_set = _template_set(request)
    record(
        request,
        "mail_templates.delete",
        "mail_template_set",
        template_set.id,
        name=template_set.name,
    )
    request.dbsession.delete(template_set)
    flash(
        request,
        _("The template set ${name} is deleted.", mapping={"name": template_set.name}),
        "success",
    )
    return HTTPSeeOther(request.route_path("mail_templates"))


@dataclass
class _SampleAppointment:
    """Looks like an appointment to ``values``, but is never stored."""

    starts_at: datetime
    client: SimpleNamespace
    practitioner: SimpleNamespace
    department: object = None
    duration_minutes: int = 20
    token: str = "example-link"
    message: str = ""

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)


def sample_values(request, language):
    """Placeholder values for a made-up appointment tomorrow at 10:00, and
    the plugins' samples."""
    org = request.organisation
    tomorrow = local_now(org).replace(tzinfo=None) + timedelta(days=1)
    localizer = localizer_for(request.registry, language)
    # A preview's sample link, not a secret.
    client = SimpleNamespace(display_name="J. Jansen", portal_token="example-portal")  # nosec B106
    appointment = _SampleAppointment(
        starts_at=to_utc(tomorrow.replace(hour=10, minute=0, second=0, microsecond=0), org),
        client=client,
        practitioner=SimpleNamespace(
            name=request.identity.name, department=request.identity.department
        ),
        message=localizer.translate(_("Please have your medication list at hand.")),
    )
    samples = {name: p.sample for name, p in plugin_placeholders(request).items()}
    return {**samples, **values(request, appointment, language)}


@view_config(
    route_name="mail_template_preview", renderer="clientmail/preview.html", permission=PERMISSION
)
def template_set_preview(request):
    template_set = _template_set(request)
    sample = sample_values(request, template_set.language)
    mails = [
        (
            KIND_LABELS[kind],
            *render(*texts(request, template_set, kind, template_set.language), sample),
        )
        for kind in KINDS
    ]
    return {"template_set": template_set, "mails": mails}


def includeme(config):
    org = "organisation"
    config.add_route("mail_templates", "/mail-templates", site=org)
    config.add_route("mail_template_new", "/mail-templates/new", site=org)
    config.add_route("mail_template_edit", f"/mail-templates/{ID}", site=org)
    config.add_route("mail_template_delete", f"/mail-templates/{ID}/delete", site=org)
    config.add_route("mail_template_preview", f"/mail-templates/{ID}/preview", site=org)
    config.scan(__name__)
