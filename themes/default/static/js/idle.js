// The idle-timeout warning on staff pages. The server ends a session that
// has not been used for the organisation's idle time; this script shows the
// #idle-dialog (from layout.html) a little before that, with a countdown and
// a "Stay logged in" button (a POST with the CSRF token in a header), and
// opens the login page once the session has ended. Before warning or leaving
// it asks the server how much time is left, so that activity in another tab
// counts. During a consultation (room.js marks the page) it extends the
// session itself instead of asking.
(function () {
  "use strict";

  const dialog = document.getElementById("idle-dialog");
  if (!dialog || typeof dialog.showModal !== "function") {
    return;
  }
  const countdown = dialog.querySelector(".idle-countdown");
  const stay = dialog.querySelector(".idle-stay");
  // Warn two minutes before the end (sooner for very short timeouts).
  const warnSeconds = Math.min(120, Math.floor(Number(dialog.dataset.idleSeconds) / 2));
  let deadline = 0; // when the session ends, in Date.now() milliseconds
  let timer = null;

  function leave() {
    window.location.assign(dialog.dataset.loginUrl);
  }

  function schedule(remainingSeconds) {
    clearTimeout(timer);
    deadline = Date.now() + remainingSeconds * 1000;
    const untilWarning = (remainingSeconds - warnSeconds) * 1000;
    if (untilWarning > 0) {
      if (dialog.open) {
        dialog.close();
      }
      timer = setTimeout(check, untilWarning);
    } else {
      warn();
    }
  }

  async function serverRemaining() {
    const response = await fetch(dialog.dataset.statusUrl, {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
    });
    return response.ok ? (await response.json()).remaining : 0;
  }

  async function check() {
    let seconds;
    try {
      seconds = await serverRemaining();
    } catch (error) {
      // Offline: go by our own clock.
      seconds = Math.floor((deadline - Date.now()) / 1000);
    }
    if (seconds <= 0) {
      leave();
    } else {
      schedule(seconds);
    }
  }

  function warn() {
    // Nobody touches the page during a video call: that is not being idle.
    if (document.body.dataset.inConsultation === "true") {
      timer = setTimeout(check, 30000); // replaced by keepAlive unless it is offline
      keepAlive();
      return;
    }
    if (!dialog.open) {
      dialog.showModal();
    }
    tick();
  }

  function tick() {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    countdown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    if (left === 0) {
      check();
    } else {
      timer = setTimeout(tick, 1000);
    }
  }

  async function keepAlive() {
    let response;
    try {
      response = await fetch(dialog.dataset.keepAliveUrl, {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": dialog.dataset.csrfToken },
      });
    } catch (error) {
      return; // offline: the countdown goes on, the button can be pressed again
    }
    if (!response.ok) {
      leave();
      return;
    }
    schedule((await response.json()).remaining);
  }

  stay.addEventListener("click", keepAlive);

  schedule(Number(dialog.dataset.remaining));
})();
