"""The REST API (clients, appointments) with its OpenAPI document.

Authenticated by the organisation's API key or a staff session (auth.py);
bodies and answers are the pydantic models of schemas.py; errors are JSON
(errors.py). The document is at /api/v1/openapi.json.
"""

from consultroom.web import ID

ROUTES = {
    "api.openapi": "/api/v1/openapi.json",
    "api.clients": "/api/v1/clients",
    "api.client": f"/api/v1/clients/{ID}",
    "api.appointments": "/api/v1/appointments",
    "api.appointment": f"/api/v1/appointments/{ID}",
    "api.appointment_cancel": f"/api/v1/appointments/{ID}/cancel",
}


def includeme(config):
    for name, pattern in ROUTES.items():
        config.add_route(name, pattern, site="organisation")
    config.scan(__name__)
