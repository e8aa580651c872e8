"""The hosting provider's console on the bare base domain: organisations,
their package limits, and which plugins each has enabled.

A console request has no organisation in scope (``consultroom.db.scope``):
a page about one organisation reads that organisation's rows inside
``organisation_scope`` (``_about_organisation``), and no other's.
"""

import functools

import wtforms
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select
from wtforms import validators as v

from consultroom import plugins as plugin_service
from consultroom.accounts import service as accounts
from consultroom.accounts.models import Role
from consultroom.audit import record
from consultroom.db.scope import organisation_scope
from consultroom.i18n import _
from consultroom.plugins.models import PluginEnablement
from consultroom.remotesupport import support_staff
from consultroom.secretbox import secret_box
from consultroom.tenancy import service as tenancy
from consultroom.tenancy.models import Organisation
from consultroom.web import ID, flash
from consultroom.web.forms import EmailAddress, Form
from consultroom.web.sites import org_url


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class OrganisationForm(Form):
    # DataRequired, not InputRequired: a name of only spaces is empty once stripped.
    name = wtforms.StringField(_("Name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip])
    max_users = wtforms.IntegerField(
        _("Maximum staff members (package)"),
        [v.InputRequired(), v.NumberRange(1, 100000)],
        default=10,
    )


class NewOrganisationForm(OrganisationForm):
    subdomain = wtforms.StringField(
        _("Subdomain"),
        [v.InputRequired(), v.Length(max=63)],
        filters=[lambda s: (s or "").strip().lower()],
    )
    admin_name = wtforms.StringField(
        _("First administrator's name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip]
    )
    admin_email = wtforms.EmailField(
        _("First administrator's e-mail"),
        [v.InputRequired(), EmailAddress(), v.Length(max=254)],
        filters=[lambda s: (s or "").strip().lower()],
    )


@view_config(route_name="console", renderer="console/index.html", permission="console")
def index(request):
    orgs = request.dbsession.scalars(select(Organisation).order_by(Organisation.name)).all()
    return {
        "organisations": orgs,
        "plugins": request.registry.plugins.plugins.values(),
        "org_url": lambda o: org_url(request, o),
    }


@view_config(route_name="console_org_new", renderer="console/org_new.html", permission="console")
def org_new(request):
    form = NewOrganisationForm(request)
    if request.method == "POST" and form.validate():
        problem = tenancy.subdomain_problem(request.dbsession, form.subdomain.data)
        if problem:
            form.add_error("subdomain", problem)
        else:
            org = tenancy.create_organisation(
                request.dbsession,
                name=form.name.data,
                subdomain=form.subdomain.data,
                max_users=form.max_users.data,
            )
            record(
                request,
                "organisation.create",
                "organisation",
                org.id,
                organisation=org,
                subdomain=org.subdomain,
                max_users=org.max_users,
            )
            # Its first staff member: as on a page about the organisation.
            with organisation_scope(request.dbsession, org.id):
                accounts.create_staff(
                    request,
                    org,
                    name=form.admin_name.data,
                    email=form.admin_email.data,
                    role=Role.org_admin,
                )
            flash(
                request,
                _(
                    "${name} is created; its administrator has been invited.",
                    mapping={"name": org.name},
                ),
                "success",
            )
            return HTTPSeeOther(request.route_path("console_org", id=org.id))
    return {"form": form}


def _org(request):
    org = request.dbsession.get(Organisation, int(request.matchdict["id"]))
    if org is None:
        raise HTTPNotFound()
    return org


def _about_organisation(view):
    """A view of the organisation in the address, called as ``view(request,
    org)``: it reads that organisation's rows (its staff, its plugins), as a
    request on the organisation's own site would, and still no other's."""

    @functools.wraps(view)
    def about(request):
        org = _org(request)
        with organisation_scope(request.dbsession, org.id):
            return view(request, org)

    return about


def _plugin_rows(request, org):
    rows = {
        r.plugin: r
        for r in request.dbsession.scalars(
            select(PluginEnablement).where(PluginEnablement.organisation_id == org.id)
        )
    }
    return [(p, rows.get(p.id)) for p in request.registry.plugins.plugins.values()]


@view_config(route_name="console_org", renderer="console/org.html", permission="console")
@_about_organisation
def org_detail(request, org):
    form = OrganisationForm(request, obj=org)
    if request.method == "POST" and form.validate():
        record(
            request,
            "organisation.package_update",
            "organisation",
            org.id,
            organisation=org,
            old={"name": org.name, "max_users": org.max_users},
            new={"name": form.name.data, "max_users": form.max_users.data},
        )
        org.name, org.max_users = form.name.data, form.max_users.data
        flash(request, _("Saved."), "success")
        return HTTPSeeOther(request.route_path("console_org", id=org.id))
    # Not "org": that is the page's own organisation (none on the console),
    # whose colours, logo and contact details the layout shows.
    return {
        "organisation": org,
        "form": form,
        "plugins": _plugin_rows(request, org),
        "staff_count": accounts.staff_count(request.dbsession, org),
        "org_url": org_url(request, org),
        "support_staff": support_staff(request, org),
    }


@view_config(route_name="console_org_plugin", permission="console", request_method="POST")
@_about_organisation
def org_plugin(request, org):
    plugin_id = request.matchdict["plugin"]
    enable = request.POST.get("enabled") == "1"
    try:
        plugin_service.set_enabled(
            request.registry.plugins,
            request.dbsession,
            org,
            plugin_id,
            enable,
            box=secret_box(request.registry),
        )
    except plugin_service.PluginUnavailable as exc:
        flash(request, _("Cannot enable: ${reason}", mapping={"reason": str(exc)}), "error")
    else:
        record(
            request,
            "plugin.enable" if enable else "plugin.disable",
            "plugin",
            plugin_id,
            organisation=org,
        )
        message = _("${plugin} is enabled.") if enable else _("${plugin} is disabled.")
        flash(request, _(message, mapping={"plugin": plugin_id}), "success")
    return HTTPSeeOther(request.route_path("console_org", id=org.id))


@view_config(
    route_name="console_org_plugin_settings",
    renderer="console/plugin_settings.html",
    permission="console",
)
@_about_organisation
def org_plugin_settings(request, org):
    plugin = request.registry.plugins.get(request.matchdict["plugin"])
    if plugin is None or not plugin.usable or plugin.info.settings is None:
        raise HTTPNotFound()
    options = plugin.info.settings
    row = plugin_service.enablement(request.dbsession, org, plugin.id)
    form = options.form_class(Form)(request, data=options.values(row.settings if row else {}))
    if request.method == "POST" and form.validate():
        values = options.from_form(form, row.settings if row else {}, secret_box(request.registry))
        problems = options.cross_check(values)
        for key, message in problems.items():
            form.add_error(key, message)
        if not problems:
            if row is None:
                row = PluginEnablement(organisation_id=org.id, plugin=plugin.id, enabled=False)
                request.dbsession.add(row)
            # The names only: a plugin's settings may hold its own secrets.
            record(
                request,
                "plugin.settings_update",
                "plugin",
                plugin.id,
                organisation=org,
                changed=sorted(k for k in values if values[k] != (row.settings or {}).get(k)),
            )
            row.settings = values
            flash(request, _("Saved."), "success")
            return HTTPSeeOther(request.route_path("console_org", id=org.id))
    return {"organisation": org, "plugin": plugin, "form": form}


def includeme(config):
    console = "console"
    config.add_route("console", "/", site=console)
    config.add_route("console_org_new", "/organisations/new", site=console)
    config.add_route("console_org", f"/organisations/{ID}", site=console)
    config.add_route("console_org_plugin", f"/organisations/{ID}/plugins/{{plugin}}", site=console)
    config.add_route(
        "console_org_plugin_settings",
        f"/organisations/{ID}/plugins/{{plugin}}/settings",
        site=console,
    )
    config.scan(__name__)
