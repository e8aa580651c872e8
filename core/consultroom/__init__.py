"""Consultroom: online video consultations between care providers and clients.

The package's entry points patch the standard library for gevent before
anything imports Pyramid, the transaction manager or the database driver
(see :mod:`consultroom.patching`), so this module imports none of them:
``main`` is the PasteDeploy application factory (pserve, gunicorn --paste),
``command`` the ``consultroom`` command. The application is assembled in
:mod:`consultroom.app`.
"""

from consultroom import collector, patching


def main(global_config, **settings):
    """The WSGI application for an ini file's ``[app:main]``."""
    patching.patch()
    patching.ensure()
    with collector.assembling():
        from consultroom.app import make_config

        return make_config(settings).make_wsgi_app()


def command(argv=None):
    """The ``consultroom`` command line."""
    patching.patch()
    patching.ensure()
    # Most of a command's start is importing the application's code.
    with collector.assembling():
        from consultroom.cli import main as run
    return run(argv)
