"""pytest fixtures for testing Consultroom and its plugins.

Installed as a pytest plugin (entry point ``pytest11``), so a plugin's own
test suite gets these fixtures by installing ``consultroom[test]``:

``app``             the WSGI application, with every installed plugin
``webtest``         ``webtest("sub")``: a WebTest app for that subdomain
                    (``webtest()`` is the hosting provider's console)
``dbsession``       a session on the test's database transaction, rolled
                    back after the test; the app's requests share it
``make_organisation``, ``make_user``   factories (passwords hashed with
                    argon2's cheapest parameters, as the test app is set up)
``enable_plugin``   ``enable_plugin(org, "myplugin", enabled=True,
                    settings={"key": value})``: unnamed settings keep
                    their stored value or default; a bad value raises
                    ``consultroom.tenancy.options.SettingsError``
``login``           ``login(testapp, user)``: ``testapp`` is logged in as
                    ``user`` (a session as a login makes it, without the
                    form's password check); ``login(testapp, user,
                    password=...)`` logs in through the login form
``open_portal``     ``open_portal(testapp, client)``: ``client``'s portal
                    is open in ``testapp`` (as after the e-mailed PIN), for
                    a plugin's pages under ``/portal/<token>/``
``smtp``            a real SMTP server on loopback; ``smtp.messages``
``swap_service``    ``swap_service(IOutbox, fake)``: the app uses ``fake``
                    for that service until the test ends
``fresh_sqlite``    ``fresh_sqlite(path)``: a migrated SQLite database of
                    the test's own at ``path`` (a copy of one migrated once
                    per session), for a command or server under test

``migrated_database(server, sqlite_path)`` (a function) is the same for a
server of its own outside the fixtures, on SQLite or PostgreSQL.

The database is SQLite unless ``CONSULTROOM_TEST_DB`` names a PostgreSQL
server (``postgresql+psycopg://root@127.0.0.1/postgres``): a fresh database
is then created for the run and dropped afterwards. Migrations of the core and
every installed plugin run once per session.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess  # only to stop test servers  # nosec B404
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import pkg_resources
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

import consultroom
from consultroom.accounts.models import Role, User
from consultroom.accounts.passwords import Argon2Hasher
from consultroom.accounts.security import SESSION_USER, logged_in_session
from consultroom.app import make_config
from consultroom.db import cache, make_engine, make_session_factory, migrate, utcnow
from consultroom.plugins import set_enabled
from consultroom.plugins.registry import PluginRegistry
from consultroom.portal.pins import SESSION_KEY as PORTAL_SESSION
from consultroom.secretbox import secret_box
from consultroom.sessions.models import StoredSession
from consultroom.sessions.store import COOKIE, expires_at, hash_id
from consultroom.tenancy.models import Organisation

if TYPE_CHECKING:
    # No type information in these: Any to mypy, named for the reader.
    from aiosmtpd.smtp import Envelope
    from pyramid.router import Router
    from webtest import TestApp
    from zope.interface.interface import InterfaceClass

    from consultroom.clients.models import Client
    from consultroom.plugins.models import PluginEnablement

BASE_DOMAIN = "consultroom.test"
PASSWORD = "correct horse battery"  # test accounts only  # nosec B105
# Argon2 at full cost takes a quarter of a second per hash and per login.
CHEAP_PASSWORDS = {"passwords.argon2_profile": "CHEAPEST"}
_cheap_hasher = Argon2Hasher("CHEAPEST")


def password_hash(password: str = PASSWORD) -> str:
    """A hash of ``password`` that costs nothing to make or to verify."""
    return _cheap_hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s (never rehashes, unlike a login)."""
    if user.password_hash is None:
        return False
    try:
        return PasswordHasher().verify(user.password_hash, password)
    except VerifyMismatchError:
        return False


# What the factory fixtures return.


class WebTestFactory(Protocol):
    def __call__(self, subdomain: str | None = None) -> TestApp:
        """A WebTest app for the site at ``subdomain`` (None: the console)."""
        ...


class OrganisationFactory(Protocol):
    def __call__(self, subdomain: str | None = None, **kw: Any) -> Organisation:
        """A new, flushed organisation; ``kw``: other columns of ``Organisation``."""
        ...


class UserFactory(Protocol):
    def __call__(
        self,
        organisation: Organisation | None,
        role: Role = Role.practitioner,
        password: str | None = PASSWORD,
        **kw: Any,
    ) -> User:
        """A new, flushed user of ``organisation`` (None: a console user);
        ``password`` None: none; ``kw``: other columns of ``User``."""
        ...


class EnablePlugin(Protocol):
    def __call__(
        self,
        organisation: Organisation,
        plugin_id: str,
        enabled: bool = True,
        settings: Mapping[str, object] | None = None,
    ) -> PluginEnablement:
        """Switch ``plugin_id`` on (or off) for ``organisation``, with
        ``settings`` checked by the plugin's options."""
        ...


Fake = TypeVar("Fake")


class SwapService(Protocol):
    def __call__(self, interface: InterfaceClass, fake: Fake) -> Fake:
        """Make the app use ``fake`` for ``interface`` until the test ends."""
        ...


class OpenPortal(Protocol):
    def __call__(self, testapp: TestApp, client: Client) -> None:
        """Open ``client``'s portal in ``testapp``'s browser, as the right
        PIN does (a stored session, without the e-mail)."""
        ...


class Login(Protocol):
    def __call__(self, testapp: TestApp, user: User, password: str | None = None) -> None:
        """Log ``user`` in on ``testapp``: through the login form when a
        ``password`` is given, else by storing the session a login makes."""
        ...


# This module is a pytest plugin, so pytest imports the consultroom package
# through its assertion-rewriting loader, which pkg_resources does not know.
# Pyramid reads asset specs (the bundled theme, consultroom:themes/default)
# through pkg_resources: tell it that loader's files are ordinary files.
pkg_resources.register_loader_type(type(consultroom.__loader__), pkg_resources.DefaultProvider)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int, process: subprocess.Popen[Any] | None = None, timeout: float = 30
) -> None:
    """Wait until something listens on 127.0.0.1:``port``; fail early when
    ``process`` (the server being started) exits instead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def stop_process(process: subprocess.Popen[Any]) -> None:
    """Terminate a server process, killing it when it does not stop."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class CapturingSMTP:
    """An in-process SMTP server (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        """aiosmtpd's handler hook for a received message."""
        # Bytes: the controller leaves decode_data off.
        content = cast(bytes, envelope.content)
        msg = message_from_bytes(content, policy=policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[CapturingSMTP]:
    server = CapturingSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: CapturingSMTP) -> CapturingSMTP:
    smtp_server.messages.clear()
    return smtp_server


def _test_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Callable[[], None]]:
    return scratch_database(
        os.environ.get("CONSULTROOM_TEST_DB", ""),
        tmp_path_factory.mktemp("db") / "test.sqlite",
        durable=False,
    )


def scratch_database(
    server: str, sqlite_path: str | Path, prefix: str = "consultroom_test", durable: bool = True
) -> tuple[str, Callable[[], None]]:
    """A new, empty database and a function that drops it: a SQLite file at
    ``sqlite_path`` when ``server`` is empty or "sqlite", else a database of
    its own on that PostgreSQL server (for tests and benchmarks).
    ``durable=False``: on PostgreSQL a commit does not wait for the disk
    (``synchronous_commit = off``), for tests, whose data may die with a
    crash; benchmarks keep production's commits."""
    if _is_sqlite(server):
        return f"sqlite:///{sqlite_path}", lambda: None
    return _server_database(server, prefix, "", durable)


# server (or "" for SQLite) -> this process's migrated template database.
_templates: dict[str, str] = {}


def migrated_database(
    server: str, sqlite_path: str | Path, prefix: str = "consultroom_test"
) -> tuple[str, Callable[[], None]]:
    """Like ``scratch_database``, but migrated to every installed plugin's
    head, as ``consultroom db upgrade`` leaves it: a copy of a template this
    process migrates once (a file copy on SQLite, ``CREATE DATABASE …
    TEMPLATE`` on PostgreSQL), for a server or command under test. Running
    the migrations for each one cost seconds. Not durable (see
    ``scratch_database``)."""
    sqlite = _is_sqlite(server)
    key = "" if sqlite else server
    if key not in _templates:
        _templates[key] = _migrated_template(server, prefix)
    template = make_url(_templates[key]).database or ""
    if sqlite:
        shutil.copyfile(template, sqlite_path)
        return f"sqlite:///{sqlite_path}", lambda: None
    return _server_database(server, prefix, f' TEMPLATE "{template}"', durable=False)


def _is_sqlite(server: str) -> bool:
    return not server or server == "sqlite"


def _migrated_template(server: str, prefix: str) -> str:
    folder = Path(tempfile.mkdtemp(prefix="consultroom-template-"))
    url, drop = scratch_database(server, folder / "template.sqlite", f"{prefix}_template", False)
    engine: Engine = make_engine({"sqlalchemy.url": url})
    migrate.upgrade(engine, PluginRegistry.discover())
    # PostgreSQL copies a template only while nobody is connected to it.
    engine.dispose()
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    atexit.register(drop)
    return url


def _server_database(
    server: str, prefix: str, template: str, durable: bool
) -> tuple[str, Callable[[], None]]:
    """A new database on that PostgreSQL server (``template``: the clause
    that copies one) and a function that drops it."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
        if not durable:
            # A template's settings are not copied with it.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    return url, lambda: _drop_database(admin, name)


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def plugin_registry() -> PluginRegistry:
    # CONSULTROOM_TEST_PLUGINS="chat hello": only these installed plugins
    # (e.g. while another one is half-built in the same environment).
    only = os.environ.get("CONSULTROOM_TEST_PLUGINS")
    return PluginRegistry.discover(only=set(only.split()) if only else None)


@pytest.fixture(scope="session")
def app_settings(
    tmp_path_factory: pytest.TempPathFactory, smtp_server: CapturingSMTP
) -> Iterator[dict[str, str]]:
    url, drop = _test_database(tmp_path_factory)
    settings = {
        "sqlalchemy.url": url,
        "consultroom.base_domain": BASE_DOMAIN,
        "consultroom.public_url": f"http://{BASE_DOMAIN}",
        "session.secret": secrets.token_urlsafe(48),
        "session.secure": "false",
        "mail.transport": "smtp",
        "mail.host": "127.0.0.1",
        "mail.port": str(smtp_server.port),
        "mail.sender": "Consultroom <noreply@consultroom.test>",
        "mail.deliver_after_commit": "sync",
        # The app's requests share the test's connection: no second thread on it.
        "audit.link_in_background": "false",
        **CHEAP_PASSWORDS,
    }
    yield settings
    drop()


@pytest.fixture(scope="session")
def _sqlite_template(
    tmp_path_factory: pytest.TempPathFactory, plugin_registry: PluginRegistry
) -> Path:
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite"
    engine: Engine = make_engine({"sqlalchemy.url": f"sqlite:///{path}"})
    migrate.upgrade(engine, plugin_registry)
    engine.dispose()
    return path


@pytest.fixture
def fresh_sqlite(_sqlite_template: Path) -> Callable[[Path], str]:
    def copy(path: Path) -> str:
        shutil.copyfile(_sqlite_template, path)
        return f"sqlite:///{path}"

    return copy


@pytest.fixture(scope="session")
def db_engine(app_settings: dict[str, str], plugin_registry: PluginRegistry) -> Iterator[Engine]:
    engine: Engine = make_engine(app_settings)
    migrate.upgrade(engine, plugin_registry)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _app_dbmaker() -> sessionmaker[Session]:
    # Bound to each test's connection by ``db_connection``.
    dbmaker: sessionmaker[Session] = make_session_factory(
        None, join_transaction_mode="create_savepoint"
    )
    return dbmaker


@pytest.fixture(scope="session")
def app(
    app_settings: dict[str, str],
    plugin_registry: PluginRegistry,
    _app_dbmaker: sessionmaker[Session],
    db_engine: Engine,
) -> Router:
    config = make_config(app_settings, plugins=plugin_registry, dbmaker=_app_dbmaker)
    router: Router = config.make_wsgi_app()
    return router


@pytest.fixture
def db_connection(db_engine: Engine, _app_dbmaker: sessionmaker[Session]) -> Iterator[Connection]:
    connection = db_engine.connect()
    outer = connection.begin()
    _app_dbmaker.configure(bind=connection)
    yield connection
    outer.rollback()
    connection.close()
    # The rows the test wrote are gone: so are the caches that held them.
    cache.tables_changed(cache.cached_tables(), notify=False)


@pytest.fixture
def dbsession(db_connection: Connection, _app_dbmaker: sessionmaker[Session]) -> Iterator[Session]:
    session = _app_dbmaker()
    yield session
    session.close()


@pytest.fixture
def webtest(app: Router, db_connection: Connection) -> WebTestFactory:
    from webtest import TestApp

    def make(subdomain: str | None = None) -> TestApp:
        host = f"{subdomain}.{BASE_DOMAIN}" if subdomain else BASE_DOMAIN
        return TestApp(app, extra_environ={"HTTP_HOST": host, "REMOTE_ADDR": "192.0.2.10"})

    return make


@pytest.fixture
def make_organisation(dbsession: Session) -> OrganisationFactory:
    counter = iter(range(1, 10**6))

    def make(subdomain: str | None = None, **kw: Any) -> Organisation:
        n = next(counter)
        org = Organisation(subdomain=subdomain or f"org{n}", name=kw.pop("name", f"Org {n}"), **kw)
        dbsession.add(org)
        dbsession.flush()
        return org

    return make


@pytest.fixture
def make_user(dbsession: Session) -> UserFactory:
    counter = iter(range(1, 10**6))

    def make(
        organisation: Organisation | None,
        role: Role = Role.practitioner,
        password: str | None = PASSWORD,
        **kw: Any,
    ) -> User:
        n = next(counter)
        user = User(
            organisation_id=organisation.id if organisation else None,
            email=kw.pop("email", f"user{n}@example.org"),
            name=kw.pop("name", f"User {n}"),
            role=role,
            password_hash=password_hash(password) if password else None,
            **kw,
        )
        dbsession.add(user)
        dbsession.flush()
        return user

    return make


@pytest.fixture
def enable_plugin(app: Router, dbsession: Session) -> EnablePlugin:
    plugins: PluginRegistry = app.registry.plugins

    def enable(
        organisation: Organisation,
        plugin_id: str,
        enabled: bool = True,
        settings: Mapping[str, object] | None = None,
    ) -> PluginEnablement:
        row = set_enabled(
            plugins, dbsession, organisation, plugin_id, enabled, settings, secret_box(app.registry)
        )
        dbsession.flush()
        return row

    return enable


@pytest.fixture
def swap_service(app: Router) -> Iterator[SwapService]:
    """Register a fake for one of the app's services (``IOutbox``,
    ``IMessageBus``, ...); the originals come back after the test, since the
    app serves the whole test session."""
    registry = app.registry
    originals: list[tuple[InterfaceClass, object]] = []

    def swap(interface: InterfaceClass, fake: Fake) -> Fake:
        originals.append((interface, registry.getUtility(interface)))
        registry.registerUtility(fake, interface)
        return fake

    yield swap
    for interface, original in reversed(originals):
        registry.registerUtility(original, interface)


@pytest.fixture
def login(app: Router, dbsession: Session) -> Login:
    def through_form(testapp: TestApp, user: User, password: str) -> None:
        form = testapp.get("/login").forms[0]
        form["email"] = user.email
        form["password"] = password
        response = form.submit()
        assert response.status_int == 303, response.text  # a test fixture  # nosec B101

    def do(testapp: TestApp, user: User, password: str | None = None) -> None:
        if password is not None:
            return through_form(testapp, user, password)
        # Argon2 and the login page cost more than most tests that log in.
        _store_session(app, dbsession, testapp, user.organisation_id, logged_in_session(user))
        return None

    return do


@pytest.fixture
def open_portal(app: Router, dbsession: Session) -> OpenPortal:
    def do(testapp: TestApp, client: Client) -> None:
        # The PIN's own path is tested once, in tests/test_portal.py.
        data = {PORTAL_SESSION: {"client": client.id, "seen": time.time()}}
        _store_session(app, dbsession, testapp, client.organisation_id, data)

    return do


def _store_session(
    app: Router,
    dbsession: Session,
    testapp: TestApp,
    organisation_id: int | None,
    data: dict[str, Any],
) -> None:
    """Give ``testapp``'s browser a stored session holding ``data``."""
    session_id = secrets.token_urlsafe(32)
    settings = app.registry.settings
    organisation = dbsession.get(Organisation, organisation_id) if organisation_id else None
    now = utcnow()
    dbsession.add(
        StoredSession(
            id_hash=hash_id(session_id),
            organisation_id=organisation_id,
            user_id=data.get(SESSION_USER),
            data=data,
            created_at=now,
            last_seen=now,
            expires_at=expires_at(settings, organisation, now, now),
        )
    )
    dbsession.flush()
    testapp.set_cookie(COOKIE, session_id)
    for cookie in testapp.cookiejar:  # unquoted, as the app's Set-Cookie leaves it
        if cookie.name == COOKIE:
            cookie.value = session_id
