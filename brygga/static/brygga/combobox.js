// The unit picker (issue 18 item 3, ADR 0906): a WAI-ARIA 1.2 combobox with a list box popup, built over a
// plain <select data-combobox="<search url>">. Without JavaScript the select is the picker (every unit, the
// browser's own type-ahead); with it the select is hidden but stays the form's field, and a text box searches
// the server (name, municipality, kind: /organisation/enheter/sok/, fetch under connect-src 'self') and offers
// only units that are options of the select, so the page decides what may be chosen.
// Keyboard: type to search; Down/Up move through the options (aria-activedescendant, focus stays in the box);
// Enter chooses; Escape closes the list, a second Escape clears the text; Tab leaves. Texts come from the
// select's data-text-* attributes (translated in the template). No eval, no inline style, no inline script.
(function () {
  "use strict";
  var counter = 0;

  function enhance(select) {
    if (select.dataset.comboboxReady === "on") return;
    select.dataset.comboboxReady = "on";
    var id = select.id || "combobox-" + ++counter;
    var url = select.dataset.combobox;
    var label = document.querySelector('label[for="' + id + '"]');

    var wrapper = document.createElement("div");
    wrapper.className = "combobox";
    var input = document.createElement("input");
    input.type = "text";
    input.id = id + "-combo";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("spellcheck", "false");
    var listbox = document.createElement("ul");
    listbox.id = id + "-listbox";
    listbox.setAttribute("role", "listbox");
    listbox.hidden = true;
    input.setAttribute("aria-controls", listbox.id);
    if (label) {
      label.htmlFor = input.id;
      if (!label.id) label.id = id + "-label";
      listbox.setAttribute("aria-labelledby", label.id);
      select.setAttribute("aria-labelledby", label.id); // still named, though hidden
    }
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");

    // The select keeps its name and value for the form; it is only taken out of view and out of the tab order.
    select.hidden = true;
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    select.insertAdjacentElement("afterend", wrapper);
    wrapper.appendChild(input);
    wrapper.appendChild(listbox);
    wrapper.appendChild(status);
    if (select.value) input.value = select.options[select.selectedIndex].text;

    var allowed = {};
    Array.prototype.forEach.call(select.options, function (o) {
      if (o.value) allowed[o.value] = o;
    });
    var valueField = select.dataset.comboboxValue || "hsa_id";
    var active = -1;
    var options = [];
    var pending = null;
    var sequence = 0;

    function text(name, n) {
      return (select.dataset["text" + name] || "").replace("{n}", String(n));
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      options.forEach(function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var li = options[index];
      if (!li) return;
      select.value = li.dataset.value;
      input.value = li.textContent;
      close();
      status.textContent = text("Chosen", 0).replace("{unit}", li.textContent);
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(results) {
      listbox.textContent = "";
      options = [];
      results.forEach(function (unit) {
        var value = String(unit[valueField]);
        if (!allowed[value]) return;
        var li = document.createElement("li");
        li.id = listbox.id + "-" + options.length;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.value = value;
        li.textContent = allowed[value].text;
        li.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep focus in the box
        });
        li.addEventListener("click", function () {
          choose(options.indexOf(li));
        });
        listbox.appendChild(li);
        options.push(li);
      });
      if (options.length) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = text("Results", options.length);
      } else {
        close();
        status.textContent = text("None", 0);
      }
      setActive(-1);
    }

    function search() {
      var query = input.value.trim();
      var mine = ++sequence;
      if (!query) {
        close();
        status.textContent = "";
        return;
      }
      var sep = url.indexOf("?") >= 0 ? "&" : "?";
      fetch(url + sep + "q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (mine === sequence) show(data.results || []); // an answer to an older query is dropped
        })
        .catch(function () {
          if (mine === sequence) status.textContent = text("Failed", 0);
        });
    }

    input.addEventListener("input", function () {
      select.value = ""; // typed text is not a choice until an option is chosen
      clearTimeout(pending);
      pending = setTimeout(search, 150);
    });
    input.addEventListener("keydown", function (event) {
      var open = !listbox.hidden && options.length > 0;
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!open) {
            if (options.length) {
              listbox.hidden = false;
              input.setAttribute("aria-expanded", "true");
              setActive(0);
            } else {
              search();
            }
          } else {
            setActive(active < options.length - 1 ? active + 1 : 0);
          }
          break;
        case "ArrowUp":
          if (open) {
            event.preventDefault();
            setActive(active > 0 ? active - 1 : options.length - 1);
          }
          break;
        case "Home":
        case "End":
          if (open && active >= 0) {
            event.preventDefault();
            setActive(event.key === "Home" ? 0 : options.length - 1);
          }
          break;
        case "Enter":
          if (open) {
            event.preventDefault(); // choosing is not submitting the form
            choose(active >= 0 ? active : 0);
          }
          break;
        case "Escape":
          if (open) {
            event.preventDefault();
            close();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            select.value = "";
          }
          break;
        case "Tab":
          close();
          break;
        default:
          break;
      }
    });
    input.addEventListener("blur", function () {
      close();
    });
  }

  function init() {
    document.querySelectorAll("select[data-combobox]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
