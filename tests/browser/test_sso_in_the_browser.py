"""Single sign-on in real Chromium: the login page shows "Log in with
<name>"; a click goes to the local OpenID Connect provider (authlib's
server classes, on 127.0.0.1 in this test's network namespace) and back,
logged in as a staff member created at login with the connection's role;
another organisation's login page has no such button. The same with a
local SAML identity provider (pysaml2), whose answer is posted across
sites."""

import pytest
import requests
from consultroom_sso.models import Connection, Identity, Kind
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.accounts.models import Role, User
from consultroom.plugins.models import PluginEnablement
from consultroom.secretbox import box_from_settings

from saml_idp import IdentityProvider
from sso_provider import CLIENT_ID, CLIENT_SECRET, Provider


@pytest.fixture(scope="module")
def provider():
    running = Provider().start()
    yield running
    running.stop()


def test_log_in_with_the_identity_provider_and_come_back_logged_in(
    live_data, live_server, live_db, new_context, provider
):
    org = live_data.organisation(name="Acme Clinic")
    other = live_data.organisation(name="Other Clinic")
    gp = live_data.department(org, "GP")
    for organisation in (org, other):
        live_data._save(
            PluginEnablement(organisation_id=organisation.id, plugin="sso", enabled=True)
        )
    box = box_from_settings(live_server.settings)
    live_data._save(
        Connection(
            organisation_id=org.id,
            name="Acme ID",
            button_text="Log in with Acme ID",
            kind=Kind.oidc,
            role=Role.dept_admin,
            department_id=gp.id,
            create_users=True,
            issuer=provider.issuer,
            client_id=CLIENT_ID,
            client_secret=box.encrypt(CLIENT_SECRET.encode()),
        )
    )
    provider.person = {
        "sub": "subject-grace",
        "email": "grace@acme.example",
        "email_verified": True,
        "name": "Grace Hopper",
    }

    page = new_context().new_page()
    page.goto(live_server.url(other.subdomain, "/login"))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_role("link", name="Log in with Acme ID")).to_have_count(0)

    page.goto(live_server.url(org.subdomain, "/login?next=/staff"))
    page.get_by_role("link", name="Log in with Acme ID").click()
    page.wait_for_url(live_server.url(org.subdomain, "/staff"))
    assert provider.authorize_requests[-1]["code_challenge_method"] == "S256"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(live_server.url(org.subdomain, "/profile"))
    expect(page.locator("input[name=name]")).to_have_value("Grace Hopper")
    expect(page.locator(".sso-profile")).to_contain_text("Linked to Acme ID.")
    user = live_db.scalar(select(User).where(User.email == "grace@acme.example"))
    assert (user.organisation_id, user.role, user.department_id) == (org.id, Role.dept_admin, gp.id)


@pytest.fixture(scope="module")
def identity_provider(tmp_path_factory):
    running = IdentityProvider(tmp_path_factory.mktemp("idp")).start()
    yield running
    running.stop()


def test_log_in_with_a_saml_identity_provider(
    live_data, live_server, live_db, new_context, identity_provider
):
    """The IdP's page posts the response across sites (no session cookie
    comes along); the same-site redirect after it finishes the login in
    this browser."""
    org = live_data.organisation(name="Saml Clinic")
    live_data._save(PluginEnablement(organisation_id=org.id, plugin="sso", enabled=True))
    doctor = live_data.user(org, name="Dr. Saml", email="doctor@saml.example")
    connection = live_data._save(
        Connection(
            organisation_id=org.id,
            name="Clinic SAML",
            button_text="Log in with Clinic SAML",
            kind=Kind.saml,
            role=Role.practitioner,
            idp_metadata=identity_provider.metadata(),
        )
    )
    live_data._save(
        Identity(
            organisation_id=org.id,
            connection_id=connection.id,
            subject="subject-doctor",
            user_id=doctor.id,
        )
    )
    page = new_context().new_page()
    host = f"{org.subdomain}.localhost:{live_server.port}"
    metadata = requests.get(
        f"http://127.0.0.1:{live_server.port}/sso/{connection.id}/saml/metadata",
        headers={"Host": host},
        timeout=10,
    )
    identity_provider.trust(metadata.text)
    identity_provider.person = {"nameid": "subject-doctor", "email": "doctor@saml.example"}

    page.goto(live_server.url(org.subdomain, "/login?next=/profile"))
    page.get_by_role("link", name="Log in with Clinic SAML").click()
    page.wait_for_url(live_server.url(org.subdomain, "/profile"))
    expect(page.locator("input[name=name]")).to_have_value("Dr. Saml")
