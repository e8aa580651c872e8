"""Security headers on every response (pages, redirects, error pages, static
files, JSON), framing only for the widget pages, HSTS only when configured,
and templates without inline scripts or unnonced styles."""

import re
from pathlib import Path

import pytest

from consultroom.accounts.models import Role
from consultroom.widgets.models import WalkInWidget

TEMPLATES = Path(__file__).resolve().parents[1] / "themes" / "default" / "templates"


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic", embed_origins=["https://www.acme.example"])


def policy(response):
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, _space, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def assert_secured(response, framing="'none'"):
    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["media-src"] == "'self' blob:"
    assert csp["style-src"].startswith("'self'")
    assert "unsafe-inline" not in csp["style-src"] and "unsafe" not in csp["script-src"]
    assert csp["frame-ancestors"] == framing
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "display-capture"):
        assert f"{feature}=(self)" in permissions
    assert "geolocation=()" in permissions
    if framing == "'none'":
        assert response.headers["X-Frame-Options"] == "DENY"
    else:
        assert "X-Frame-Options" not in response.headers
    assert "Strict-Transport-Security" not in response.headers


# --- every kind of response ------------------------------------------------------------


def test_pages_redirects_static_files_and_json(webtest, org, make_user, login):
    app = webtest("acme")
    assert_secured(app.get("/login"))
    assert_secured(app.get("/", status=302))
    assert_secured(app.get("/static/css/main.css"))
    assert_secured(app.get("/session/status"))
    assert_secured(app.get("/api/v1/clients", status=401))
    login(app, make_user(org, role=Role.org_admin))
    assert_secured(app.get("/"))
    assert_secured(webtest().get("/login"))


def test_error_pages(webtest, org, make_user, login):
    assert_secured(webtest("nowhere").get("/", status=404))
    app = webtest("acme")
    assert_secured(app.get("/no-such-page", status=404))
    assert_secured(app.post("/login", {"email": "a@example.org"}, status=400))
    assert_secured(app.get("/set-password/guess", status=410))
    login(app, make_user(org))
    assert_secured(app.post("/departments/new", status=403))


def test_websockets_of_the_same_host_may_be_opened(webtest, org, app, monkeypatch):
    sources = policy(webtest("acme").get("/login"))["connect-src"].split()
    assert sources == ["'self'", "wss://acme.consultroom.test", "ws://acme.consultroom.test"]
    monkeypatch.setitem(app.registry.settings, "session.secure", "true")
    sources = policy(webtest("acme").get("/login"))["connect-src"].split()
    assert sources == ["'self'", "wss://acme.consultroom.test"]


def test_a_strange_host_is_not_repeated_in_the_policy(app):
    from webtest import TestApp

    strange = TestApp(app, extra_environ={"HTTP_HOST": "evil.example;script-src *"})
    response = strange.get("/", status=400)
    assert "evil" not in response.headers["Content-Security-Policy"]
    assert_secured(response)


def test_hsts_only_with_the_setting(webtest, org, app, monkeypatch):
    assert "Strict-Transport-Security" not in webtest("acme").get("/login").headers
    monkeypatch.setitem(app.registry.settings, "security.hsts", "true")
    for response in (
        webtest("acme").get("/login"),
        webtest("acme").get("/x", status=404),
        webtest().get("/login"),
    ):
        assert (
            response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        )


# --- inline styles: the nonce ---------------------------------------------------------


def test_the_organisations_colours_use_the_requests_nonce(webtest, org):
    app = webtest("acme")
    nonces = []
    for _ in range(2):
        page = app.get("/login")
        nonce = page.html.find("style")["nonce"]
        assert f"'nonce-{nonce}'" in policy(page)["style-src"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_pages_without_inline_styles_carry_no_nonce(webtest, org):
    assert policy(webtest("acme").get("/static/css/main.css"))["style-src"] == "'self'"


def test_style_attributes_are_allowed_for_colours(webtest, org):
    assert policy(webtest("acme").get("/login"))["style-src-attr"] == "'unsafe-inline'"


# --- framing: only the widget pages ---------------------------------------------------


def test_booking_widget_may_be_framed_by_the_organisations_sites(webtest, org):
    page = webtest("acme").get("/book")
    assert_secured(page, framing="'self' https://www.acme.example")
    assert f"'nonce-{page.html.find('style')['nonce']}'" in policy(page)["style-src"]


def test_walk_in_widget_may_be_framed_by_the_organisations_sites(webtest, org, dbsession):
    widget = WalkInWidget(organisation_id=org.id, name="Walk-in", custom_css="h1 { color: red }")
    dbsession.add(widget)
    dbsession.flush()
    app = webtest("acme")
    page = app.get(f"/walk-in/{widget.public_id}")
    assert_secured(page, framing="'self' https://www.acme.example")
    style_nonces = {s["nonce"] for s in page.html.find_all("style")}
    assert len(style_nonces) == 1
    assert f"'nonce-{style_nonces.pop()}'" in policy(page)["style-src"]
    # ... and its error pages too, since they show inside the frame.
    assert_secured(
        app.get("/walk-in/nonexistent", status=404), framing="'self' https://www.acme.example"
    )


def test_staff_pages_may_not_be_framed(webtest, org, make_user, login):
    app = webtest("acme")
    login(app, make_user(org, role=Role.org_admin))
    for path in ("/", "/profile", "/staff"):
        assert_secured(app.get(path))


# --- the templates ----------------------------------------------------------------------


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_scripts_handlers_or_unnonced_styles(path):
    text = path.read_text()
    scripts = re.findall(r"<script\b[^>]*>", text)
    # src= for code, or a JSON data block.
    assert all("src=" in tag or 'type="application/json"' in tag for tag in scripts), scripts
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"javascript:", text, re.IGNORECASE)
    styles = re.findall(r"<style\b[^>]*>", text)
    assert all('nonce="{{ request.csp_nonce }}"' in tag for tag in styles), styles
