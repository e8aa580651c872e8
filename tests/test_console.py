"""The hosting provider's console on the bare base domain: organisations,
their package and their plugins; closed to everyone but superusers."""

import re

import consultroom_hello
import pytest
from sqlalchemy import func, select

from consultroom.accounts.models import Role, User
from consultroom.audit.models import AuditEntry
from consultroom.plugins.models import PluginEnablement
from consultroom.secretbox import secret_box
from consultroom.tenancy.models import Organisation
from consultroom.tenancy.options import SEALED, unseal
from consultroom.testing import PASSWORD


@pytest.fixture
def console(webtest, login, make_user):
    app = webtest()
    login(app, make_user(None, role=Role.superuser, email="provider@host.example"))
    return app


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care", max_users=5)


def form_at(page, action=""):
    found = [f for f in page.forms.values() if f.action == action]
    assert len(found) == 1, [f.action for f in page.forms.values()]
    return found[0]


def error_for(response, field_id):
    help_ = response.html.find(id=f"{field_id}-help")
    return " ".join(p.get_text() for p in help_.select("p.error")) if help_ else ""


def flashes(page):
    return [p.get_text() for p in page.html.select("p.flash")]


def org_count(dbsession):
    return dbsession.scalar(select(func.count()).select_from(Organisation))


def token(app, path="/"):
    return app.get(path).html.find("input", attrs={"name": "csrf_token"})["value"]


def test_lists_organisations_and_plugins(console, make_organisation):
    make_organisation("zeta", name="Zeta Clinic", max_users=3)
    make_organisation("alpha", name="Alpha Practice", max_users=12)
    page = console.get("/")
    rows = [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in page.html.select("table")[0].select("tbody tr")
    ]
    assert ["Alpha Practice", "http://alpha.consultroom.test/", "12"] in rows
    assert ["Zeta Clinic", "http://zeta.consultroom.test/", "3"] in rows
    assert rows.index(["Alpha Practice", "http://alpha.consultroom.test/", "12"]) < rows.index(
        ["Zeta Clinic", "http://zeta.consultroom.test/", "3"]
    )
    plugins = page.html.select("table")[1].text
    assert "hello" in plugins and "1.2.0" in plugins and "Available" in plugins


# -- creating organisations ------------------------------------------------


def new_org_form(console, **values):
    form = form_at(console.get("/organisations/new"))
    defaults = {
        "name": "Beta Care",
        "max_users": "7",
        "subdomain": "beta",
        "admin_name": "Bea Admin",
        "admin_email": "bea@beta.example",
    }
    for key, value in {**defaults, **values}.items():
        form[key] = value
    return form


def test_create_an_organisation_and_invite_its_admin(console, dbsession, smtp):
    response = new_org_form(console, subdomain="  BeTa ", admin_email="Bea@Beta.example").submit()
    assert response.status_int == 303
    org = dbsession.scalar(select(Organisation).where(Organisation.subdomain == "beta"))
    assert (org.name, org.max_users) == ("Beta Care", 7)
    assert response.location.endswith(f"/organisations/{org.id}")
    page = response.follow()
    assert flashes(page) == ["Beta Care is created; its administrator has been invited."]
    assert "http://beta.consultroom.test/" in page.text

    admin = dbsession.scalar(select(User).where(User.organisation_id == org.id))
    assert (admin.email, admin.name, admin.role) == (
        "bea@beta.example",
        "Bea Admin",
        Role.org_admin,
    )
    assert admin.password_hash is None

    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert msg["To"] == "bea@beta.example"
    assert "Beta Care" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+", body).group(0)
    assert re.fullmatch(r"http://beta\.consultroom\.test/set-password/[\w-]+", link)


def test_the_invitation_link_works_on_the_new_subdomain(console, webtest, dbsession, smtp):
    new_org_form(console).submit(status=303)
    body = smtp.messages[0].get_body(("plain",)).get_content()
    path = re.search(r"http://beta\.consultroom\.test(/set-password/\S+)", body).group(1)
    page = webtest("beta").get(path)
    assert page.status_int == 200 and page.html.find("input", type="password")


@pytest.mark.parametrize(
    "subdomain, message",
    [
        ("bad_sub", "lowercase letters, digits and hyphens"),
        ("-x", "not starting or ending with a hyphen"),
        ("x-", "not starting or ending with a hyphen"),
        ("a.b", "lowercase letters, digits and hyphens"),
        ("é", "lowercase letters, digits and hyphens"),
        ("a" * 64, "63"),
        ("www", "This subdomain is reserved."),
        ("WWW", "This subdomain is reserved."),
        ("console", "This subdomain is reserved."),
        ("acme", "This subdomain is already taken."),
        ("ACME", "This subdomain is already taken."),
    ],
)
def test_bad_subdomains_are_refused(console, dbsession, smtp, org, subdomain, message):
    before = org_count(dbsession)
    response = new_org_form(console, subdomain=subdomain).submit(status=200)
    assert message in error_for(response, "subdomain")
    assert org_count(dbsession) == before
    assert dbsession.scalar(select(func.count()).select_from(User)) == 1  # the superuser
    assert smtp.messages == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "   "),
        ("admin_name", ""),
        ("admin_email", "not-an-address"),
        ("max_users", "0"),
        ("max_users", "lots"),
    ],
)
def test_other_bad_values_are_refused(console, dbsession, smtp, field, value):
    response = new_org_form(console, **{field: value}).submit(status=200)
    assert error_for(response, field)
    assert org_count(dbsession) == 0 and smtp.messages == []


# -- editing ---------------------------------------------------------------


def test_edit_name_and_max_users(console, dbsession, org, make_user):
    make_user(org)
    make_user(org)
    page = console.get(f"/organisations/{org.id}")
    assert "2 of 5 staff members in use" in page.text
    form = form_at(page)
    form["max_users"] = "0"
    response = form.submit(status=200)
    assert "between 1 and 100000" in error_for(response, "max_users")
    dbsession.expire_all()
    assert dbsession.get(Organisation, org.id).max_users == 5

    form = form_at(response)
    form["max_users"] = "25"
    form["name"] = "Acme Health"
    response = form.submit(status=303)
    assert flashes(response.follow()) == ["Saved."]
    dbsession.expire_all()
    saved = dbsession.get(Organisation, org.id)
    assert (saved.name, saved.max_users) == ("Acme Health", 25)
    assert "2 of 25 staff members in use" in console.get(f"/organisations/{org.id}").text


@pytest.mark.parametrize("org_id", ["0", "999999", "abc", "99999999999999999999", "%201"])
def test_unknown_organisations_are_404(console, org, org_id):
    csrf = token(console)
    console.get(f"/organisations/{org_id}", status=404)
    console.post(
        f"/organisations/{org_id}", {"csrf_token": csrf, "name": "X", "max_users": "3"}, status=404
    )
    console.post(
        f"/organisations/{org_id}/plugins/hello", {"csrf_token": csrf, "enabled": "1"}, status=404
    )
    console.get(f"/organisations/{org_id}/plugins/hello/settings", status=404)


# -- plugins ---------------------------------------------------------------


def plugin_form(page):
    return form_at(page, page.html.find("form", action=re.compile(r"/plugins/hello$"))["action"])


def test_enable_and_disable_the_hello_plugin(console, webtest, login, make_user, dbsession, org):
    staff = webtest("acme")
    login(staff, make_user(org))
    staff.get("/hello", status=404)

    page = console.get(f"/organisations/{org.id}")
    assert plugin_form(page)["enabled"].value == "1"
    response = plugin_form(page).submit(status=303)
    page = response.follow()
    assert flashes(page) == ["hello is enabled."]
    assert "Enabled" in page.text and plugin_form(page)["enabled"].value == "0"
    assert "Hello, " in staff.get("/hello").text
    assert ("enabled", "acme") in consultroom_hello.CALLS

    page = plugin_form(page).submit(status=303).follow()
    assert flashes(page) == ["hello is disabled."]
    staff.get("/hello", status=404)
    row = dbsession.scalar(
        select(PluginEnablement).where(PluginEnablement.organisation_id == org.id)
    )
    dbsession.refresh(row)
    assert row.enabled is False


def test_enabling_for_one_organisation_leaves_others_alone(
    console, webtest, login, make_user, make_organisation, org
):
    other = make_organisation("other")
    staff = webtest("other")
    login(staff, make_user(other))
    plugin_form(console.get(f"/organisations/{org.id}")).submit(status=303)
    staff.get("/hello", status=404)


def test_an_unknown_plugin_cannot_be_enabled(console, dbsession, org):
    response = console.post(
        f"/organisations/{org.id}/plugins/nosuch",
        {"csrf_token": token(console), "enabled": "1"},
        status=303,
    )
    assert flashes(response.follow()) == ["Cannot enable: no plugin 'nosuch' is installed"]
    assert dbsession.scalar(select(func.count()).select_from(PluginEnablement)) == 0


def test_plugin_settings_validate_and_save(
    console, webtest, login, make_user, enable_plugin, dbsession, org
):
    enable_plugin(org, "hello")
    page = console.get(f"/organisations/{org.id}")
    link = f"/organisations/{org.id}/plugins/hello/settings"
    assert page.html.find("a", href=link, string="Settings") is not None

    form = form_at(console.get(link))
    assert form["greeting"].value == "Hello"
    form["greeting"] = "x" * 101
    response = form.submit(status=200)
    assert "longer than 100" in error_for(response, "greeting")
    row = dbsession.scalar(
        select(PluginEnablement).where(PluginEnablement.organisation_id == org.id)
    )
    dbsession.refresh(row)
    # The defaults, stored on enable.
    assert row.settings == {"greeting": "Hello", "signing_key": ""}

    form = form_at(response)
    form["greeting"] = "  Good morning  "
    response = form.submit(status=303)
    assert response.location.endswith(f"/organisations/{org.id}")
    dbsession.refresh(row)
    assert row.settings == {"greeting": "Good morning", "signing_key": ""} and row.enabled

    staff = webtest("acme")
    user = make_user(org, name="Petra")
    login(staff, user)
    assert staff.get("/hello").html.find("h1").text == "Good morning, Petra"
    assert form_at(console.get(link))["greeting"].value == "Good morning"


def test_plugin_settings_can_be_set_before_enabling(console, dbsession, org):
    form = form_at(console.get(f"/organisations/{org.id}/plugins/hello/settings"))
    form["greeting"] = "Hi"
    form.submit(status=303)
    row = dbsession.scalar(
        select(PluginEnablement).where(PluginEnablement.organisation_id == org.id)
    )
    assert (row.enabled, row.settings) == (False, {"greeting": "Hi", "signing_key": ""})


def test_a_secret_plugin_setting_is_stored_sealed_never_shown_and_used(
    console, webtest, login, make_user, enable_plugin, dbsession, org, app
):
    key = "sk-live-0123456789wxyz"
    enable_plugin(org, "hello")
    link = f"/organisations/{org.id}/plugins/hello/settings"
    form = form_at(console.get(link))
    form["signing_key"] = key
    form.submit(status=303)
    row = dbsession.scalar(
        select(PluginEnablement).where(PluginEnablement.organisation_id == org.id)
    )
    dbsession.refresh(row)
    assert row.settings["signing_key"].startswith(SEALED) and key not in str(row.settings)
    page = console.get(link)
    assert key not in page.text and form_at(page)["signing_key"].value == ""
    entry = dbsession.scalar(
        select(AuditEntry).where(AuditEntry.action == "plugin.settings_update")
    )
    assert entry.detail["changed"] == ["signing_key"] and key not in str(entry.detail)

    staff = webtest("acme")
    login(staff, make_user(org, name="Petra"))
    assert "ending in wxyz" in staff.get("/hello").html.find("p", class_="signing-key").text
    # Saved again with the field left empty, the key stays.
    form = form_at(page)
    form["greeting"] = "Hi"
    form.submit(status=303)
    dbsession.refresh(row)
    opened = secret_box(app.registry)
    assert unseal(row.settings["signing_key"], opened) == key and row.settings["greeting"] == "Hi"


def test_settings_of_an_unknown_plugin_are_404(console, org):
    console.get(f"/organisations/{org.id}/plugins/nosuch/settings", status=404)


def test_console_forms_need_csrf(console, dbsession, org):
    console.post(
        "/organisations/new",
        {
            "name": "X",
            "max_users": "3",
            "subdomain": "x",
            "admin_name": "A",
            "admin_email": "a@x.example",
        },
        status=400,
    )
    console.post(f"/organisations/{org.id}", {"name": "Hacked", "max_users": "99"}, status=400)
    console.post(f"/organisations/{org.id}/plugins/hello", {"enabled": "1"}, status=400)
    console.post(
        f"/organisations/{org.id}/plugins/hello/settings", {"greeting": "Hacked"}, status=400
    )
    dbsession.expire_all()
    assert dbsession.get(Organisation, org.id).name == "Acme Care"
    assert org_count(dbsession) == 1
    assert dbsession.scalar(select(func.count()).select_from(PluginEnablement)) == 0


# -- who may ---------------------------------------------------------------

CONSOLE_PAGES = [
    "/",
    "/organisations/new",
    "/organisations/{id}",
    "/organisations/{id}/plugins/hello/settings",
]


def test_anonymous_visitors_are_sent_to_the_login_page(webtest, org):
    app = webtest()
    for path in CONSOLE_PAGES:
        response = app.get(path.format(id=org.id), status=302)
        assert response.location.startswith("http://consultroom.test/login")


@pytest.mark.parametrize("role", [Role.org_admin, Role.practitioner])
def test_an_org_staff_cookie_means_nothing_on_the_console(
    webtest, login, make_user, org, dbsession, role
):
    staff = webtest("acme")
    login(staff, make_user(org, role=role))
    app = webtest()
    app.set_cookie("consultroom", staff.cookies["consultroom"])
    for path in CONSOLE_PAGES:
        assert "/login" in app.get(path.format(id=org.id), status=302).location
    # Nor can staff log in on the console with their own password.
    form = app.get("/login").forms[0]
    form["email"] = dbsession.scalar(select(User.email).where(User.organisation_id == org.id))
    form["password"] = PASSWORD
    assert form.submit().status_int == 200
    assert "/login" in app.get("/", status=302).location


def test_a_superuser_cookie_means_nothing_on_an_organisation(console, webtest, org):
    app = webtest("acme")
    app.set_cookie("consultroom", console.cookies["consultroom"])
    assert "/login" in app.get("/", status=302).location


@pytest.mark.parametrize(
    "path",
    ["/organisations/new", "/organisations/{id}", "/organisations/{id}/plugins/hello/settings"],
)
def test_console_routes_are_404_on_an_organisation(webtest, login, make_user, org, path):
    app = webtest("acme")
    login(app, make_user(org, role=Role.org_admin))
    app.get(path.format(id=org.id), status=404)
    token_ = app.get("/").html.find("input", attrs={"name": "csrf_token"})["value"]
    app.post(
        path.format(id=org.id), {"csrf_token": token_, "name": "X", "max_users": "1"}, status=404
    )


def test_organisation_pages_are_404_on_the_console(console):
    for path in ("/organisation", "/organisation/advanced", "/departments", "/staff", "/logo.png"):
        console.get(path, status=404)


def test_console_pages_about_an_organisation_do_not_wear_its_branding(
    console, dbsession, org, enable_plugin
):
    org.primary_colour, org.logo, org.contact_phone = "#abcdef", b"not shown", "020-999"
    enable_plugin(org, "hello")
    dbsession.flush()
    for path in (f"/organisations/{org.id}", f"/organisations/{org.id}/plugins/hello/settings"):
        page = console.get(path)
        assert "Acme Care" in page.html.find("h1").text
        assert page.html.find("header").get_text(" ", strip=True).startswith("Consultroom console")
        assert not page.html.find("img", src="/logo.png")
        assert "#abcdef" not in page.text and "020-999" not in page.text
