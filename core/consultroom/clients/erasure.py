"""Deleting a client: the one path of the client's page and the REST API,
so that every deletion is recorded and announced to the plugins
(``consultroom_client_erased``) the same way, in its transaction."""

from consultroom.audit import record


def erase_client(request, client, **details):
    """Record, announce and delete ``client`` in the request's transaction
    (``details``: more for the audit entry, such as ``via="api"``). The
    plugins delete their data about the client while its row still exists;
    raising aborts the deletion. Refusals (the delete blockers) are the
    caller's to ask first."""
    record(request, "client.delete", "client", client.id, **details)
    request.hooks.consultroom_client_erased(request=request, client=client)
    request.dbsession.delete(client)
    request.dbsession.flush()
