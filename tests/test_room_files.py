"""Files shared in a consultation room: who may upload and download, the
checks, and their removal from disk and database when the room ends; the
staff and guest room pages and inviting a participant."""

import email
import email.policy
import json
import re
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.clients.models import Participant
from consultroom.db import utcnow
from consultroom.mail.models import OutboxMessage
from consultroom.room.files import sweep
from consultroom.room.models import Room, RoomInvite, SharedFile

from realtime_support import Browser, consultation

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def multipart(fields, filename, data):
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def upload(browser, room, name, data, token=None, csrf=None):
    body, headers = multipart({}, name, data)
    if token:
        headers["X-Room-Token"] = token
    if csrf:
        headers["X-CSRF-Token"] = csrf
    status, _headers, answer = browser.request(f"/room/{room}/files", data=body, headers=headers)
    return status, json.loads(answer) if answer.startswith(b"{") else answer


def test_a_file_crosses_the_room_and_is_gone_after_the_end(server, clinic):
    org, doctor = clinic
    browser, staff, client, appointment, room = consultation(server, org, doctor)
    visitor = Browser(server.port, org)
    status, info = upload(visitor, room, "scan.pdf", PDF, token=appointment.token)
    assert status == 200, info
    announced = staff.expect("file")
    assert announced["name"] == "scan.pdf" and announced["url"] == info["url"]
    status, headers, data = browser.request(info["url"])
    assert status == 200 and data == PDF
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["X-Content-Type-Options"] == "nosniff"
    [(path,)] = server.query(select(SharedFile.path).where(SharedFile.room_id == room))
    assert Path(path).exists()
    staff.send({"type": "end", "room": room})
    client.expect("ended")
    staff.expect("ended")
    assert not Path(path).exists()
    assert server.query(select(SharedFile.id).where(SharedFile.room_id == room)) == []
    assert browser.request(info["url"])[0] == 404
    # The audit trail names who ended it (linked into the chain after the commit).
    ended_by = select(AuditEntry.user_name, AuditEntry.detail).where(
        AuditEntry.action == "room.end", AuditEntry.object_id == room
    )
    deadline = time.time() + 5
    while not (audited := server.query(ended_by)) and time.time() < deadline:
        time.sleep(0.05)
    assert audited == [(doctor.name, {})]


def test_uploads_are_checked_by_content_size_and_membership(server, clinic):
    org, doctor = clinic
    browser, staff, client, appointment, room = consultation(server, org, doctor)
    visitor = Browser(server.port, org)
    status, answer = upload(
        visitor, room, "invoice.pdf", b"MZ\x90\x00 not a pdf", token=appointment.token
    )
    assert status == 400 and "content" in answer["error"]
    status, answer = upload(visitor, room, "tool.exe", b"MZ\x90\x00", token=appointment.token)
    assert status == 400
    status, answer = upload(visitor, room, "big.pdf", PDF + b"0" * 300_000, token=appointment.token)
    assert status == 400 and "larger" in answer["error"]
    status, _answer = upload(visitor, room, "scan.pdf", PDF, token="x" * 43)
    assert status == 404
    # Staff need the CSRF token; with it they may upload.
    status, _answer = upload(browser, room, "notes.txt", b"hello")
    assert status in (400, 403)
    status, answer = upload(browser, room, "notes.txt", b"hello", csrf=browser.csrf_token())
    assert status == 200, answer
    # A client of another appointment of the organisation is not a member.
    other = server.appointment(org, doctor, name="Other")
    status, _answer = upload(visitor, room, "scan.pdf", PDF, token=other.token)
    assert status == 404


def test_file_sharing_follows_the_organisation_setting(server, clinic):
    org, doctor = clinic
    browser, staff, client, appointment, room = consultation(server, org, doctor)
    server.set_options(org, file_sharing=False)
    status, _answer = upload(
        Browser(server.port, org), room, "scan.pdf", PDF, token=appointment.token
    )
    assert status == 403


def test_another_organisation_cannot_download_or_open_the_room(server, clinic):
    org, doctor = clinic
    browser, staff, client, appointment, room = consultation(server, org, doctor)
    status, info = upload(Browser(server.port, org), room, "scan.pdf", PDF, token=appointment.token)
    other = server.organisation()
    intruder = Browser(server.port, other).log_in(server.user(other))
    assert intruder.request(info["url"])[0] == 404
    assert intruder.request(f"{info['url']}?token={appointment.token}")[0] == 404
    assert intruder.request(f"/room/{room}")[0] == 404
    colleague = Browser(server.port, org).log_in(server.user(org))
    assert colleague.request(f"/room/{room}")[0] == 404


def test_the_staff_room_page_and_a_quick_invite(server, clinic):
    org, doctor = clinic
    browser, staff, client, appointment, room = consultation(server, org, doctor)
    tolk = server.add(
        Participant(
            organisation_id=org.id, initials="A.", last_name="Tolk", email="tolk@example.org"
        )
    )
    stranger = server.add(
        Participant(
            organisation_id=server.organisation().id, last_name="Stranger", email="s@example.org"
        )
    )
    status, _headers, page = browser.request(f"/room/{room}")
    assert status == 200 and b"A. Tolk (tolk@example.org)" in page
    config = json.loads(
        re.search(
            rb'<script type="application/json" id="realtime-config">(.*?)</script>', page, re.S
        ).group(1)
    )
    assert config["room"] == room and config["hello"]["role"] == "staff"
    csrf = config["csrf"]
    status, _headers, answer = browser.request(
        f"/room/{room}/participants",
        {"name": "Interpreter", "email": "i@example.org"},
        headers={"X-CSRF-Token": csrf},
    )
    assert status == 200, answer
    [(token,)] = server.query(select(RoomInvite.token).where(RoomInvite.room_id == room))
    # This organisation's: the session's server (one database) also holds
    # the mail other tests sent to this address (test_quick_room_live).
    [(message,)] = server.query(
        select(OutboxMessage.message).where(
            OutboxMessage.organisation_id == org.id, OutboxMessage.recipient == "i@example.org"
        )
    )
    text = email.message_from_bytes(message, policy=email.policy.default)
    assert f"/join/{token}" in text.get_body().get_content()
    guest_page = Browser(server.port, org)
    assert guest_page.request(f"/join/{token}")[0] == 200
    guest = guest_page.socket()
    guest.hello("guest", token)
    joined = guest.expect("room")
    assert sorted(p["role"] for p in joined["peers"]) == ["client", "staff"]
    assert staff.expect("peer_joined")["name"] == "Interpreter"
    status, _headers, _answer = browser.request(
        f"/room/{room}/participants", {"name": "", "email": "nope"}, headers={"X-CSRF-Token": csrf}
    )
    assert status == 400
    status, _headers, answer = browser.request(
        f"/room/{room}/participants",
        {"participant_id": str(tolk.id)},
        headers={"X-CSRF-Token": csrf},
    )
    assert status == 200 and json.loads(answer)["name"] == "A. Tolk"
    status, _headers, _answer = browser.request(
        f"/room/{room}/participants",
        {"participant_id": str(stranger.id)},
        headers={"X-CSRF-Token": csrf},
    )
    assert status == 400
    invited = server.query(select(RoomInvite.email).where(RoomInvite.room_id == room))
    assert sorted(e for (e,) in invited) == ["i@example.org", "tolk@example.org"]


def test_the_worker_sweep_removes_files_of_rooms_that_ended_without_cleanup(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor)
    room = server.add(
        Room(
            organisation_id=org.id,
            appointment_id=appointment.id,
            started_at=utcnow(),
            ended_at=utcnow(),
        )
    )
    folder = server.here / "files" / room.id
    folder.mkdir(parents=True)
    path = folder / "left-behind"
    path.write_bytes(PDF)
    server.add(
        SharedFile(
            room_id=room.id,
            name="scan.pdf",
            size=len(PDF),
            content_type="application/pdf",
            path=str(path),
        )
    )
    assert sweep({"dbmaker": server.dbmaker}) >= 1
    assert not path.exists() and not folder.exists()
    assert server.query(select(SharedFile.id).where(SharedFile.room_id == room.id)) == []
    [(cleaned,)] = server.query(select(Room.cleaned_at).where(Room.id == room.id))
    assert cleaned is not None
    assert sweep({"dbmaker": server.dbmaker}) == 0
