"""The e-mail outbox.

``request.queue_mail(...)`` renders a message and stores it in the request's
transaction. Only when that transaction commits is delivery attempted (in the
background); a rolled-back change leaves no message. Messages that could not
be delivered are retried with exponential backoff by ``consultroom worker``.
Each delivery claims its row with a conditional update, so two workers never
send the same message. A recipient the server refuses for good (a 5xx reply)
is not retried: the row becomes "refused" and the organisation's
``consultroom_mail_refused`` hook is told.

The outbox is a service (``IOutbox``): code finds it with
``mail_outbox(registry)``; a test or a plugin swaps the implementation by
registering another ``IOutbox`` utility.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from pyramid.renderers import render
from pyramid.request import Request
from pyramid.threadlocal import RequestContext
from sqlalchemy import or_, select, update
from zope.interface import Attribute, Interface, implementer

from consultroom.db import utcnow
from consultroom.db.scope import organisation_model
from consultroom.i18n import localizer_for
from consultroom.mail.models import OutboxMessage
from consultroom.mail.transports import make_transport
from consultroom.web.sites import site_request

if TYPE_CHECKING:
    from pyramid.config import Configurator
    from pyramid.i18n import TranslationString
    from pyramid.registry import Registry
    from sqlalchemy.engine import CursorResult
    from sqlalchemy.orm import Session, sessionmaker
    from transaction import TransactionManager

    from consultroom.mail.transports import FolderTransport, SMTPTransport

log = logging.getLogger(__name__)

# An attachment: (filename, content type with any parameters, e.g.
# "text/calendar; method=REQUEST", the file's bytes).
Attachment = tuple[str, str, bytes]

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 10


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 30 s doubling, at most 6 h."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def build_message(
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">"))
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype, params = _content_type(content_type)
        msg.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=filename, params=params
        )
    return msg


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """``"text/calendar; method=REQUEST"`` as its type, subtype and parameters."""
    kind, *rest = value.split(";")
    maintype, subtype = kind.strip().split("/", 1)
    params = dict(part.strip().split("=", 1) for part in rest if part.strip())
    return maintype, subtype, params


def refusal(exc: BaseException) -> str | None:
    """The server's reason when ``exc`` is a permanent refusal of the
    recipient or the message (5xx), else None (worth retrying). Our own
    login or sender address being refused is a configuration problem, not
    the recipient's: that is retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        if replies and all(500 <= code < 600 for code, _text in replies):
            return "; ".join(f"{code} {_text_of(text)}" for code, text in replies)
        return None
    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused)):
        return None
    if isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600:
        return f"{exc.smtp_code} {_text_of(exc.smtp_error)}"
    return None


def _text_of(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class IOutbox(Interface):
    sender = Attribute("The From address of every message (``mail.sender``: 'Name <address>').")

    def queue(
        dbsession: Session,
        transaction_manager: TransactionManager,
        recipient: str,
        subject: str,
        text: str,
        html: str | None = None,
        attachments: Iterable[Attachment] = (),
        organisation_id: int | None = None,
        ref: str = "",
    ) -> OutboxMessage:
        """Store a message to ``recipient`` in ``dbsession``, inside the
        caller's transaction, and return its ``OutboxMessage`` row. Delivery
        is tried once ``transaction_manager``'s transaction commits; nothing
        is sent when it aborts. ``attachments``: ``(filename, content type,
        bytes)``; ``organisation_id`` is told of a refusal; ``ref`` says what
        the message is about ("appointment:12")."""

    def deliver_due(only_ids: Iterable[int] | None = None, limit: int = 100) -> int:
        """Send up to ``limit`` messages that are due (of ``only_ids`` when
        given), each claimed first so that two workers never send one twice;
        return how many were sent. Called by ``consultroom worker`` for the
        retries, and after a commit for what it queued."""


@implementer(IOutbox)
class Outbox:
    def __init__(
        self,
        settings: Mapping[str, str],
        dbmaker: sessionmaker[Session],
        registry: Registry | None = None,
    ) -> None:
        self.sender = settings.get("mail.sender", "Consultroom <noreply@localhost>")
        self.transport: SMTPTransport | FolderTransport = make_transport(settings)
        self.after_commit = settings.get("mail.deliver_after_commit", "thread")
        self.dbmaker = dbmaker
        # To tell the organisation about refused addresses; None: nobody is told.
        self.registry = registry

    def queue(
        self,
        dbsession: Session,
        transaction_manager: TransactionManager,
        recipient: str,
        subject: str,
        text: str,
        html: str | None = None,
        attachments: Iterable[Attachment] = (),
        organisation_id: int | None = None,
        ref: str = "",
    ) -> OutboxMessage:
        msg = build_message(self.sender, recipient, subject, text, html, attachments)
        row = OutboxMessage(
            organisation_id=organisation_id,
            recipient=recipient,
            subject=subject,
            message=msg.as_bytes(),
            ref=ref,
        )
        dbsession.add(row)
        dbsession.flush()
        if self.after_commit != "off":
            transaction_manager.get().addAfterCommitHook(self._after_commit, args=(row.id,))
        return row

    def _after_commit(self, committed: bool, message_id: int) -> None:
        if not committed:
            return
        if self.after_commit == "sync":
            self.deliver_due(only_ids=[message_id])
        else:
            threading.Thread(
                target=self.deliver_due, kwargs={"only_ids": [message_id]}, daemon=True
            ).start()

    def deliver_due(self, only_ids: Iterable[int] | None = None, limit: int = 100) -> int:
        """Send what is due; return how many were sent."""
        now = utcnow()
        query = (
            select(OutboxMessage.id)
            .where(
                or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at)
            .limit(limit)
        )
        if only_ids is not None:
            query = query.where(OutboxMessage.id.in_(only_ids))
        with self.dbmaker.begin() as session:
            ids = list(session.scalars(query))
        return sum(self._deliver_one(message_id, now) for message_id in ids)

    def _claim(self, message_id: int, now: datetime) -> OutboxMessage | None:
        with self.dbmaker.begin() as session:
            # An UPDATE's result is a CursorResult, which has the row count.
            result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status.in_(("pending", "sending")),
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(status="sending", next_attempt_at=now + LEASE)
            )
            claimed = result.rowcount
            if not claimed:
                return None
            return session.get(OutboxMessage, message_id)

    def _deliver_one(self, message_id: int, now: datetime) -> bool:
        row = self._claim(message_id, now)
        if row is None:
            return False  # another worker has it
        try:
            self.transport.send(row.message, row.recipient)
        except Exception as exc:  # retried, unless the server refused for good
            self._failed(row, exc)
            return False
        with self.dbmaker.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status="sent", sent_at=utcnow(), attempts=row.attempts + 1)
            )
        return True

    def _failed(self, row: OutboxMessage, exc: Exception) -> None:
        reason = refusal(exc)
        if reason is not None:
            self._refused(row, reason)
            return
        attempts = row.attempts + 1
        final = attempts >= MAX_ATTEMPTS
        log.warning("mail %s to %s failed (attempt %s): %s", row.id, row.recipient, attempts, exc)
        with self.dbmaker.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    status="failed" if final else "pending",
                    attempts=attempts,
                    next_attempt_at=utcnow() + backoff(attempts),
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                )
            )

    def _refused(self, row: OutboxMessage, reason: str) -> None:
        log.warning("mail %s to %s refused: %s", row.id, row.recipient, reason)
        with self.dbmaker.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status="refused", attempts=row.attempts + 1, last_error=reason[:2000])
            )
        try:
            self._announce_refused(row, reason)
        except Exception:  # the refusal is recorded; one report must not stop the outbox
            log.exception("could not report the refusal of mail %s", row.id)

    def _announce_refused(self, row: OutboxMessage, reason: str) -> None:
        """Call the organisation's ``consultroom_mail_refused`` hook in a
        transaction of its own, with a request for the organisation's site
        (as the command line builds one: delivery runs outside requests)."""
        if self.registry is None or row.organisation_id is None:
            return
        with self.dbmaker() as session:
            organisation = organisation_model()
            subdomain = session.scalar(
                select(organisation.subdomain).where(organisation.id == row.organisation_id)
            )
        if subdomain is None:
            return
        request = site_request(self.registry, subdomain)
        with request.tm:
            request.hooks.consultroom_mail_refused(request=request, message=row, reason=reason)


def _request_in(request: Request, language: str) -> Request:
    """A request like ``request`` whose localizer speaks ``language``: mail
    goes out in the recipient's language, not the sender's."""
    mail_request = Request.blank("/", base_url=request.application_url)
    mail_request.registry = request.registry
    mail_request.localizer = localizer_for(request.registry, language)
    return mail_request


def queue_mail(
    request: Request,
    recipient: str,
    template: str,
    context: Mapping[str, Any],
    subject: TranslationString,
    language: str,
    attachments: Iterable[Attachment] = (),
    ref: str = "",
) -> OutboxMessage:
    """Render ``mail/<template>.txt`` with ``context`` in ``language`` and
    queue it in the request's transaction. ``subject`` is a translation string;
    ``ref`` says what the message is about ("appointment:12").

    A plugin names its own template by asset spec
    (``"consultroom_chat:templates/mail/new_message.txt"``), and translates
    with ``t(...)``: the template gets ``t``, which translates translation
    strings (of any domain, so the plugin's own) in ``language``."""
    mail_request = _request_in(request, language)
    subject = mail_request.localizer.translate(subject)
    path = template if ":" in template else f"mail/{template}.txt"
    values = {**context, "subject": subject, "t": mail_request.localizer.translate}
    # Templates translate through the current request, so make it the mail's.
    with RequestContext(mail_request):
        text = render(path, values, request=mail_request)
    org = request.organisation
    return mail_outbox(request.registry).queue(
        request.dbsession,
        request.tm,
        recipient,
        subject,
        text,
        attachments=attachments,
        organisation_id=org.id if org else None,
        ref=ref,
    )


def mail_outbox(registry: Registry) -> IOutbox:
    outbox: IOutbox = registry.getUtility(IOutbox)
    return outbox


def includeme(config: Configurator) -> None:
    config.add_jinja2_renderer(".txt")
    outbox = Outbox(config.get_settings(), config.registry["dbmaker"], registry=config.registry)
    config.registry.registerUtility(outbox, IOutbox)
    config.add_request_method(queue_mail, "queue_mail")
    config.include(".devpage")
