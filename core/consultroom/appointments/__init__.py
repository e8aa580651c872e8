"""Appointments, quick consultations and the client's link to the room."""


def includeme(config):
    config.include(".views")
    config.include(".link")
