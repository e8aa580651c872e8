"""Files shared during a consultation: checked, kept on disk only while the
room is open, deleted with their rows when it ends (and by the worker's
sweep for rooms that ended without it, e.g. a process that died).

A file's type is decided by its content, not its name: the name's extension
must agree with what the first bytes say. Settings: ``files.dir`` (where
files are kept), ``files.max_bytes`` (default 20 MB).
"""

import io
import os
import secrets
import zipfile
from pathlib import Path

import transaction
from sqlalchemy import select

from consultroom.db import request_session
from consultroom.i18n import _
from consultroom.room.models import Room

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CHUNK = 1024 * 1024

# extension -> content type
TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "txt": "text/plain; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
# Office files are zip archives; this member (or mimetype text) tells them apart.
_OFFICE_MEMBER = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
_MAGIC = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
}


class FileRejected(ValueError):
    """Carries a translation string explaining why."""


def files_dir(settings):
    return Path(settings.get("files.dir") or "var/files")


def max_bytes(settings):
    return int(settings.get("files.max_bytes", DEFAULT_MAX_BYTES))


def extension_of(name):
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _is_text(data):
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_office(data, extension):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        if extension in _OFFICE_MEMBER:
            return _OFFICE_MEMBER[extension] in names
        return (
            "mimetype" in names
            and archive.read("mimetype").decode("ascii", "replace").strip() == TYPES[extension]
        )
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def sniff(name, data):
    """The content type of ``data`` named ``name``, or FileRejected."""
    extension = extension_of(name)
    if extension not in TYPES:
        raise FileRejected(
            _(
                "Only PDF, images (PNG, JPEG, GIF), text and office documents"
                " (docx, xlsx, pptx, odt, ods) can be shared."
            )
        )
    if extension in _MAGIC:
        ok = data.startswith(_MAGIC[extension])
    elif extension == "txt":
        ok = _is_text(data)
    else:
        ok = _is_office(data, extension)
    if not ok:
        raise FileRejected(_("The file's content does not match its name."))
    return TYPES[extension]


def clean_name(name):
    """The base name without path parts or control characters, at most 255."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"<>|:*?')
    return name.strip()[:255] or "file"


def read_limited(stream, limit):
    """The stream's bytes, or FileRejected when it holds more than ``limit``."""
    data = bytearray()
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            raise FileRejected(
                _("The file is larger than ${n} MB.", mapping={"n": limit // (1024 * 1024)})
            )


def store(settings, room_id, data):
    """Write ``data`` under the room's folder; its path."""
    folder = files_dir(settings) / room_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / secrets.token_hex(16)
    with open(path, "xb") as handle:
        handle.write(data)
    return str(path)


def delete_paths(paths):
    for path in paths or ():
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        folder = os.path.dirname(path)
        try:
            os.rmdir(folder)
        except OSError:
            pass  # not empty yet, or gone


def sweep(registry):
    """Delete the files of every ended room that still has some, one room
    per transaction; the number of rooms cleaned. For the worker."""
    from consultroom.room.service import remove_files

    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = request_session(registry["dbmaker"], manager)
        room_ids = list(
            session.scalars(
                select(Room.id).where(Room.ended_at.is_not(None), Room.cleaned_at.is_(None))
            )
        )
    for room_id in room_ids:
        with manager:
            session = request_session(registry["dbmaker"], manager)
            paths = remove_files(session, session.get(Room, room_id))
        delete_paths(paths)
    return len(room_ids)
