""" "Configure SSO": an organisation admin's list of connections to identity
providers, and the form that adds, changes and deletes one.

The client secret is a secret: stored encrypted with the core's secret box,
never put back into the form (an empty field keeps the stored one), never
in the audit trail.
"""

import wtforms
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select
from wtforms import validators as v

from consultroom.accounts.models import ROLE_LABELS, STAFF_ROLES, Role
from consultroom.audit import record
from consultroom.secretbox import secret_box
from consultroom.tenancy.models import Department
from consultroom.web import ID, flash
from consultroom.web.forms import Form, options
from consultroom.web.images import ImageRejected, read_upload
from consultroom.web.sites import org_url
from consultroom_sso import saml
from consultroom_sso.i18n import _, page
from consultroom_sso.models import Connection, Kind
from consultroom_sso.shared import secure_address, split_list

MANAGE = "organisation.manage"
TEMPLATES = "consultroom_sso:templates/"
KIND_LABELS = {
    Kind.google: _("Google"),
    Kind.microsoft: _("Microsoft"),
    Kind.oidc: _("Other OpenID Connect provider"),
    Kind.saml: _("SAML 2.0 identity provider"),
}
# Where a kind's provider publishes its discovery document, when the form leaves it empty.
DEFAULT_ISSUERS = {
    Kind.google: "https://accounts.google.com",
    Kind.microsoft: "https://login.microsoftonline.com/organizations/v2.0",
}
# Changes named in the audit trail (the secret only as "changed").
AUDITED = (
    "name",
    "enabled",
    "button_text",
    "kind",
    "role",
    "department_id",
    "create_users",
    "password_login",
    "accept_mfa",
    "issuer",
    "client_id",
    "allowed_domains",
    "allowed_tenants",
    "idp_metadata_url",
    "email_attribute",
    "name_attribute",
)


# The form's fields in groups (fieldsets): what applies to which kind.
FORM_GROUPS = (
    (_("Connection"), ("name", "enabled", "button_text", "kind")),
    (
        _("OpenID Connect (Google, Microsoft, others)"),
        (
            "issuer",
            "client_id",
            "client_secret",
            "allowed_domains",
            "allowed_tenants",
            "accept_mfa",
        ),
    ),
    (
        _("SAML 2.0"),
        ("idp_metadata_file", "idp_metadata_url", "email_attribute", "name_attribute"),
    ),
    (_("Staff"), ("create_users", "role", "department_id", "password_login")),
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _enum_value(value):
    return value.value if hasattr(value, "value") else value


def _text(label, length, required=True, description=None):
    checks = [v.InputRequired() if required else v.Optional(), v.Length(max=length)]
    return wtforms.StringField(label, checks, filters=[_strip], description=description)


class ConnectionForm(Form):
    name = _text(_("Name"), 100)
    enabled = wtforms.BooleanField(_("Enabled"), default=True)
    button_text = _text(
        _("Button text"),
        100,
        description=_('What the login page\'s button says: "Log in with Google".'),
    )
    kind = wtforms.SelectField(_("Kind"), coerce=_enum_value)
    issuer = _text(
        _("Issuer"),
        500,
        required=False,
        description=_(
            "The provider's address; its discovery document is read from"
            " /.well-known/openid-configuration. Empty for Google and Microsoft:"
            " their own."
        ),
    )
    client_id = _text(_("Client id"), 500, required=False, description=_("OpenID Connect."))
    client_secret = wtforms.PasswordField(
        _("Client secret"),
        [v.Optional(), v.Length(max=500)],
        description=_(
            "Stored encrypted and never shown again; leave empty to keep the stored one."
        ),
    )
    allowed_domains = _text(
        _("Allowed Google domains"),
        1000,
        required=False,
        description=_(
            "Google: the Workspace domains (hd) whose accounts may log in, separated by commas."
        ),
    )
    allowed_tenants = _text(
        _("Allowed Microsoft tenants"),
        1000,
        required=False,
        description=_(
            "Microsoft: the tenant ids (tid) whose accounts may log in, separated by commas."
        ),
    )
    idp_metadata_file = wtforms.FileField(
        _("Identity provider's metadata (upload)"),
        description=_("SAML: the XML document, at most 500 kB; replaces the stored one."),
    )
    idp_metadata_url = _text(
        _("Identity provider's metadata address"),
        500,
        required=False,
        description=_("SAML: fetched again each time this form is saved without an upload."),
    )
    email_attribute = _text(
        _("Attribute with the e-mail address"),
        200,
        required=False,
        description=_("SAML: empty when the NameID is the e-mail address."),
    )
    name_attribute = _text(
        _("Attribute with the name"), 200, required=False, description=_("SAML.")
    )
    create_users = wtforms.BooleanField(
        _("Create users at login"),
        description=_(
            "Someone the provider vouches for who has no account here gets one,"
            " with the role and department below."
        ),
    )
    role = wtforms.SelectField(_("Role of users created at login"), coerce=_enum_value)
    department_id = wtforms.SelectField(
        _("Department of users created at login"), coerce=int, validate_choice=True
    )
    password_login = wtforms.BooleanField(
        _("Staff may still log in with a password"),
        default=True,
        description=_("Off: while this connection is enabled, staff log in through it only."),
    )
    accept_mfa = wtforms.BooleanField(
        _("Accept the provider's two-factor authentication"),
        description=_(
            "OpenID Connect: a login the provider says it checked with a second factor"
            " (amr: mfa) needs no code here."
        ),
    )


def _check(request, form, connection):
    """The rules across fields, as messages on the fields; the SAML
    metadata to store (uploaded or fetched) on ``form.metadata``."""
    kind = Kind(form.kind.data)
    form.metadata = None
    if kind is Kind.saml:
        _check_saml(request, form, connection)
    else:
        _check_oidc(form, connection, kind)
    if Role(form.role.data) is Role.dept_admin and not form.department_id.data:
        form.add_error("department_id", _("A department admin needs a department: choose one."))
    return not form.problems


def _check_oidc(form, connection, kind):
    issuer = form.issuer.data or DEFAULT_ISSUERS.get(kind, "")
    if not issuer:
        form.add_error("issuer", _("Enter the issuer of this provider."))
    elif not secure_address(issuer):
        form.add_error("issuer", _("Enter the issuer's https:// address."))
    if not form.client_id.data:
        form.add_error("client_id", _("Enter the client id the provider gave you."))
    if not form.client_secret.data and (connection is None or connection.client_secret is None):
        form.add_error("client_secret", _("Enter the client secret the provider gave you."))
    if kind is Kind.google and not split_list(form.allowed_domains.data):
        form.add_error(
            "allowed_domains", _("Name the Google domain (or domains) whose accounts may log in.")
        )
    if kind is Kind.microsoft and not split_list(form.allowed_tenants.data):
        form.add_error(
            "allowed_tenants", _("Name the Microsoft tenant id (or ids) whose accounts may log in.")
        )


def _check_saml(request, form, connection):
    if form.accept_mfa.data:
        form.add_error(
            "accept_mfa",
            _("Only OpenID Connect providers say here whether they checked a second factor."),
        )
    field, source = "idp_metadata_file", request.POST.get("idp_metadata_file")
    try:
        uploaded = read_upload(source, saml.METADATA_BYTES) if hasattr(source, "file") else None
        if uploaded is not None:
            form.metadata = saml.parse_metadata(uploaded.decode("utf-8", errors="replace"))
        elif form.idp_metadata_url.data:
            field = "idp_metadata_url"
            form.metadata = saml.fetch_metadata(form.idp_metadata_url.data)
        elif connection is None or not connection.idp_metadata:
            form.add_error(
                field, _("Upload the identity provider's metadata or enter its address.")
            )
    except ImageRejected as exc:  # the size cap of the core's upload reader
        form.add_error(field, exc.args[0])
    except saml.MetadataError as exc:
        form.add_error(field, exc.message)


def _form(request, connection):
    values = {}
    if connection is not None:
        values = {"department_id": connection.department_id or 0}
    form = ConnectionForm(request, obj=connection, **values)
    form.kind.choices = options((k.value, label) for k, label in KIND_LABELS.items())
    form.role.choices = options((r.value, ROLE_LABELS[r]) for r in STAFF_ROLES)
    departments = request.dbsession.scalars(
        select(Department)
        .where(Department.organisation_id == request.organisation.id)
        .order_by(Department.name)
    )
    form.department_id.choices = options(
        [(0, _("No department")), *((d.id, d.name) for d in departments)]
    )
    if connection is None and request.method != "POST":
        form.role.data = Role.practitioner.value
    form.client_secret.data = form.client_secret.data if request.method == "POST" else ""
    form.idp_metadata_file.data = None
    return form


def _save(request, form, connection):
    kind = Kind(form.kind.data)
    before = {name: _enum_value(getattr(connection, name)) for name in AUDITED}
    connection.name = form.name.data
    connection.enabled = form.enabled.data
    connection.button_text = form.button_text.data
    connection.kind = kind
    issuer = "" if kind is Kind.saml else form.issuer.data or DEFAULT_ISSUERS.get(kind, "")
    connection.issuer = issuer.rstrip("/")
    connection.client_id = form.client_id.data
    connection.allowed_domains = ", ".join(split_list(form.allowed_domains.data))
    connection.allowed_tenants = ", ".join(split_list(form.allowed_tenants.data))
    connection.create_users = form.create_users.data
    connection.role = Role(form.role.data)
    connection.department_id = form.department_id.data or None
    connection.password_login = form.password_login.data
    connection.accept_mfa = form.accept_mfa.data
    connection.idp_metadata_url = form.idp_metadata_url.data
    connection.email_attribute = form.email_attribute.data
    connection.name_attribute = form.name_attribute.data
    metadata_changed = form.metadata is not None and form.metadata != connection.idp_metadata
    if form.metadata is not None:
        connection.idp_metadata = form.metadata
    secret_changed = bool(form.client_secret.data)
    if secret_changed:
        box = secret_box(request.registry)
        connection.client_secret = box.encrypt(form.client_secret.data.encode())
    request.dbsession.add(connection)
    request.dbsession.flush()
    after = {name: _enum_value(getattr(connection, name)) for name in AUDITED}
    changed = {k: after[k] for k in AUDITED if before[k] != after[k]}
    record(
        request,
        "sso.connection_saved",
        "sso_connection",
        connection.id,
        changed=changed,
        secret_changed=secret_changed,
        metadata_changed=metadata_changed,
    )


def connection_or_404(request):
    """The connection of the address, if it is this organisation's."""
    connection = request.dbsession.scalar(
        select(Connection).where(
            Connection.id == int(request.matchdict["id"]),
            Connection.organisation_id == request.organisation.id,
        )
    )
    if connection is None:
        raise HTTPNotFound()
    return connection


def connections_of(request, enabled_only=False):
    query = select(Connection).where(Connection.organisation_id == request.organisation.id)
    if enabled_only:
        query = query.where(Connection.enabled)
    return request.dbsession.scalars(query.order_by(Connection.name, Connection.id)).all()


@view_config(
    route_name="sso.connections", renderer=TEMPLATES + "connections.html", permission=MANAGE
)
def connection_list(request):
    return page(request, connections=connections_of(request), kinds=KIND_LABELS)


def _edit(request, connection):
    form = _form(request, connection)
    if request.method == "POST" and form.validate() and _check(request, form, connection):
        _save(request, form, connection or Connection(organisation_id=request.organisation.id))
        flash(request, _("The connection is saved."))
        return HTTPSeeOther(request.route_path("sso.connections"))
    return page(
        request,
        form=form,
        groups=FORM_GROUPS,
        connection=connection,
        addresses=_addresses(request, connection),
    )


def _addresses(request, connection):
    """What to register with the provider: the redirect address (OIDC), or
    the SP metadata's address and the assertion consumer (SAML)."""
    if connection is None:
        return []
    if connection.kind is Kind.saml:
        entity, acs = saml.sp_urls(request, connection)
        return [
            (_("Service provider metadata (entity id)"), entity),
            (_("Assertion consumer"), acs),
        ]
    path = request.route_path("sso.callback", id=connection.id)
    return [(_("Redirect address"), org_url(request, request.organisation, path))]


@view_config(
    route_name="sso.connection_new", renderer=TEMPLATES + "connection.html", permission=MANAGE
)
def connection_new(request):
    return _edit(request, None)


@view_config(
    route_name="sso.connection_edit", renderer=TEMPLATES + "connection.html", permission=MANAGE
)
def connection_edit(request):
    return _edit(request, connection_or_404(request))


@view_config(route_name="sso.connection_delete", request_method="POST", permission=MANAGE)
def connection_delete(request):
    connection = connection_or_404(request)
    record(request, "sso.connection_deleted", "sso_connection", connection.id, name=connection.name)
    request.dbsession.delete(connection)
    flash(request, _("The connection is deleted; its users keep their accounts."))
    return HTTPSeeOther(request.route_path("sso.connections"))


def includeme(config):
    config.add_plugin_route("sso.connections", "/sso/connections")
    config.add_plugin_route("sso.connection_new", "/sso/connections/new")
    config.add_plugin_route("sso.connection_edit", f"/sso/connections/{ID}")
    config.add_plugin_route("sso.connection_delete", f"/sso/connections/{ID}/delete")
    config.scan(".connections")
