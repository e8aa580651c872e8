"""Which site a Host header selects."""

import pytest

from consultroom.web.sites import CONSOLE, ORGANISATION, UNKNOWN, subdomain_of


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "host, expected",
    [
        ("localhost", (CONSOLE, None)),
        ("localhost:6543", (CONSOLE, None)),
        ("demo.localhost:6543", (ORGANISATION, "demo")),
        ("DEMO.localhost.", (ORGANISATION, "demo")),
        ("a.b.localhost", (UNKNOWN, None)),
        ("evil.com", (UNKNOWN, None)),
        ("notlocalhost", (UNKNOWN, None)),
        (".localhost", (UNKNOWN, None)),
        ("demo.localhost:6543@evil.example", (UNKNOWN, None)),
        ("demo.localhost#.evil.example", (UNKNOWN, None)),
        ("demo.localhost:", (UNKNOWN, None)),
        ("demo.localhost:123456", (UNKNOWN, None)),
        ("[::1]:6543", (UNKNOWN, None)),
        ("", (UNKNOWN, None)),
    ],
)
def test_subdomain_of(host, expected):
    assert subdomain_of(host, "localhost") == expected


def test_login_page_of_an_organisation(webtest, make_organisation):
    make_organisation("acme", name="Acme Clinic")
    page = webtest("acme").get("/login")
    assert "Acme Clinic" in page.text
    assert page.forms[0]["email"]


def test_unknown_subdomain_is_a_clear_404(webtest):
    page = webtest("nobody").get("/login", status=404)
    assert "There is no organisation at this address" in page.text


def test_foreign_host_is_400(app, db_connection):
    from webtest import TestApp

    TestApp(app, extra_environ={"HTTP_HOST": "example.com"}).get("/login", status=400)


def test_console_home_needs_superuser(webtest):
    response = webtest().get("/", status=302)
    assert "/login" in response.location


def test_a_foreign_host_gets_a_page_that_names_no_foreign_link(app, db_connection):
    from webtest import TestApp

    page = TestApp(app, extra_environ={"HTTP_HOST": "a.b.consultroom.test"}).get(
        "/login", status=400, headers={"Accept-Language": "nl"}
    )
    assert "Op dit adres is geen organisatie te vinden" in page.text
    assert "a.b.consultroom.test" not in page.text
