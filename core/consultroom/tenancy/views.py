"""Organisation admin pages: the organisation's details and logo, its
advanced settings, its API key, and departments."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.audit import changed_fields, record
from consultroom.i18n import _
from consultroom.secretbox import secret_box
from consultroom.tenancy.forms import DepartmentForm, OrganisationForm
from consultroom.tenancy.models import Department, Organisation
from consultroom.tenancy.options import ADVANCED_SETTINGS
from consultroom.tenancy.sections import sections_of
from consultroom.web import ID, flash
from consultroom.web.forms import Form
from consultroom.web.images import ImageRejected, fit_image, read_upload
from consultroom.web.themes import REGISTRY_KEY as THEMES
from consultroom.web.themes import css_version

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_BOX = (180, 50)
ADDRESS_LANGUAGES = ("nl", "en", "de", "sv")


@view_config(route_name="logo")
def logo(request):
    # Read by a query: the request's organisation comes from the cache
    # without its logo, and joins the request's session only once the
    # request has one (consultroom.db.add_when_opened).
    body = request.dbsession.scalar(
        select(Organisation.logo).where(Organisation.id == request.organisation.id)
    )
    if not body:
        raise HTTPNotFound()
    return Response(body=body, content_type="image/png", cache_control="public, max-age=300")


@view_config(route_name="custom_css")
def custom_css(request):
    """The organisation's custom CSS (checked when saved), as a stylesheet
    of our own origin; kept a year when asked for by its current version."""
    css = request.organisation.custom_css
    if not css:
        raise HTTPNotFound()
    response = Response(
        body=css.encode(), content_type="text/css", charset="utf-8", conditional_response=True
    )
    current = request.GET.get("v") == css_version(css)
    response.cache_control = "public, max-age=31536000, immutable" if current else "no-cache"
    response.md5_etag()
    return response


def _organisation_form(request, bind=True):
    org = request.organisation
    initial = {f"address_{lang}": org.address_forms.get(lang, "") for lang in ADDRESS_LANGUAGES}
    form = OrganisationForm(request, bind=bind, obj=org, **initial)
    themes = request.registry[THEMES]
    form.set_theme_choices(themes.choices(), themes.installed[themes.installation].title)
    return form


@view_config(
    route_name="organisation", renderer="organisation.html", permission="organisation.manage"
)
def organisation(request):
    org = request.organisation
    form = _organisation_form(request)
    if request.method == "POST" and form.validate():
        try:
            data = read_upload(request.POST.get("logo"), LOGO_MAX_BYTES)
            new_logo = fit_image(data, LOGO_BOX) if data else None
        except ImageRejected as exc:
            form.add_error("logo", exc.args[0])
        else:
            for field in (
                "name",
                "language",
                "timezone",
                "contact_email",
                "contact_phone",
                "contact_address",
                "contact_website",
                "theme",
                "custom_css",
            ):
                setattr(org, field, form[field].data or "")
            org.primary_colour = form.primary_colour.data.lower()
            org.accent_colour = form.accent_colour.data.lower()
            org.address_forms = {
                lang: form[f"address_{lang}"].data
                for lang in ADDRESS_LANGUAGES
                if form[f"address_{lang}"].data
            }
            if form.remove_logo.data:
                org.logo = None
            elif new_logo:
                org.logo = new_logo
            record(
                request, "organisation.update", "organisation", org.id, changed=changed_fields(org)
            )
            flash(request, _("The organisation's details are saved."), "success")
            return HTTPSeeOther(request.route_path("organisation"))
    return {"form": form, "api_key": None}


@view_config(
    route_name="api_key",
    renderer="organisation.html",
    permission="organisation.manage",
    request_method="POST",
)
def api_key(request):
    org = request.organisation
    key = org.rotate_api_key()
    record(request, "organisation.api_key_rotate", "organisation", org.id, hint=org.api_key_hint)
    # Shown once, in this response only: never stored in the session cookie,
    # nor kept by the browser's or a proxy's cache.
    request.response.cache_control = "no-store"
    return {"form": _organisation_form(request, bind=False), "api_key": key}


def _section_forms(request, posted):
    """(section, its form) for each section of the page: the ``posted`` one
    bound to what was sent, the others showing the stored values."""
    options = request.organisation.options
    return [
        (section, part.form_class(Form)(request, bind=section.key == posted, data=options), part)
        for section, part in sections_of(ADVANCED_SETTINGS)
    ]


def _save_section(request, section, form, part):
    """Save one section's form; False (with its fields' errors) if refused."""
    org = request.organisation
    if not form.validate():
        return False
    values = {**org.options, **part.from_form(form, org.settings, secret_box(request.registry))}
    problems = ADVANCED_SETTINGS.cross_check(values)
    for key, message in problems.items():
        # A rule may name an option of another section: it stays as it was.
        if key in form:
            form.add_error(key, message)
        else:
            form.form_errors.append(message)
    if problems:
        return False
    record(
        request,
        "organisation.settings_update",
        "organisation",
        org.id,
        changed=ADVANCED_SETTINGS.changes(org.options, values),
        section=section.key,
    )
    org.settings = values
    return True


@view_config(
    route_name="advanced_settings",
    renderer="advanced_settings.html",
    permission="organisation.manage",
)
def advanced_settings(request):
    posted = request.GET.get("section") if request.method == "POST" else None
    sections = _section_forms(request, posted)
    for section, form, part in sections:
        if section.key != posted:
            continue
        if _save_section(request, section, form, part):
            title = request.localizer.translate(section.title)
            flash(request, _("Saved: ${section}.", mapping={"section": title}), "success")
            url = request.route_path("advanced_settings", _anchor=f"settings-{section.key}")
            return HTTPSeeOther(url)
        request.response.status_int = 200
        form.refused = True
    return {"sections": [(section, form) for section, form, _part in sections]}


def _departments_query(request):
    query = select(Department).where(Department.organisation_id == request.organisation.id)
    # Who may manage the organisation manages every department; a department
    # admin only their own.
    if not request.has_permission("organisation.manage"):
        query = query.where(Department.id == request.identity.department_id)
    return query.order_by(Department.name)


def _department(request):
    """The department in the URL, if this user may manage it; else 404."""
    dept_id = int(request.matchdict["id"])  # the route allows only digits
    dept = request.dbsession.scalar(_departments_query(request).where(Department.id == dept_id))
    if dept is None:
        raise HTTPNotFound()
    return dept


def _name_taken(request, name, exclude_id=None):
    query = select(Department.id).where(
        Department.organisation_id == request.organisation.id, Department.name == name
    )
    if exclude_id is not None:
        query = query.where(Department.id != exclude_id)
    return request.dbsession.scalar(query) is not None


@view_config(route_name="departments", renderer="departments.html", permission="department.manage")
def departments(request):
    return {
        "departments": request.dbsession.scalars(_departments_query(request)).all(),
        "can_create": request.has_permission("organisation.manage"),
    }


def _save_department(request, dept, form):
    if _name_taken(request, form.name.data, exclude_id=dept.id):
        form.add_error("name", _("There is already a department with this name."))
        return None
    action = "department.create" if dept.id is None else "department.update"
    dept.name = form.name.data
    dept.arrival_email = form.arrival_email.data or ""
    request.dbsession.add(dept)
    request.dbsession.flush()
    record(request, action, "department", dept.id, name=dept.name)
    flash(request, _("The department is saved."), "success")
    return HTTPSeeOther(request.route_path("departments"))


@view_config(
    route_name="department_new", renderer="department_form.html", permission="organisation.manage"
)
def department_new(request):
    form = DepartmentForm(request)
    if request.method == "POST" and form.validate():
        saved = _save_department(request, Department(organisation_id=request.organisation.id), form)
        if saved:
            return saved
    return {"form": form, "department": None}


@view_config(
    route_name="department_edit", renderer="department_form.html", permission="department.manage"
)
def department_edit(request):
    dept = _department(request)
    form = DepartmentForm(request, obj=dept)
    if request.method == "POST" and form.validate():
        saved = _save_department(request, dept, form)
        if saved:
            return saved
    return {"form": form, "department": dept}


@view_config(
    route_name="department_delete", permission="organisation.manage", request_method="POST"
)
def department_delete(request):
    dept = _department(request)
    reasons = [
        r
        for result in request.hooks.consultroom_department_delete_blockers(
            request=request, department=dept
        )
        for r in (result or [])
    ]
    if reasons:
        for reason in reasons:
            flash(request, reason, "error")
        flash(request, _("${name} was not deleted.", mapping={"name": dept.name}), "error")
    else:
        record(request, "department.delete", "department", dept.id, name=dept.name)
        request.dbsession.delete(dept)
        flash(request, _("${name} is deleted.", mapping={"name": dept.name}), "success")
    return HTTPSeeOther(request.route_path("departments"))


def includeme(config):
    org = "organisation"
    config.add_route("logo", "/logo.png", site=org)
    config.add_route("custom_css", "/custom.css", site=org)
    config.add_route("organisation", "/organisation", site=org)
    config.add_route("api_key", "/organisation/api-key", site=org)
    config.add_route("advanced_settings", "/organisation/advanced", site=org)
    config.add_route("departments", "/departments", site=org)
    config.add_route("department_new", "/departments/new", site=org)
    config.add_route("department_edit", f"/departments/{ID}", site=org)
    config.add_route("department_delete", f"/departments/{ID}/delete", site=org)
    config.scan(__name__)
