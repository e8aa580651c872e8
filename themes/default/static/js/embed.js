// The embed script (docs/themes.md): an organisation's own site shows its waiting room, room,
// booking or walk-in widget in an iframe from this installation. On the site:
//
//   <div data-consultroom-embed="https://acme.example.org/book"></div>
//   <script src="https://acme.example.org/static/js/embed.js" async></script>
//
// Each element with data-consultroom-embed gets an iframe of that address, with the camera,
// microphone, screen sharing and full screen allowed (the iframe's allow attribute), a title
// (data-title) and a height (data-height, default 700 pixels). With data-link-from-hash the
// path comes from the site page's own address after "#" (https://www.example.org/consult#/c/<token>:
// mails may link there; the token never reaches the site's server), if it is a waiting room, room,
// booking or walk-in address. Only addresses on the script's own site are framed; the
// organisation lists its site under "Websites that may show the widgets" (frame-ancestors).
(() => {
  const script = document.currentScript;
  const home = new URL(script ? script.src : location.href).origin;
  const PATHS = /^\/(c|join|p|walk-in)\/[A-Za-z0-9_-]+$|^\/book(\/[A-Za-z0-9_\/-]*)?$/;
  const ALLOW = "camera; microphone; display-capture; fullscreen; autoplay";

  function address(element) {
    let url;
    try {
      url = new URL(element.dataset.consultroomEmbed, home);
    } catch {
      return null;
    }
    if ("linkFromHash" in element.dataset) {
      const path = decodeURIComponent(location.hash.slice(1));
      if (!PATHS.test(path)) return null;
      url = new URL(path, url.origin);
    }
    return url.origin === home ? url : null;
  }

  function embed(element) {
    if (element.dataset.consultroomEmbedded) return;
    const url = address(element);
    if (!url) return;
    const frame = document.createElement("iframe");
    frame.src = url.href;
    frame.allow = ALLOW;
    frame.title = element.dataset.title || "Video consultation";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = `${parseInt(element.dataset.height, 10) || 700}px`;
    frame.referrerPolicy = "no-referrer";
    element.replaceChildren(frame);
    element.dataset.consultroomEmbedded = "true";
  }

  function run() {
    document.querySelectorAll("[data-consultroom-embed]").forEach(embed);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
