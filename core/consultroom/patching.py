"""gevent's monkey-patching, done before anything else in every process that
imports Consultroom.

Pyramid (its current request and registry), ``transaction`` (the current
transaction) and zope.sqlalchemy keep per-request state in classes derived
from ``threading.local`` when they are imported. Imported before the patch,
they stay OS-thread locals that every greenlet of a process shares: one
request then reads another's identity and database session. psycopg imported
before the patch blocks the whole process on every query. So the package's
``__init__`` imports this module first (pserve and gunicorn load the
application through it, the CLI and the test servers import it first), and
``ensure()`` refuses to serve or run when something was imported too early.
"""

import sys

from gevent import monkey

# Modules that fix a thread-local or a blocking wait when imported. (pserve
# imports parts of Pyramid before the application, but not its thread-local.)
_SENSITIVE = ("pyramid.threadlocal", "transaction", "zope.sqlalchemy", "psycopg", "redis")


class PatchedTooLate(RuntimeError):
    pass


def _imported_packages() -> list[str]:
    return sorted(
        name
        for name in sys.modules
        if any(name == p or name.startswith(p + ".") for p in _SENSITIVE)
    )


# Set by patch(): the sensitive modules that were already imported.
imported_before: list[str] = []


def patch() -> None:
    """Patch the standard library, once; remember what was imported before."""
    global imported_before
    if not monkey.is_module_patched("threading"):
        imported_before = _imported_packages()
        monkey.patch_all()


def ensure() -> None:
    """Raise ``PatchedTooLate`` unless the patch came before every package
    that keeps thread-local state or blocking sockets."""
    if not monkey.is_module_patched("threading"):
        raise PatchedTooLate("gevent has not patched the standard library")
    if imported_before:
        raise PatchedTooLate(
            "imported before gevent patched the standard library (import consultroom"
            " first): " + ", ".join(imported_before)
        )
