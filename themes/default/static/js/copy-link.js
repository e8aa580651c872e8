// "Copy link" next to the client's link on the appointment page.
(function () {
  "use strict";

  const button = document.getElementById("copy-link");
  if (!button) {
    return;
  }
  button.addEventListener("click", function () {
    const field = document.getElementById("client-link");
    const done = function () {
      document.getElementById("copy-status").textContent = button.dataset.copied;
    };
    field.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(done);
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
