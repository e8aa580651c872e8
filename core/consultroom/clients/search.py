"""The search box of the client lists (staff pages and the API)."""

from consultroom.clients.models import Client
from consultroom.web.listing import search


def search_clients(query, text):
    """Clients by name, initials, e-mail address or client number."""
    return search(
        query, (Client.last_name, Client.initials, Client.email, Client.client_number), text
    )
