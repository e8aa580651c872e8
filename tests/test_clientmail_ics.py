"""The .ics attachment of the client e-mails says its iTIP method in its
Content-Type as well as in the file (RFC 6047: Outlook and Gmail act on an
invitation only then): ``text/calendar; method=REQUEST`` for the invitation
and a change, ``method=CANCEL`` for a cancellation; read from the messages a
real SMTP server received."""

from datetime import timedelta

from consultroom.appointments.service import cancel_appointment, update_appointment
from consultroom.mail import build_message

from clientmail_support import START, book, ics_of, load, org_request


def _calendar_part(message):
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part


def test_the_attachment_content_type_carries_the_method(app, clinic_oost, smtp):
    appointment_id = book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    with org_request(app, "clinic") as request:
        update_appointment(
            request, load(request, appointment_id), starts_at=START + timedelta(hours=1)
        )
    with org_request(app, "clinic") as request:
        cancel_appointment(request, load(request, appointment_id))
    invitation, change, cancellation = smtp.messages
    for message, method in ((invitation, "REQUEST"), (change, "REQUEST"), (cancellation, "CANCEL")):
        part = _calendar_part(message)
        assert part.get_param("method") == method
        assert ics_of(message)["METHOD"] == method  # the same in the file
        assert part.get_filename() == "invite.ics"
        assert part.get_content_disposition() == "attachment"


def test_an_attachment_without_parameters_is_unchanged():
    message = build_message(
        "a@example.org",
        "b@example.org",
        "Hi",
        "text",
        attachments=[("a.pdf", "application/pdf", b"%PDF")],
    )
    [part] = message.iter_attachments()
    assert part.get_content_type() == "application/pdf"
    assert part.get_params() == [("application/pdf", "")]
    assert part.get_payload(decode=True) == b"%PDF"
