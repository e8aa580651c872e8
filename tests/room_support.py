"""An appointment starting now with its room already open, made straight in
the database: for tests of what a room shows or holds, without a call-in."""

from datetime import timedelta

from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.room.models import Room


def open_room(dbsession, org, doctor):
    """``(appointment, room)``: the doctor's appointment with a client
    A. Bakker, starting in two minutes, and its open room."""
    appointment = Appointment(
        organisation_id=org.id,
        client=Client(organisation_id=org.id, initials="A.", last_name="Bakker"),
        practitioner=doctor,
        starts_at=utcnow() + timedelta(minutes=2),
        duration_minutes=20,
    )
    dbsession.add(appointment)
    dbsession.flush()
    room = Room(organisation_id=org.id, appointment_id=appointment.id, created_by_id=doctor.id)
    dbsession.add(room)
    dbsession.flush()
    return appointment, room
