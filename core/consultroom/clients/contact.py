"""How to reach a client: whether they can be e-mailed at all, and in which
language to speak to them. Used wherever a client is written to or shown a
page of their own (invitations, the client's link, the portal)."""

from consultroom.i18n import DEFAULT_LANGUAGE, LANGUAGES


def client_mail_enabled(organisation, client):
    """Whether the client of an appointment can be e-mailed at all: staff
    must deliver the link some other way when this is False."""
    return bool(client is not None and client.email and not organisation.options["no_emails"])


def language_of(client, organisation):
    """The client's language if we speak it, else the organisation's."""
    for language in (client.language if client else None, organisation.language):
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE
