// The client portal's service worker. Only the offline page and the theme's
// style are cached: the portal's own pages are personal (sent no-store), so
// a page is always fetched, and the offline page answers when that fails.
"use strict";

const CACHE = "portal-shell-1";
const OFFLINE = "/portal/offline.html";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll([OFFLINE, "/static/css/main.css", "/static/img/favicon.svg"]);
    })
  );
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key)));
    }).then(function () {
      return self.clients.claim();
    })
  );
});

self.addEventListener("fetch", function (event) {
  if (event.request.mode !== "navigate") {
    return;
  }
  event.respondWith(
    fetch(event.request).catch(function () {
      return caches.match(OFFLINE);
    })
  );
});
