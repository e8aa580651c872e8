// The live waiting count in the staff shell's header
// (templates/waitingroom/_shell_count.html), on every staff page. It listens
// on the page's one socket where the page has one (the waiting list, the
// room): their scripts have made it by the time the document is parsed.
// Elsewhere it opens a light staff socket of its own, and only then rings
// the doorbell: the waiting list and the room ring their own.
import {
  WaitingList, pageSocket, readJSON, showWaitingCount, waitingBadge,
} from "./realtime.js";

function start() {
  const root = document.querySelector("[data-shell-waiting]");
  if (!root) return;
  const config = readJSON("shell-realtime-config");
  const strings = readJSON("shell-waiting-strings");
  const pageHasSocket = Boolean(window.consultroom && window.consultroom.socket);
  const realtime = pageSocket(config);
  const audio = pageHasSocket ? null : root.querySelector("[data-shell-doorbell]");
  const show = waitingBadge(
    root.querySelector("[data-shell-waiting-link]"), root.querySelector("[data-shell-announce]"),
    audio, config, strings);
  new WaitingList(realtime).on((list) => {
    show(list);
    showWaitingCount(config, list.count);  // the menu's "Waiting room (n)"
  });
  if (!pageHasSocket) realtime.connect();
}

// Module scripts run in document order, and this one is in the header: the
// page's own module scripts have all run when DOMContentLoaded comes.
document.addEventListener("DOMContentLoaded", start, { once: true });
