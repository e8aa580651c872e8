"""Fixtures shared by the test modules. ``consultroom.testing`` (a pytest
plugin) provides the application, the database and the factories; these
support modules add the real realtime server (``server``, ``clinic``), the
clinic of the client-mail tests (``clinic_oost``) and the world of the route
walks (``world``)."""

pytest_plugins = ["realtime_support", "clientmail_support", "route_walk"]
