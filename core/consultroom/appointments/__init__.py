"""Appointments, quick consultations and the client's link to the room."""

from consultroom.appointments import hooks


def includeme(config):
    config.registry.plugins.register_core(hooks)
    config.include(".views")
    config.include(".link")
