"""Every model module of the core, imported in one place so that the
metadata is complete (for migrations and for tests)."""
import importlib

CORE_MODEL_MODULES = [
    "consultroom.tenancy.models",
    "consultroom.accounts.models",
    "consultroom.plugins.models",
    "consultroom.mail.models",
    "consultroom.ratelimit.models",
    "consultroom.clients.models",
    "consultroom.appointments.models",
    "consultroom.scheduling.models",
    "consultroom.clientmail.models",
    "consultroom.waitingroom.models",
    "consultroom.widgets.models",
    "consultroom.twofactor.models",
    "consultroom.audit.models",
    "consultroom.sessions.models",
    "consultroom.realtime.models",
]


def import_all_models():
    for name in CORE_MODEL_MODULES:
        importlib.import_module(name)
    # Plugin modules import their models when they are loaded by discovery.
