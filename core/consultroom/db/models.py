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
    "consultroom.portal.models",
    "consultroom.appointments.models",
    "consultroom.scheduling.models",
    "consultroom.clientmail.models",
    "consultroom.room.models",
    "consultroom.waitingroom.models",
    "consultroom.widgets.models",
    "consultroom.webpages.models",
    "consultroom.twofactor.models",
    "consultroom.audit.models",
    "consultroom.remotesupport.models",
    "consultroom.sessions.models",
    "consultroom.jobs.models",
    "consultroom.reports.models",
    "consultroom.alerts.models",
]

# The tables that are not OrganisationScoped (consultroom.db.scope), and why
# a request of one organisation cannot read another's rows through them.
# tests/test_tenancy_scope.py makes every new table choose.
UNSCOPED = {
    "organisation": "the tenants themselves: a request's own is looked up by its subdomain;"
    " the scope keeps an organisation's request to that one row",
    "audit_chain": "a length and a hash per chain, no content; the chain's lock, taken for"
    " whichever organisation a console action concerns",
    "rate_limit_failure": "failed attempts by address or e-mail: counted across sites on purpose",
    "rate_limit_key": "the lock row of a rate-limited key, as rate_limit_failure",
    "installation_key": "the installation's own keys (the VAPID key), of no organisation",
    "two_factor": "a user's, read for a user that was read in scope",
    "two_factor_recovery_code": "a user's, as two_factor",
    "mail_template": "a template set's, read through the set (in scope)",
    "room_member": "a room's peers, read for a room that was read in scope",
    "room_invite": "found by token joined to its room (in scope), or through the room",
    "shared_file": "a room's files, read with the room's id (room read in scope)",
    # Pairs of ids of two scoped rows, read through a scoped row's relationship.
    "client_department": "association of client and department",
    "client_practitioner": "association of client and user_account",
    "participant_group": "association of participant and participant_group_def",
    "appointment_participant": "association of appointment and participant",
    "mail_template_set_department": "association of mail_template_set and department",
    "walk_in_widget_department": "association of walk_in_widget and department",
}
# A table's name and a reason, no password.
UNSCOPED.update(user_token="found by its secret's hash, joined to its user (in scope)")  # nosec B106


def import_all_models():
    for name in CORE_MODEL_MODULES:
        importlib.import_module(name)
    # Plugin modules import their models when they are loaded by discovery.
