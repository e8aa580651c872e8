"""The REST API (clients, appointments) with its OpenAPI document."""


def includeme(config):
    pass
