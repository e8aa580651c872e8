// Client and participants fields (clients/_picker.html): the text field
// becomes a combobox (WAI-ARIA 1.2 pattern, list autocomplete) that offers
// the matching people as you type, from the server's /clients/picker or
// /participants/picker. Choosing a client fills in the hidden id; choosing a
// participant adds a ticked box and empties the text for the next one.
// Without this script the server resolves the typed text itself.
(function () {
  "use strict";

  // Wait for a pause in typing, and for enough to search for, so that a
  // burst of keys makes one request; a newer request aborts the older one.
  const PAUSE_MS = 250;
  const MIN_LENGTH = 2;

  function setUp(input) {
    if (input.dataset.pickerReady) {
      return; // the script is included once per field
    }
    input.dataset.pickerReady = "1";
    const form = input.form;
    const idName = input.dataset.pickerId;
    const multiple = Boolean(input.dataset.pickerMultiple);
    const list = document.createElement("ul");
    list.id = input.id + "-options";
    list.className = "picker-options";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    const status = document.createElement("p");
    status.className = "sr-only";
    status.setAttribute("role", "status");
    input.after(list, status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    if (input.labels.length) {
      list.setAttribute("aria-labelledby", input.labels[0].id || labelId(input.labels[0]));
    }

    let timer = null;
    let controller = null;
    let items = [];
    let active = -1;

    function labelId(label) {
      label.id = input.id + "-label";
      return label.id;
    }

    function idField() {
      return Array.from(form.elements).find(function (el) {
        return el.type === "hidden" && el.name === idName;
      });
    }

    function setId(value) {
      let field = idField();
      if (!field) {
        // The server's list of several matches: the choice replaces it.
        const matches = form.querySelector("[data-picker-matches]");
        if (matches && matches.dataset.pickerMatches === idName) {
          matches.remove();
        }
        field = document.createElement("input");
        field.type = "hidden";
        field.name = idName;
        status.after(field);
      }
      field.value = value;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function show(data) {
      list.textContent = "";
      items = data.matches;
      items.forEach(function (person, index) {
        const option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = person.label;
        // mousedown, not click: choosing must not blur (and so close) first.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(index);
        });
        list.append(option);
      });
      if (!items.length) {
        status.textContent = input.dataset.pickerNone;
        close();
        return;
      }
      status.textContent = data.more ? input.dataset.pickerMore : input.dataset.pickerFound;
      active = -1;
      open();
    }

    function search() {
      const text = input.value.trim();
      if (controller) {
        controller.abort();
        controller = null;
      }
      if (text.length < MIN_LENGTH) {
        items = [];
        close();
        return;
      }
      controller = new AbortController();
      fetch(input.dataset.picker + "?q=" + encodeURIComponent(text), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      })
        .then(function (response) {
          return response.ok ? response.json() : Promise.reject(response.status);
        })
        .then(show)
        .catch(function () {
          // Aborted, offline or logged out: the form still resolves the text when sent.
        });
    }

    function move(step) {
      const options = list.children;
      if (active >= 0) {
        options[active].setAttribute("aria-selected", "false");
      }
      active = (active + step + options.length) % options.length;
      const option = options[active];
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    function tick(person) {
      const chosen = Array.from(form.querySelectorAll("[data-picker-chosen]")).find(function (el) {
        return el.dataset.pickerChosen === idName;
      });
      const box = Array.from(chosen.querySelectorAll("input")).find(function (el) {
        return el.value === String(person.id);
      });
      if (box) {
        box.checked = true;
        return;
      }
      const item = document.createElement("li");
      const label = document.createElement("label");
      const added = document.createElement("input");
      label.className = "check";
      added.type = "checkbox";
      added.name = idName;
      added.value = String(person.id);
      added.checked = true;
      label.append(added, " ", person.label);
      item.append(label);
      chosen.append(item);
    }

    function choose(index) {
      const person = items[index];
      if (multiple) {
        tick(person);
        input.value = "";
        items = [];
      } else {
        input.value = person.label;
        setId(String(person.id));
      }
      status.textContent = "";
      close();
    }

    input.addEventListener("input", function () {
      const field = multiple ? null : idField();
      if (field) {
        field.value = ""; // the text no longer names the chosen client
      }
      clearTimeout(timer);
      timer = setTimeout(search, PAUSE_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!items.length) {
          return;
        }
        event.preventDefault();
        open();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault(); // choose, do not send the form yet
        choose(active);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("input[data-picker]").forEach(setUp);
})();
