"""Fixtures shared by the test modules. ``consultroom.testing`` (a pytest
plugin) provides the application, the database and the factories; these
support modules add the real realtime server (``server``, ``clinic``), the
clinic of the client-mail tests (``clinic_oost``) and the world of the route
walks (``world``)."""

import os

import pytest

pytest_plugins = ["realtime_support", "clientmail_support", "route_walk"]


def pytest_runtest_setup(item):
    # The test command leaves these out of its SQLite pass; run by hand on
    # SQLite they are skipped, not failed.
    if item.get_closest_marker("postgresql_only") and not _on_postgresql():
        pytest.skip("needs PostgreSQL (CONSULTROOM_TEST_DB)")


def _on_postgresql():
    return os.environ.get("CONSULTROOM_TEST_DB", "").startswith("postgresql")
