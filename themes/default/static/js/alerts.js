// Arrival notifications on this device (templates/alerts/_profile.html):
// registers the staff service worker (/staff-sw.js), subscribes with the
// browser's push service under the server's VAPID key, and gives the
// subscription to the server; or takes it back. Hidden where the browser
// cannot do web push.
(function () {
  "use strict";

  const card = document.querySelector("[data-push-alerts]");
  if (!card || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
  card.hidden = false;
  const state = card.querySelector("[data-push-state]");
  const on = card.querySelector("[data-push-on]");
  const off = card.querySelector("[data-push-off]");

  function show(subscribed, text) {
    state.textContent = text || (subscribed ? card.dataset.on : card.dataset.off);
    on.hidden = subscribed;
    off.hidden = !subscribed;
  }

  function serverKey() {
    const text = card.dataset.serverKey.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function post(url, subscription) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": card.dataset.csrfToken },
      body: JSON.stringify(subscription),
    }).then((response) => {
      if (!response.ok) throw new Error(String(response.status));
    });
  }

  const ready = navigator.serviceWorker.register("/staff-sw.js", { scope: "/" })
    .then(() => navigator.serviceWorker.ready);

  ready.then((registration) => registration.pushManager.getSubscription())
    .then((subscription) => show(Boolean(subscription)))
    .catch(() => show(false));

  on.addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        show(false, card.dataset.denied);
        return;
      }
      const registration = await ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: serverKey(),
      });
      await post(card.dataset.subscribeUrl, subscription.toJSON());
      show(true);
    } catch (error) {
      show(false, card.dataset.failed);
    }
  });

  off.addEventListener("click", async () => {
    const registration = await ready;
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      await post(card.dataset.unsubscribeUrl, subscription.toJSON()).catch(() => {});
      await subscription.unsubscribe();
    }
    show(false);
  });
})();
