"""The development set-up end to end: migrate, create the demo data, serve
with ``pserve`` (the gevent-websocket runner), and log in as each demo user
over real HTTP."""

import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from consultroom.demo import DEMO_PASSWORD, DEMO_USERS, SUPERUSER
from consultroom.testing import free_port, stop_process, wait_for_port

# The development set-up: SQLite in its own folder.
pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

MENUS = {
    "org_admin": ["My organisation", "Advanced settings", "Departments", "Staff"],
    "dept_admin": ["Departments", "Staff"],
    "practitioner": ["Dashboard", "My profile"],
}
NOT_IN_MENU = {
    "org_admin": [],
    "dept_admin": ["My organisation", "Advanced settings"],
    "practitioner": ["My organisation", "Departments", "Staff"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    here = tmp_path_factory.mktemp("run")
    port = free_port()
    ini = (ROOT / "development.ini").read_text()
    ini = ini.replace("%(here)s/var", str(here)).replace("port = 6543", f"port = {port}")
    ini = ini.replace("http://localhost:6543", f"http://localhost:{port}")
    config = here / "test.ini"
    config.write_text(ini)
    for command in (["db", "upgrade"], ["demo"]):
        done = subprocess.run(
            [BIN / "consultroom", "-c", config, *command],
            capture_output=True,
            text=True,
            check=True,
        )
    assert f"http://demo.localhost:{port}/" in done.stdout
    process = subprocess.Popen(
        [BIN / "pserve", config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    wait_for_port(port, process, timeout=20)
    yield port
    stop_process(process)


class Browser:
    """A cookie-keeping HTTP client that sends a chosen Host header."""

    def __init__(self, port, host):
        self.base = f"http://127.0.0.1:{port}"
        self.host = f"{host}:{port}"
        self.cookies = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, path, data=None):
        headers = {"Host": self.host}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            response = self.opener.open(req, timeout=10)
        except urllib.error.HTTPError as exc:
            response = exc
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response.status, response.read().decode()

    def log_in(self, email):
        status, page = self.request("/login")
        assert status == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _ = self.request(
            "/login", {"csrf_token": token, "email": email, "password": DEMO_PASSWORD}
        )
        assert status == 303
        return self.request("/")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_demo_organisation_shows_the_login_page(server):
    status, page = Browser(server, "demo.localhost").request("/")
    assert status == 302
    status, page = Browser(server, "demo.localhost").request("/login")
    assert status == 200 and "Demo Health Centre" in page and 'name="password"' in page


@pytest.mark.parametrize("email, _name, role, _dept", DEMO_USERS)
def test_each_demo_user_sees_the_menu_of_their_role(server, email, _name, role, _dept):
    status, page = Browser(server, "demo.localhost").log_in(email)
    assert status == 200
    menu = page[page.index('<nav class="menu"') : page.index("</nav>")]
    for label in MENUS[role.value]:
        assert f">{label}</a>" in menu
    for label in NOT_IN_MENU[role.value]:
        assert f">{label}</a>" not in menu


def test_superuser_logs_in_on_the_console(server):
    status, page = Browser(server, "localhost").log_in(SUPERUSER[0])
    assert status == 200 and "Demo Health Centre" in page
