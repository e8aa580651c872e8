"""Appointments, quick consultations and the client's link to the room."""


def includeme(config):
    pass
