"""The questionnaire editor, for organisation admins (every questionnaire)
and department admins (their own department's): create, edit (settings and
fields: add, change, move up and down, delete), duplicate, delete, preview.
An edit of a questionnaire that clients answered goes to a new version
(service.editable_version); the page says so."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consultroom.accounts.models import Role
from consultroom.audit import record
from consultroom.tenancy.models import Department
from consultroom.web import flash
from consultroom.web.inputs import CONTROL
from consultroom_questionnaires import fieldtypes, service, viewlog
from consultroom_questionnaires.i18n import _, page
from consultroom_questionnaires.models import Questionnaire

TEMPLATES = "consultroom_questionnaires:templates/"
MANAGE = "department.manage"
TITLE_MAX = 200
WHOLE_ORGANISATION = ""


def _departments(request):
    """The departments the administrator may give a questionnaire to."""
    user = request.identity
    query = select(Department).where(Department.organisation_id == request.organisation.id)
    if user.role is not Role.org_admin:
        query = query.where(Department.id == user.department_id)
    return request.dbsession.scalars(query.order_by(Department.name, Department.id)).all()


def _settings_from_post(request):
    """``(values, problems)`` of the settings form: title, department, required."""
    post = request.POST
    problems = {}
    title = post.get("title", "").strip()
    if not title:
        problems["title"] = _("Give the questionnaire a title.")
    elif len(title) > TITLE_MAX or CONTROL.search(title):
        problems["title"] = _(
            "Write a title of at most ${n} characters, without control characters.",
            mapping={"n": TITLE_MAX},
        )
    chosen = post.get("department", WHOLE_ORGANISATION)
    allowed = {str(d.id): d.id for d in _departments(request)}
    if request.identity.role is Role.org_admin:
        allowed[WHOLE_ORGANISATION] = None
    if chosen not in allowed:
        problems["department"] = _("Choose one of the departments.")
    values = {
        "title": title,
        "department_id": allowed.get(chosen),
        "required": post.get("required") == "yes",
        "for_booking": post.get("for_booking") == "yes",
        "for_walk_in": post.get("for_walk_in") == "yes",
    }
    return values, problems


def _apply_settings(questionnaire, values):
    questionnaire.department_id = values["department_id"]
    for name in ("required", "for_booking", "for_walk_in"):
        setattr(questionnaire, name, values[name])


def _list_page(request, **values):
    questionnaires = request.dbsession.scalars(
        service.managed_questionnaires(request)
        .options(selectinload(Questionnaire.versions))
        .order_by(Questionnaire.id)
    ).all()
    questionnaires = sorted(questionnaires, key=lambda q: q.title.casefold())
    defaults = {
        "questionnaires": questionnaires,
        "departments": _departments(request),
        "may_choose_whole": request.identity.role is Role.org_admin,
        "problems": {},
        "posted": None,
    }
    return page(request, **{**defaults, **values})


@view_config(route_name="questionnaires.list", renderer=TEMPLATES + "list.html", permission=MANAGE)
def questionnaire_list(request):
    if request.method == "POST":
        values, problems = _settings_from_post(request)
        if not problems:
            questionnaire = service.create(
                request, values["title"], values["department_id"], values["required"]
            )
            _apply_settings(questionnaire, values)
            record(request, "questionnaires.create", "questionnaire", questionnaire.id)
            flash(request, _("Questionnaire created: now add its fields."))
            return HTTPSeeOther(request.route_path("questionnaires.edit", id=questionnaire.id))
        request.response.status = 400
        return _list_page(request, problems=problems, posted=request.POST)
    return _list_page(request)


def _editor_page(request, questionnaire, **values):
    latest = questionnaire.latest
    defaults = {
        "questionnaire": questionnaire,
        "version": latest,
        "answered": service.answered(request, latest),
        "types": fieldtypes.TYPES,
        "departments": _departments(request),
        "may_choose_whole": request.identity.role is Role.org_admin,
        "views": viewlog.views_of(request, questionnaire),
        "problems": {},
        "field_problems": {},
        "posted": None,
        "posted_key": None,
    }
    return page(request, **{**defaults, **values})


@view_config(
    route_name="questionnaires.edit", renderer=TEMPLATES + "editor.html", permission=MANAGE
)
def questionnaire_edit(request):
    questionnaire = service.managed_or_404(request)
    if request.method == "POST":
        values, problems = _settings_from_post(request)
        if problems:
            request.response.status = 400
            return _editor_page(request, questionnaire, problems=problems, posted=request.POST)
        if values["title"] != questionnaire.title:
            service.editable_version(request, questionnaire).title = values["title"]
        _apply_settings(questionnaire, values)
        record(request, "questionnaires.change", "questionnaire", questionnaire.id)
        flash(request, _("Saved."))
        return HTTPSeeOther(request.route_path("questionnaires.edit", id=questionnaire.id))
    return _editor_page(request, questionnaire)


def _field_from_post(request, kind):
    """``(definition, problems)`` of the field from the post."""
    post = request.POST
    checked = fieldtypes.check_definition(
        kind, post.get("label"), post.get("help"), post.get("options")
    )
    if isinstance(checked, dict):
        return None, checked
    label, help_text, options = checked
    asks = fieldtypes.TYPES[kind].asks
    definition = {
        "type": kind,
        "label": label,
        "help": help_text,
        "required": asks and post.get("required") == "yes",
        "options": options,
    }
    return definition, {}


def _field_refused(request, questionnaire, key, problems):
    request.response.status = 400
    return _editor_page(
        request,
        questionnaire,
        field_problems={key: problems},
        posted=request.POST,
        posted_key=key,
    )


def _back_to(request, questionnaire, key=None):
    url = request.route_path("questionnaires.edit", id=questionnaire.id)
    return HTTPSeeOther(url + (f"#field-{key}" if key else "#fields"))


@view_config(
    route_name="questionnaires.field_add",
    renderer=TEMPLATES + "editor.html",
    permission=MANAGE,
    request_method="POST",
)
def field_add(request):
    questionnaire = service.managed_or_404(request)
    definition, problems = _field_from_post(request, request.POST.get("type", ""))
    if not problems:
        version = service.editable_version(request, questionnaire)
        key = fieldtypes.new_key()
        service.set_fields(version, [*version.fields, {"key": key, **definition}])
        record(request, "questionnaires.change", "questionnaire", questionnaire.id)
        flash(request, _("Field added."))
        return _back_to(request, questionnaire, key)
    return _field_refused(request, questionnaire, "new", problems)


def _field_index(version, key):
    for index, field in enumerate(version.fields):
        if field["key"] == key:
            return index
    raise HTTPNotFound()


def _move(fields, index, step):
    other = index + step
    if 0 <= other < len(fields):
        fields[index], fields[other] = fields[other], fields[index]
    return fields


@view_config(
    route_name="questionnaires.field",
    renderer=TEMPLATES + "editor.html",
    permission=MANAGE,
    request_method="POST",
)
def field_change(request):
    """One field's form: save it, move it up or down, or delete it."""
    questionnaire = service.managed_or_404(request)
    key = request.matchdict["key"]
    current = questionnaire.latest.fields[_field_index(questionnaire.latest, key)]
    action = request.POST.get("action", "save")
    if action == "save":
        definition, problems = _field_from_post(request, current["type"])
        if problems:
            return _field_refused(request, questionnaire, key, problems)
    elif action not in ("up", "down", "delete"):
        raise HTTPNotFound()
    version = service.editable_version(request, questionnaire)
    fields = [dict(f) for f in version.fields]
    index = _field_index(version, key)
    if action == "save":
        fields[index] = {"key": key, **definition}
        flash(request, _("Field saved."))
    elif action == "delete":
        del fields[index]
        flash(request, _("Field deleted."))
        key = None
    else:
        _move(fields, index, -1 if action == "up" else 1)
    service.set_fields(version, fields)
    record(request, "questionnaires.change", "questionnaire", questionnaire.id)
    return _back_to(request, questionnaire, key)


@view_config(route_name="questionnaires.duplicate", request_method="POST", permission=MANAGE)
def questionnaire_duplicate(request):
    questionnaire = service.managed_or_404(request)
    title = request.localizer.translate(
        _("${title} (copy)", mapping={"title": questionnaire.title})
    )[:TITLE_MAX]
    copied = service.duplicate(request, questionnaire, title)
    record(request, "questionnaires.create", "questionnaire", copied.id, copy_of=questionnaire.id)
    flash(request, _("Questionnaire duplicated."))
    return HTTPSeeOther(request.route_path("questionnaires.edit", id=copied.id))


@view_config(route_name="questionnaires.delete", request_method="POST", permission=MANAGE)
def questionnaire_delete(request):
    questionnaire = service.managed_or_404(request)
    record(request, "questionnaires.delete", "questionnaire", questionnaire.id)
    service.remove(request, questionnaire)
    flash(request, _("Questionnaire deleted."))
    return HTTPSeeOther(request.route_path("questionnaires.list"))


@view_config(
    route_name="questionnaires.preview", renderer=TEMPLATES + "preview.html", permission=MANAGE
)
def questionnaire_preview(request):
    questionnaire = service.managed_or_404(request)
    return page(
        request,
        questionnaire=questionnaire,
        version=questionnaire.latest,
        answers={},
        problems={},
        countries=fieldtypes.countries(request.locale_name),
    )


def includeme(config):
    config.add_plugin_route("questionnaires.list", "/questionnaires")
    config.add_plugin_route("questionnaires.edit", r"/questionnaires/{id:\d{1,9}}")
    config.add_plugin_route("questionnaires.field_add", r"/questionnaires/{id:\d{1,9}}/fields")
    config.add_plugin_route(
        "questionnaires.field", r"/questionnaires/{id:\d{1,9}}/fields/{key:f[0-9a-f]{10}}"
    )
    config.add_plugin_route("questionnaires.duplicate", r"/questionnaires/{id:\d{1,9}}/duplicate")
    config.add_plugin_route("questionnaires.delete", r"/questionnaires/{id:\d{1,9}}/delete")
    config.add_plugin_route("questionnaires.preview", r"/questionnaires/{id:\d{1,9}}/preview")
    config.scan(".editor")
