// The payment's "on to the provider" page: follow its link at once (the
// link stays for a browser without scripts, or to come back to).
const link = document.querySelector("[data-payments-go]");
if (link) window.location.assign(link.href);
