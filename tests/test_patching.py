"""gevent patches the standard library before anything keeps thread-local
state: in every entry point (pserve's runner, gunicorn's worker, the
``consultroom`` command), and a process that imported Pyramid's or the
transaction manager's thread-locals first refuses to start. Under load,
every request of a real server sees only its own identity."""

import re
import subprocess  # nosec B404
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from consultroom.accounts.models import Role

from realtime_support import BIN, Browser, Server, database_url

# Run in a fresh interpreter: after the command ran, the thread-locals that
# Pyramid and the transaction manager made at import are greenlet-locals.
CHECK_LOCALS = """
import gevent.local, pyramid.threadlocal, transaction
assert isinstance(pyramid.threadlocal.manager, gevent.local.local)
assert isinstance(transaction.manager, gevent.local.local)
"""


def python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


@pytest.mark.sqlite_only
def test_the_command_patches_before_pyramid_is_imported():
    result = python(
        "from consultroom import command\n"
        "try:\n    command(['--help'])\nexcept SystemExit:\n    pass\n" + CHECK_LOCALS
    )
    assert result.returncode == 0, result.stderr
    assert "usage: consultroom" in result.stdout


@pytest.mark.sqlite_only
def test_the_application_factory_patches_before_pyramid_is_imported():
    result = python(
        "import consultroom\n"
        "try:\n    consultroom.main({})\nexcept KeyError:\n    pass\n" + CHECK_LOCALS
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "module", ["pyramid.threadlocal", "transaction", "psycopg", "zope.sqlalchemy"]
)
@pytest.mark.parametrize("entry", ["consultroom.main({})", "consultroom.command(['--help'])"])
def test_an_entry_point_refuses_to_run_after_a_too_early_import(module, entry):
    result = python(f"import {module}\nimport consultroom\n{entry}")
    assert result.returncode != 0
    assert "PatchedTooLate" in result.stderr
    assert module in result.stderr.splitlines()[-1]


@pytest.mark.sqlite_only
def test_the_installed_command_runs():
    result = subprocess.run(
        [BIN / "consultroom", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module", params=["pserve", "gunicorn"])
def server(request, tmp_path_factory):
    here = tmp_path_factory.mktemp(request.param)
    url, drop = database_url(here)
    server = Server(here, url, runner=request.param).start()
    yield server
    server.stop()
    drop()


def test_concurrent_requests_each_see_only_their_own_identity(server):
    org = server.organisation()
    users = [server.user(org, role=Role.practitioner, name=f"Person {n:02d}") for n in range(12)]
    browsers = [Browser(server.port, org).log_in(user) for user in users]
    names = {user.name for user in users}

    def home(n):
        browser, user = browsers[n % len(users)], users[n % len(users)]
        # 60 at once queue behind one process and its pool: on a busy
        # machine the last may wait far past the usual 10 s; what is counted
        # is who sees whose name, not how fast.
        status, _headers, page = browser.request("/", timeout=90)
        shown = set(re.findall(r"Person \d\d", page.decode()))
        return status, user.name, shown

    with ThreadPoolExecutor(max_workers=60) as pool:
        results = list(pool.map(home, range(240)))
    assert [status for status, _name, _shown in results] == [200] * 240, server.log()
    for _status, name, shown in results:
        assert shown == {name}, (name, shown)
    assert names == {name for _status, name, _shown in results}
