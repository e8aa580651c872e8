"""Web push to staff when a client arrives (RFC 8030 with VAPID, through
pywebpush): to every device of the staff whose waiting list the client
joined, right after the arrival is committed, in the background.

The server posts to the endpoint a browser gave; so that a staff member
cannot make it post anywhere else (a request forgery towards the inside of
the network), endpoints must be https on a known push service
(``push.endpoint_hosts``). The message says that a client waits, never who:
it is shown on lock screens."""

import json
import logging
from email.utils import parseaddr
from urllib.parse import urlsplit

import gevent
from sqlalchemy import delete, select

from consultroom.accounts.models import Role, User
from consultroom.alerts.keys import vapid
from consultroom.alerts.models import PushSubscription
from consultroom.db import after_commit
from consultroom.i18n import _, localizer_for

log = logging.getLogger(__name__)

# The push services of Chrome/Edge (FCM, WNS), Firefox and Safari.
PUSH_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "updates.push.services.mozilla.com",
    ".notify.windows.com",
    "web.push.apple.com",
)
TIMEOUT_SECONDS = 10
TTL_SECONDS = 15 * 60  # an arrival older than that is no news


def push_hosts(settings):
    configured = settings.get("push.endpoint_hosts", "").split()
    return tuple(configured) or PUSH_HOSTS


def endpoint_allowed(settings, endpoint):
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    insecure = settings.get("push.allow_http", "false").lower() == "true"  # tests only
    if parts.scheme != "https" and not (insecure and parts.scheme == "http"):
        return False
    return any(
        host == allowed or (allowed.startswith(".") and host.endswith(allowed))
        for allowed in push_hosts(settings)
    )


def _listeners(request, appointment):
    """The staff whose waiting list the appointment's client joined: its
    practitioner, else its department's members, else the organisation's
    admins (as the waiting list's sections are drawn)."""
    query = select(User.id, User.language).where(
        User.organisation_id == appointment.organisation_id, User.active.is_(True)
    )
    if appointment.practitioner_id:
        query = query.where(User.id == appointment.practitioner_id)
    elif appointment.department_id:
        query = query.where(User.department_id == appointment.department_id)
    else:
        query = query.where(User.role == Role.org_admin)
    return dict(request.dbsession.execute(query).all())


def _message(registry, language, organisation):
    t = localizer_for(registry, language).translate
    return json.dumps(
        {
            "title": t(_("A client is waiting")),
            "body": t(
                _(
                    "A client has arrived in the waiting room of ${organisation}.",
                    mapping={"organisation": organisation.name},
                )
            ),
            "url": "/waiting-room",
        }
    )


def arrived(request, appointment):
    """Queue the pushes for ``appointment``'s arrival, sent after the commit."""
    listeners = _listeners(request, appointment)
    if not listeners:
        return
    subscriptions = request.dbsession.scalars(
        select(PushSubscription).where(
            PushSubscription.organisation_id == appointment.organisation_id,
            PushSubscription.user_id.in_(listeners),
        )
    ).all()
    if not subscriptions:
        return
    settings = request.registry.settings
    organisation = request.organisation
    sends = [
        (
            {"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}},
            _message(request.registry, listeners[s.user_id], organisation),
        )
        for s in subscriptions
        if endpoint_allowed(settings, s.endpoint)
    ]
    key = vapid(request)
    sender = parseaddr(settings.get("mail.sender", "noreply@localhost"))[1]
    subject = settings.get("push.subject") or f"mailto:{sender}"
    registry = request.registry
    after_commit(request, lambda: gevent.spawn(_send_all, registry, sends, key, subject))


def _send_all(registry, sends, key, subject):
    # Here, not at the top: pywebpush brings aiohttp and requests, ~200 ms that
    # every process would pay at start for the first arrival's push.
    from pywebpush import WebPushException, webpush

    gone = []
    for subscription, data in sends:
        try:
            webpush(
                subscription,
                data,
                vapid_private_key=key,
                vapid_claims={"sub": subject},
                timeout=TIMEOUT_SECONDS,
                ttl=TTL_SECONDS,
            )
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in (404, 410):  # the browser unsubscribed: forget it
                gone.append(subscription["endpoint"])
            else:
                log.warning(
                    "web push to %s failed: %s", urlsplit(subscription["endpoint"]).hostname, status
                )
        except Exception:  # a push service down must not stop the others
            log.exception("web push failed")
    if gone:
        with registry["dbmaker"]() as session, session.begin():
            session.execute(delete(PushSubscription).where(PushSubscription.endpoint.in_(gone)))
