// The client portal as an installable web app: registers its service
// worker (/portal/sw.js), which shows an offline page without a network.
(function () {
  "use strict";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/portal/sw.js", { scope: "/portal/" });
  }
})();
