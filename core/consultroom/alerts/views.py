"""Staff switch arrival notifications on and off per device: the browser
subscribes with its push service and gives us the subscription (JSON), or
takes it back; and the staff pages' service worker that shows them."""

import base64
import binascii
import json

from pyramid.view import view_config
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from consultroom.alerts.models import PushSubscription
from consultroom.alerts.push import endpoint_allowed
from consultroom.i18n import _
from consultroom.web import service_worker

MAX_BODY = 4096
MAX_DEVICES = 10  # per staff member: the oldest goes


def _key(value, size):
    """base64url ``value`` of ``size`` bytes, or None."""
    if not isinstance(value, str) or len(value) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return value if len(raw) == size else None


def _subscription(request):
    """``(endpoint, p256dh, auth)`` from the JSON body, or an error text."""
    if (request.content_length or 0) > MAX_BODY:
        return None
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("keys"), dict):
        return None
    endpoint = body.get("endpoint")
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= 1000:
        return None
    p256dh, auth = _key(body["keys"].get("p256dh"), 65), _key(body["keys"].get("auth"), 16)
    if not (p256dh and auth):
        return None
    return endpoint, p256dh, auth


def _error(request, message, status=400):
    request.response.status = status
    return {"error": request.localizer.translate(message)}


@view_config(
    route_name="push_subscribe", renderer="json", permission="staff", request_method="POST"
)
def subscribe(request):
    found = _subscription(request)
    if found is None:
        return _error(request, _("This is not a push subscription."))
    endpoint, p256dh, auth = found
    if not endpoint_allowed(request.registry.settings, endpoint):
        return _error(request, _("This browser's push service is not one we send to."))
    db = request.dbsession
    db.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
    try:
        with db.begin_nested():
            db.add(
                PushSubscription(
                    organisation_id=request.organisation.id,
                    user_id=request.identity.id,
                    endpoint=endpoint,
                    p256dh=p256dh,
                    auth=auth,
                )
            )
    except IntegrityError:  # the device notifies for another organisation
        return _error(
            request, _("This device already receives another organisation's notifications."), 409
        )
    _keep_newest(request)
    return {"subscribed": True}


def _keep_newest(request):
    ids = request.dbsession.scalars(
        select(PushSubscription.id)
        .where(
            PushSubscription.organisation_id == request.organisation.id,
            PushSubscription.user_id == request.identity.id,
        )
        .order_by(PushSubscription.id.desc())
        .offset(MAX_DEVICES)
    ).all()
    if ids:
        request.dbsession.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids)))


@view_config(
    route_name="push_unsubscribe", renderer="json", permission="staff", request_method="POST"
)
def unsubscribe(request):
    found = _subscription(request)
    if found is None:
        return _error(request, _("This is not a push subscription."))
    request.dbsession.execute(
        delete(PushSubscription).where(
            PushSubscription.organisation_id == request.organisation.id,
            PushSubscription.user_id == request.identity.id,
            PushSubscription.endpoint == found[0],
        )
    )
    return {"subscribed": False}


@view_config(route_name="staff_worker", request_method="GET")
def worker(request):
    return service_worker("staff-sw.js")


def includeme(config):
    config.add_route("push_subscribe", "/alerts/push/subscribe", site="organisation")
    config.add_route("push_unsubscribe", "/alerts/push/unsubscribe", site="organisation")
    # At the root, so that it may show notifications for every staff page.
    config.add_route("staff_worker", "/staff-sw.js", site="organisation")
    config.scan(__name__)
