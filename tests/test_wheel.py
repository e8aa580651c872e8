"""The core and the chat plugin as a hosting provider installs them: wheels
built from the working tree, installed into a fresh virtualenv that cannot
see the source tree, then migrated, given an organisation and a user and
chat enabled with the ``consultroom`` command it installed, and served by
``pserve`` under that virtualenv's Python: the login page (with its CSS, and
in Dutch, which needs the compiled catalogues), a staff page, a client's
page, and chat's pages and script (in its own catalogue) over real HTTP."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.appointments.models import Appointment, Kind
from consultroom.clients.models import Client
from consultroom.db import make_engine, make_session_factory, utcnow
from consultroom.tenancy.models import Organisation
from consultroom.testing import free_port, stop_process, wait_for_port

from realtime_support import BASE_DOMAIN, PASSWORD, Browser

# The installed wheel serves a SQLite database of its own.
pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SUBDOMAIN = "wheel"
EMAIL = "doctor@wheel.example"

INI = """
[app:main]
use = egg:consultroom
consultroom.base_domain = {base}
consultroom.public_url = http://{base}:{port}
sqlalchemy.url = sqlite:///{here}/consultroom.sqlite
session.secret = wheel-test-secret-0123456789-0123456789-0123456789-0123456789
session.secure = false
mail.transport = folder
mail.folder = {here}/mail
mail.sender = Consultroom <noreply@consultroom.test>
files.dir = {here}/files

[server:main]
use = egg:consultroom#gevent_websocket
host = 127.0.0.1
port = {port}
"""


def copy_sources(destination):
    """The working tree as git sees it (tracked and new files, nothing
    ignored): no compiled catalogues, so the wheel's must come from its build
    step, and no old build output; the build writes nothing into the tree."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source, target = ROOT / name, destination / name
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the working tree, not yet in git
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)


def build_wheels(sources, wheels):
    """The core's and chat's, built as a build server would, in isolated
    environments: their requirements (setuptools, wheel, Babel) come from the
    index or uv's cache."""
    for source in (sources, sources / "plugins" / "chat"):
        subprocess.run(
            [BIN / "uv", "build", "--quiet", "--wheel", "--out-dir", wheels, source],
            check=True,
        )
    return sorted(wheels.glob("consultroom*.whl"))


def link_dependencies(directory):
    """The test virtualenv's installed distributions, linked into
    ``directory``, leaving out Consultroom's own (the editable core, the test
    plugins) and the .pth files that would put the source tree on the path:
    the new virtualenv finds its dependencies there instead of downloading
    them."""
    directory.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if name.startswith(("consultroom", "__editable__", "__pycache__")) or name.endswith(".pth"):
            continue
        (directory / entry.name).symlink_to(entry)


def printed(python, code, **kwargs):
    """What ``python -c code`` prints."""
    return subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True, **kwargs
    ).stdout.strip()


def make_virtualenv(path, wheels, dependencies):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", path], check=True)
    python = path / "bin" / "python"
    purelib = printed(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    Path(purelib, "dependencies.pth").write_text(f"{dependencies}\n")
    subprocess.run(
        [
            BIN / "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
            *wheels,
        ],
        check=True,
    )
    return path / "bin"


def isolated_environment():
    """The environment without anything that points into the source tree."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "CONSULTROOM_CONFIG", "VIRTUAL_ENV")
    }


def add_appointment(url):
    """An appointment starting now with the user, for a Dutch client: its link."""
    engine = make_engine({"sqlalchemy.url": url})
    try:
        with make_session_factory(engine)() as session:
            org = session.scalars(select(Organisation).filter_by(subdomain=SUBDOMAIN)).one()
            doctor = session.scalars(select(User).filter_by(email=EMAIL)).one()
            client = Client(
                organisation_id=org.id,
                initials="A.",
                last_name="Bakker",
                email="a.bakker@example.org",
                language="nl",
            )
            appointment = Appointment(
                organisation_id=org.id,
                client=client,
                practitioner_id=doctor.id,
                kind=Kind.quick,
                starts_at=utcnow().replace(microsecond=0),
                duration_minutes=20,
            )
            session.add_all([client, appointment])
            session.commit()
            return f"/c/{appointment.token}"
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The bin directory of a fresh virtualenv with the core and chat
    installed from their wheels."""
    here = tmp_path_factory.mktemp("wheel")
    copy_sources(here / "src")
    wheels = build_wheels(here / "src", here / "dist")
    link_dependencies(here / "dependencies")
    return make_virtualenv(here / "venv", wheels, here / "dependencies")


@pytest.fixture(scope="module")
def server(installed, tmp_path_factory):
    here = tmp_path_factory.mktemp("site")
    port = free_port()
    ini = here / "consultroom.ini"
    ini.write_text(INI.format(base=BASE_DOMAIN, port=port, here=here))
    env = isolated_environment()

    def consultroom(*args, stdin=None):
        return subprocess.run(
            [installed / "consultroom", "-c", ini, *args],
            cwd=here,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    consultroom("db", "upgrade")
    consultroom("orgs", "create", "--subdomain", SUBDOMAIN, "--name", "Wheel Clinic")
    consultroom(
        "users",
        "create",
        "--org",
        SUBDOMAIN,
        "--email",
        EMAIL,
        "--name",
        "Dr. Wheel",
        "--role",
        "org_admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    consultroom("plugins", "enable", "--org", SUBDOMAIN, "chat", "--set", "in_waiting_room=true")
    with open(here / "pserve.log", "w") as log:
        # pserve's script belongs to Pyramid, linked in from the test virtualenv.
        process = subprocess.Popen(
            [installed / "python", "-m", "pyramid.scripts.pserve", ini],
            cwd=here,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield SimpleNamespace(
                port=port,
                env=env,
                here=here,
                link=add_appointment(f"sqlite:///{here}/consultroom.sqlite"),
            )
        finally:
            stop_process(process)


def test_the_core_comes_from_the_wheel(installed, server):
    where = printed(
        installed / "python",
        "import consultroom; print(consultroom.__file__)",
        cwd=server.here,
        env=server.env,
    )
    assert Path(where).is_relative_to(installed.parent) and not Path(where).is_relative_to(ROOT)


def test_login_page_with_its_css(server):
    browser = Browser(server.port, SimpleNamespace(subdomain=SUBDOMAIN))
    status, _headers, page = browser.request("/login")
    assert status == 200 and b'name="password"' in page and b"Wheel Clinic" in page
    assert b'href="/static/css/main.css"' in page
    status, headers, css = browser.request("/static/css/main.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and css


def test_login_page_in_dutch(server):
    browser = Browser(server.port, SimpleNamespace(subdomain=SUBDOMAIN))
    status, _headers, page = browser.request("/login?_LOCALE_=nl")
    assert status == 200 and b"Wachtwoord" in page


def test_staff_page_after_logging_in(server):
    browser = Browser(server.port, SimpleNamespace(subdomain=SUBDOMAIN))
    browser.log_in(SimpleNamespace(email=EMAIL))
    status, _headers, page = browser.request("/clients")
    assert status == 200 and b"Dr. Wheel" in page and b'<nav class="menu"' in page


def test_client_page_in_the_clients_language(server):
    status, _headers, page = Browser(server.port, SimpleNamespace(subdomain=SUBDOMAIN)).request(
        server.link
    )
    assert status == 200 and b"Wachtkamer" in page


def test_chat_comes_from_its_wheel_and_speaks_its_catalogue(installed, server):
    where = printed(
        installed / "python",
        "import consultroom_chat; print(consultroom_chat.__file__)",
        cwd=server.here,
        env=server.env,
    )
    assert Path(where).is_relative_to(installed.parent) and not Path(where).is_relative_to(ROOT)
    browser = Browser(server.port, SimpleNamespace(subdomain=SUBDOMAIN))
    browser.log_in(SimpleNamespace(email=EMAIL))
    status, _headers, page = browser.request("/messages?_LOCALE_=nl")
    assert status == 200 and b"Kanaal maken met" in page
    status, _headers, script = browser.request("/chat-static/chat.js")
    assert status == 200 and b"chat.history" in script


def test_a_client_writes_through_chat_from_the_wheel(server):
    browser = Browser(server.port, SimpleNamespace(subdomain=SUBDOMAIN))
    status, _headers, page = browser.request(server.link + "/messages")
    assert status == 200 and b"Nog geen berichten." in page  # the client's Dutch
