"""An arrival notification end to end in real Chromium: a client opens
their link; the server pushes (pywebpush, VAPID, encrypted for the staff
member's device) to a fake push service on loopback; the test decrypts it
as the push service's browser would and hands it to the staff page's
service worker (DevTools' ServiceWorker.deliverPushMessage: headless
Chromium has no push service of its own here), which shows the
notification. The device's subscription is made by the test, with keys of
its own, for the same reason.

The test reads the shown notifications once, after the worker's
showNotification() has resolved. Chromium's getNotifications() deletes a
stored notification that the platform does not report as displayed yet, so
reading while one is being shown can lose it for good (polling every 100 ms
did, in a CI run)."""

import json
import time

from playwright.sync_api import expect
from test_alerts import Device, FakePushService

from consultroom.accounts.models import Role

# Run inside the staff service worker: counts its resolved showNotification()s.
COUNT_SHOWN_JS = """() => {
  self.shownForTest = 0;
  const show = self.registration.showNotification.bind(self.registration);
  self.registration.showNotification = (...args) =>
    show(...args).then((result) => {
      self.shownForTest += 1;
      return result;
    });
}"""


def _registration_id(session, timeout=10):
    found = {}
    session.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.update(
            (r["registrationId"], r["scopeURL"]) for r in event["registrations"]
        ),
    )
    session.send("ServiceWorker.enable")
    deadline = time.monotonic() + timeout
    while not found:
        assert time.monotonic() < deadline, "no service worker registration"
        session.send("Runtime.evaluate", {"expression": "1"})  # let events in
        time.sleep(0.1)
    return next(iter(found))


def test_the_staff_device_is_notified_when_a_client_arrives(
    live_data, live_server, staff_context, client_context, log_in
):
    push = FakePushService()
    try:
        org = live_data.organisation(name="Clinic")
        doctor = live_data.user(org, name="Dr. Jansen", role=Role.practitioner)
        device = Device(push.url("/device"))
        live_data._save(device.row(org, doctor))
        appointment = live_data.appointment(org, practitioner=doctor)

        staff = staff_context.new_page()
        origin = live_server.url(org.subdomain, "/").rstrip("/")
        staff_context.grant_permissions(["notifications"], origin=origin)
        log_in(staff, doctor)
        staff.goto(live_server.url(org.subdomain, "/profile"))
        expect(staff.locator("[data-push-alerts]")).to_be_visible()
        staff.evaluate("navigator.serviceWorker.ready.then(() => true)")
        cdp = staff_context.new_cdp_session(staff)
        registration = _registration_id(cdp)
        worker = next(iter(staff_context.service_workers), None) or staff_context.wait_for_event(
            "serviceworker"
        )
        worker.evaluate(COUNT_SHOWN_JS)

        client = client_context.new_page()
        client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
        [(_path, _headers, body)] = push.wait(1)
        message = device.read(body)
        assert message["title"] == "A client is waiting"

        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": registration, "data": json.dumps(message)},
        )
        deadline = time.monotonic() + 10
        while not worker.evaluate("() => self.shownForTest"):
            assert time.monotonic() < deadline, "no notification shown"
            time.sleep(0.1)
        shown = staff.evaluate(
            """navigator.serviceWorker.ready
              .then((r) => r.getNotifications())
              .then((list) => list.map((n) => [n.title, n.body, n.data.url]))"""
        )
        assert shown == [
            [
                "A client is waiting",
                "A client has arrived in the waiting room of Clinic.",
                "/waiting-room",
            ]
        ]
    finally:
        push.httpd.shutdown()
