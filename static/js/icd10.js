// ICD-10-CM picker: turns the plain code input into an accessible combobox
// (WAI-ARIA 1.2 "list autocomplete" pattern). Without this script the person
// types a code and the server checks it; nothing here is needed to submit.
//
// Markup (templates/icd10/widget.html):
//   <label for="ID">...</label> (anywhere on the page)
//   <div data-icd10-picker data-search-url="...">
//     <input id="ID" ...>
//     <p id="ID_selected" aria-live="polite"></p>
//     <ul id="ID_results" role="listbox" hidden></ul>
//   </div>
// Optional data attributes on the wrapper replace the English announcements:
//   data-text-results="%s results. Use the up and down arrow keys to choose."
//   data-text-one-result, data-text-no-results, data-text-error
// No inline styles (strict CSP) and no innerHTML: results are set as text.
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var MIN_CHARS = 2;

  function setUpPicker(picker) {
    if (picker.dataset.icd10Ready) {
      return;
    }
    var input = picker.querySelector("input[type='text']");
    var listbox = picker.querySelector("[role='listbox']");
    var url = picker.dataset.searchUrl;
    if (!input || !listbox || !url) {
      return;
    }
    picker.dataset.icd10Ready = "1";
    var selected = document.getElementById(input.id + "_selected");
    var label = document.querySelector("label[for='" + input.id + "']");
    var text = {
      // The words come from the widget's data-text-* (translated in the template).
      results: picker.dataset.textResults,
      oneResult: picker.dataset.textOneResult,
      noResults: picker.dataset.textNoResults,
      error: picker.dataset.textError
    };

    // Announces the number of results; the "selected" paragraph announces a pick.
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    status.id = input.id + "_status";
    picker.appendChild(status);

    if (label) {
      label.id = label.id || input.id + "_label";
      listbox.setAttribute("aria-labelledby", label.id);
    }
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");

    var results = [];
    var active = -1;
    var timer = null;
    var announceTimer = null;
    var controller = null;
    var cache = new Map();
    var pickedCode = input.value.trim().toUpperCase();

    function announce(message) {
      // Cleared first so the same message twice in a row is read again.
      status.textContent = "";
      window.clearTimeout(announceTimer);
      announceTimer = window.setTimeout(function () {
        status.textContent = message;
      }, 50);
    }

    function optionId(index) {
      return listbox.id + "_option_" + index;
    }

    function isOpen() {
      return !listbox.hidden;
    }

    function open() {
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      setActive(-1);
    }

    function setActive(index) {
      var options = listbox.children;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "false");
      }
      active = index;
      if (active >= 0 && options[active]) {
        var option = options[active];
        option.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(items) {
      results = items;
      active = -1;
      var options = items.map(function (item, index) {
        var option = document.createElement("li");
        option.id = optionId(index);
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "icd10-option";
        option.dataset.index = String(index);
        var code = document.createElement("span");
        code.className = "icd10-code";
        code.textContent = item.code;
        option.appendChild(code);
        option.appendChild(document.createTextNode(" \u2014 " + item.title));
        return option;
      });
      listbox.replaceChildren.apply(listbox, options);
      // A code typed in full is as good as picked: say what it is.
      var typed = input.value.trim().toUpperCase();
      items.forEach(function (item) {
        if (selected && item.code === typed && pickedCode !== typed) {
          pickedCode = item.code;
          selected.textContent = item.code + " " + item.title;
        }
      });
      if (items.length) {
        open();
        setActive(-1);
        announce(items.length === 1
          ? text.oneResult
          : text.results.replace("%s", String(items.length)));
      } else {
        close();
        announce(text.noResults);
      }
    }

    function pick(index) {
      var item = results[index];
      if (!item) {
        return;
      }
      input.value = item.code;
      pickedCode = item.code;
      if (selected) {
        selected.textContent = item.code + " " + item.title;
      }
      close();
      input.focus();
    }

    function csrfToken() {
      var form = input.form;
      var field = form && form.querySelector("input[name='csrfmiddlewaretoken']");
      return field ? field.value : "";
    }

    function search(query) {
      var key = query.toLowerCase();
      if (cache.has(key)) {
        render(cache.get(key));
        return;
      }
      if (controller) {
        controller.abort();
      }
      controller = new AbortController();
      // POST, never ?q=: what a patient types about their health must not
      // reach a URL, and so no access log or browser history.
      var body = new URLSearchParams();
      body.set("q", query);
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRFToken": csrfToken()},
        body: body,
        signal: controller.signal
      })
        .then(function (response) {
          // A signed-out session is redirected to the sign-in page (HTML).
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || type.indexOf("application/json") === -1) {
            throw new Error("ICD-10 search failed: " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          var items = Array.isArray(data.results) ? data.results : [];
          cache.set(key, items);
          // Ignore answers to an earlier query that arrive late.
          if (input.value.trim().toLowerCase() === key) {
            render(items);
          }
        })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            close();
            announce(text.error);
          }
        });
    }

    input.addEventListener("input", function () {
      var query = input.value.trim();
      if (selected && query.toUpperCase() !== pickedCode) {
        selected.textContent = "";
        pickedCode = "";
      }
      window.clearTimeout(timer);
      if (query.length < MIN_CHARS) {
        if (controller) {
          controller.abort();
        }
        close();
        return;
      }
      timer = window.setTimeout(function () {
        search(query);
      }, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (event.isComposing || event.ctrlKey || event.metaKey) {
        return;
      }
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!isOpen()) {
            if (results.length && input.value.trim().length >= MIN_CHARS) {
              open();
            }
            if (event.altKey) {
              return;
            }
          }
          if (isOpen()) {
            setActive(active + 1 < results.length ? active + 1 : 0);
          }
          break;
        case "ArrowUp":
          if (isOpen()) {
            event.preventDefault();
            setActive(active > 0 ? active - 1 : results.length - 1);
          }
          break;
        case "Enter":
          // With the list open, Enter chooses; it must not submit the form.
          if (isOpen()) {
            event.preventDefault();
            if (active >= 0) {
              pick(active);
            } else {
              close();
            }
          }
          break;
        case "Escape":
          if (isOpen()) {
            event.preventDefault();
            close();
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

    // Keep focus in the input while clicking an option, so blur does not
    // close the list before the click lands.
    listbox.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });

    listbox.addEventListener("click", function (event) {
      var option = event.target.closest("[role='option']");
      if (option && listbox.contains(option)) {
        pick(parseInt(option.dataset.index, 10));
      }
    });
  }

  function setUpAll(root) {
    root.querySelectorAll("[data-icd10-picker]").forEach(setUpPicker);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setUpAll(document);
    });
  } else {
    setUpAll(document);
  }
})();
