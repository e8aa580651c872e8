// The staff shell (layout.html): on narrow screens the grouped menu folds
// away behind the "Menu" button in the header; it opens and closes with the
// button (aria-expanded tells screen readers) and closes with Escape. On
// wide screens the menu is a sidebar and the button is not shown (CSS).

const NARROW = window.matchMedia("(max-width: 56rem)");
const button = document.querySelector(".menu-toggle");
const menu = document.getElementById("staff-menu");

function setOpen(open) {
  button.setAttribute("aria-expanded", String(open));
  menu.hidden = !open;
}

// Each width starts as it should: folded on a phone, open as a sidebar.
function fitWidth() {
  setOpen(!NARROW.matches);
}

if (button && menu) {
  button.hidden = false;
  fitWidth();
  NARROW.addEventListener("change", fitWidth);
  button.addEventListener("click", () => setOpen(button.getAttribute("aria-expanded") !== "true"));
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && NARROW.matches) {
      setOpen(false);
      button.focus();
    }
  });
}
