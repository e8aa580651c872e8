"""Content-Security-Policy additions declared by plugins (``PluginInfo.csp``):
checked when the plugin is loaded (a bad one makes the plugin unusable,
with the reason), and added to the responses of an organisation that
enabled the plugin, never to those of one that did not."""

from importlib.metadata import EntryPoint

import pytest

from consultroom.accounts.models import Role
from consultroom.plugins.csp import additions, csp_problem
from consultroom.plugins.registry import PluginRegistry

HELLO_SCRIPT = "https://js.hello.example"
HELLO_FRAME = "https://frames.hello.example/embed/"


@pytest.mark.parametrize(
    "csp",
    [
        {},
        {"script-src": ["https://js.stripe.com"], "frame-src": ["https://*.stripe.com/"]},
        {"connect-src": ["wss://live.example.org:8443/socket", "https://api.example.org"]},
        {"style-src": ["'sha256-B2yPHKaXnvFWtRChIbabYmUBFZdVfKKXHbWtWidDVF8='"]},
        {"img-src": ("https://cdn.example.org/img/",)},
    ],
)
def test_allowed_additions(csp):
    assert csp_problem(csp) == ""


@pytest.mark.parametrize(
    ("csp", "problem"),
    [
        ({"script-src": ["'unsafe-inline'"]}, "'unsafe-inline'"),
        ({"script-src": ["'unsafe-eval'"]}, "'unsafe-eval'"),
        ({"script-src": ["*"]}, "'*'"),
        ({"img-src": ["https:"]}, "'https:'"),
        ({"img-src": ["data:"]}, "'data:'"),
        ({"script-src": ["http://js.example.org"]}, "http://js.example.org"),
        ({"frame-src": ["wss://live.example.org"]}, "wss://live.example.org"),
        ({"script-src": ["https://js.example.org; script-src *"]}, "script-src *"),
        ({"script-src": ["https://js.example.org 'unsafe-inline'"]}, "unsafe-inline"),
        ({"default-src": ["https://example.org"]}, "'default-src'"),
        ({"frame-ancestors": ["https://example.org"]}, "'frame-ancestors'"),
        ({"sandbox": []}, "'sandbox'"),
        ({"script-src": "https://js.example.org"}, "not a list of strings"),
        ({"script-src": [42]}, "not a string"),
        (["script-src"], "not a mapping"),
    ],
)
def test_refused_additions_are_named(csp, problem):
    assert problem in csp_problem(csp)


def test_additions_of_several_plugins_are_merged_once():
    merged = additions(
        [
            {"script-src": ["https://a.example"]},
            {"script-src": ["https://a.example", "https://b.example"]},
        ]
    )
    assert merged == {"script-src": ["https://a.example", "https://b.example"]}


def test_a_plugin_with_a_bad_csp_is_not_usable():
    registry = PluginRegistry.discover(
        eps=[EntryPoint(name="badcsp", value="fake_plugins.badcsp", group="consultroom.plugins")]
    )
    plugin = registry.get("badcsp")
    assert "'unsafe-inline'" in plugin.problem and "script-src" in plugin.problem
    assert registry.usable() == []


def _policy(response):
    return dict(
        part.split(" ", 1) for part in response.headers["Content-Security-Policy"].split("; ")
    )


@pytest.fixture
def apps(webtest, login, make_organisation, make_user, enable_plugin):
    on, off = make_organisation("on"), make_organisation("off")
    enable_plugin(on, "hello")
    made = {}
    for org in (on, off):
        made[org.subdomain] = webtest(org.subdomain)
        login(made[org.subdomain], make_user(org, role=Role.practitioner))
    return made


def test_staff_pages_carry_the_additions_only_where_enabled(apps):
    on = _policy(apps["on"].get("/"))
    assert on["script-src"].split() == ["'self'", HELLO_SCRIPT]
    # frame-src was left to default-src: it starts from 'self'.
    assert on["frame-src"].split() == ["'self'", HELLO_FRAME]
    assert on["object-src"] == "'none'" and on["default-src"] == "'self'"
    off = _policy(apps["off"].get("/"))
    assert off["script-src"] == "'self'" and "frame-src" not in off
    assert HELLO_SCRIPT not in apps["off"].get("/").headers["Content-Security-Policy"]


def test_public_widget_pages_too(webtest, apps):
    assert HELLO_SCRIPT in _policy(webtest("on").get("/book"))["script-src"]
    assert HELLO_SCRIPT not in _policy(webtest("off").get("/book"))["script-src"]


def test_a_plugins_own_page_and_static_files(apps):
    assert HELLO_SCRIPT in _policy(apps["on"].get("/hello"))["script-src"]
    assert HELLO_SCRIPT in _policy(apps["on"].get("/hello-static/hello.css"))["script-src"]
    assert HELLO_SCRIPT not in _policy(apps["off"].get("/hello", status=404))["script-src"]
