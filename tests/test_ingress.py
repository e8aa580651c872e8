"""What a request says about itself: its Host is the console host or one
organisation label under the base domain, or it is refused (400) before
anything reads it; mailed links and redirects come from the configuration,
never from the Host; X-Forwarded-For counts only from a trusted proxy."""

import re

import pytest
from sqlalchemy import select

from consultroom.accounts.models import Role, UserToken
from consultroom.audit.models import AuditEntry

LINK = re.compile(r"(https?://[^/\s]+)/set-password/")


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


@pytest.fixture
def public_url(app, monkeypatch):
    monkeypatch.setitem(
        app.registry.settings, "consultroom.public_url", "https://consultroom.test:8443"
    )


def ask_new_link(app, email, host):
    form = app.get("/new-link").forms[0]
    form["email"] = email
    return form.submit(extra_environ={"HTTP_HOST": host}, expect_errors=True)


@pytest.mark.parametrize(
    "host",
    [
        "acme.consultroom.test:6631@evil.example",
        "acme.consultroom.test@evil.example",
        "acme.consultroom.test#@evil.example",
        "acme.consultroom.test.evil.example",
        "evil.example",
        "acme.consultroom.test:http",
        "acme.consultroom.test:",
        "a.acme.consultroom.test",
        "acme.consultroom.test/evil",
        "acme.consultroom.test\\evil",
    ],
)
def test_a_poisoned_host_is_refused_and_nothing_is_mailed(
    webtest, org, make_user, smtp, dbsession, host
):
    make_user(org, email="ada@example.org")
    response = ask_new_link(webtest("acme"), "ada@example.org", host)
    assert response.status_int == 400
    assert smtp.messages == []
    assert dbsession.scalars(select(UserToken)).all() == []


def test_the_console_refuses_a_poisoned_host(webtest, make_user, smtp):
    make_user(None, role=Role.superuser, email="provider@host.example")
    response = ask_new_link(
        webtest(), "provider@host.example", "consultroom.test:6543@evil.example"
    )
    assert response.status_int == 400
    assert smtp.messages == []


def test_an_unknown_but_wellformed_subdomain_is_still_404(webtest):
    webtest("nobody").get("/login", status=404)


def test_mailed_links_come_from_the_configuration(webtest, org, make_user, smtp, public_url):
    make_user(org, email="ada@example.org")
    response = ask_new_link(webtest("acme"), "ada@example.org", "acme.consultroom.test:1234")
    assert response.status_int == 200
    assert LINK.findall(smtp.messages[0].get_content()) == ["https://acme.consultroom.test:8443"]


def test_the_superusers_link_comes_from_the_configuration(webtest, make_user, smtp, public_url):
    make_user(None, role=Role.superuser, email="provider@host.example")
    ask_new_link(webtest(), "provider@host.example", "consultroom.test:1234")
    assert LINK.findall(smtp.messages[0].get_content()) == ["https://consultroom.test:8443"]


def test_redirects_come_from_the_configuration(webtest, org, public_url):
    response = webtest("acme").get(
        "/", extra_environ={"HTTP_HOST": "acme.consultroom.test:1"}, status=302
    )
    assert response.location.startswith("https://acme.consultroom.test:8443/login")


def test_the_addresses_shown_to_copy_come_from_the_configuration(
    webtest, org, make_user, login, public_url
):
    """The organisation's address and the embed code an admin pastes into
    their website are built from the configuration like mailed links."""
    app = webtest("acme")
    login(app, make_user(org, role=Role.org_admin))
    host = {"HTTP_HOST": "acme.consultroom.test:1"}
    for path in ("/organisation", "/widgets"):
        page = app.get(path, extra_environ=host).text
        assert "https://acme.consultroom.test:8443" in page, path
        assert "consultroom.test:1" not in page, path
    embed = app.get("/widgets", extra_environ=host).html.select_one("[data-embed-script] code")
    assert 'data-consultroom-embed="https://acme.consultroom.test:8443"' in embed.text
    assert 'src="https://acme.consultroom.test:8443/static/js/embed.js"' in embed.text


# --- X-Forwarded-For -----------------------------------------------------------------


@pytest.fixture
def token_limit(app, monkeypatch):
    monkeypatch.setitem(app.registry.settings, "ratelimit.token_address.max", "3")


def guess(app, n, forwarded=None, peer="192.0.2.10", status=410):
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return app.get(f"/set-password/guess{n}", extra_environ=environ, status=status)


def test_forwarded_addresses_from_an_untrusted_peer_change_nothing(webtest, org, token_limit):
    app = webtest("acme")
    for n in range(3):
        guess(app, n, forwarded=f"198.51.100.{n}")
    guess(app, 3, forwarded="198.51.100.99", status=429)
    guess(app, 4, status=429)


def test_spoofed_forwarded_addresses_cannot_lock_out_someone_else(webtest, org, token_limit):
    attacker = webtest("acme")
    for n in range(5):
        guess(attacker, n, forwarded="192.0.2.77", status=410 if n < 3 else 429)
    guess(webtest("acme"), 9, peer="192.0.2.77")  # still allowed


def test_the_audit_trail_records_the_peer_not_the_claim(webtest, org, make_user, dbsession):
    user = make_user(org, email="ada@example.org")
    form = webtest("acme").get("/login").forms[0]
    form["email"], form["password"] = user.email, "not the password"
    form.submit(extra_environ={"HTTP_X_FORWARDED_FOR": "203.0.113.66"})
    entry = dbsession.scalars(select(AuditEntry).where(AuditEntry.action == "login.failure")).one()
    assert entry.address == "192.0.2.10"


@pytest.fixture
def behind_proxies(app, monkeypatch, token_limit):
    monkeypatch.setitem(app.registry.settings, "security.trusted_proxies", "10.0.0.0/8 ::1")


def test_a_trusted_proxy_names_the_client(webtest, org, behind_proxies):
    app = webtest("acme")
    for n in range(3):
        guess(app, n, forwarded="203.0.113.5", peer="10.0.0.1")
    # Another client behind the same proxy may go on; the first may not, whatever
    # it puts in front of the address the proxy appended.
    guess(app, 3, forwarded="203.0.113.6", peer="10.0.0.1")
    guess(app, 4, forwarded="192.0.2.1, 203.0.113.5", peer="10.0.0.1", status=429)
    # Through a chain of trusted proxies, the rightmost untrusted address counts.
    guess(app, 5, forwarded="192.0.2.1, 203.0.113.5, 10.9.9.9", peer="::1", status=429)


def test_a_trusted_proxy_without_the_header_is_the_client(webtest, org, behind_proxies):
    app = webtest("acme")
    for n in range(3):
        guess(app, n, peer="10.0.0.1")
    guess(app, 3, peer="10.0.0.1", status=429)
    guess(app, 4, peer="10.0.0.2")
