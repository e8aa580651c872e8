"""Where outgoing mail goes: an SMTP server, or a folder of .eml files for
development (readable on the dev mail page without any mail server)."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Mapping
from email import message_from_bytes, policy
from pathlib import Path


class SMTPTransport:
    # No login unless configured (bandit takes the empty default for a password).
    def __init__(
        self,
        host: str,
        port: int | str,
        starttls: bool = False,
        username: str = "",
        password: str = "",  # nosec B107
        timeout: float = 20,
    ) -> None:
        self.host, self.port = host, int(port)
        self.starttls, self.timeout = starttls, timeout
        self.username, self.password = username, password

    def send(self, data: bytes, recipient: str) -> None:
        msg = message_from_bytes(data, policy=policy.SMTP)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(msg, to_addrs=[recipient])


class FolderTransport:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def send(self, data: bytes, recipient: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.eml"
        tmp = self.folder / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.rename(self.folder / name)  # readers never see half a file


def make_transport(settings: Mapping[str, str]) -> SMTPTransport | FolderTransport:
    kind = settings.get("mail.transport", "smtp")
    if kind == "folder":
        return FolderTransport(settings["mail.folder"])
    return SMTPTransport(
        settings.get("mail.host", "localhost"),
        settings.get("mail.port", 25),
        starttls=settings.get("mail.starttls", "false").lower() == "true",
        username=settings.get("mail.username", ""),
        password=settings.get("mail.password", ""),
    )
