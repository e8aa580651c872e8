// The client's questionnaire saves itself as they go: a moment after they
// change an answer, the form is sent as "Save for later" in the background
// (without the image uploads, which go with the buttons), and the page says
// whether it was kept. The buttons work without this script.
const form = document.querySelector("form[data-autosave]");
const status = document.querySelector("[data-autosave-status]");
const DELAY = 800;
let timer = null;
let sending = false;
let again = false;

function say(text) {
  if (status) status.textContent = text;
}

async function save() {
  if (sending) {
    again = true;
    return;
  }
  sending = true;
  const data = new FormData(form);
  for (const input of form.querySelectorAll("input[type=file]")) data.delete(input.name);
  data.set("action", "save");
  try {
    // Not form.action: the buttons named "action" shadow that property.
    const response = await fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: data,
      headers: { "X-Requested-With": "autosave", Accept: "application/json" },
      credentials: "same-origin",
    });
    const answer = await response.json();
    if (response.ok) {
      const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      say(form.dataset.savedText.replace("{time}", time));
    } else {
      say(`${form.dataset.notSavedText} ${Object.values(answer.problems || {}).join(" ")}`);
    }
  } catch (error) {
    say(form.dataset.offlineText);
  } finally {
    sending = false;
    if (again) {
      again = false;
      save();
    }
  }
}

function later(event) {
  if (event.target.type === "file") return;
  clearTimeout(timer);
  timer = setTimeout(save, DELAY);
}

if (form) {
  form.addEventListener("input", later);
  form.addEventListener("change", later);
}
