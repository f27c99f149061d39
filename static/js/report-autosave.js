// The report draft saves itself. A few seconds after the specialist stops typing,
// the whole form is POSTed in the background (fetch, the form's own CSRF token) to
// its data-autosave-url, and the status line says "Saved at 14:02". Without this
// script the Save draft button does the same, so nothing depends on it.
//
// Markup (templates/reports/write.html):
//   <form data-autosave-url="..." data-autosave-status="ID"
//         data-text-saving="Saving…" data-text-failed="Not saved: ...">
//   <p id="ID" role="status" aria-live="polite">Saved at 13:58</p>
// The endpoint answers {"message": "Saved at 14:02"} (200) or {"message": ...}
// (400 when an answer needs correcting, 409 when the report was signed meanwhile).
// The status is polite and changes only when a save ends, so a screen reader
// hears it at a pause, never over the typing.
(function () {
  "use strict";

  var IDLE_MS = 3000;

  function setUp(form) {
    var status = document.getElementById(form.dataset.autosaveStatus);
    var url = form.dataset.autosaveUrl;
    if (!status || !url || !window.fetch || !window.FormData) {
      return;
    }
    var timer = null;
    var saving = false;
    var again = false;
    var submitting = false;

    function say(text) {
      if (status.textContent !== text) {
        status.textContent = text;
      }
    }

    function save() {
      timer = null;
      if (submitting) {
        return;
      }
      if (saving) {
        again = true; // typed while a save was on its way: save once more after it
        return;
      }
      saving = true;
      status.classList.add("autosave-status-busy");
      var data = new FormData(form);
      var token = data.get("csrfmiddlewaretoken") || "";
      fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, "Accept": "application/json" }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          say(body.message || (response.ok ? "" : form.dataset.textFailed || ""));
          status.classList.toggle("autosave-status-error", !response.ok);
        });
      }).catch(function () {
        say(form.dataset.textFailed || "");
        status.classList.add("autosave-status-error");
      }).then(function () {
        saving = false;
        status.classList.remove("autosave-status-busy");
        if (again) {
          again = false;
          schedule();
        }
      });
    }

    function schedule() {
      if (timer) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(save, IDLE_MS);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", function () {
      // The buttons save now; a background save must not race them.
      submitting = true;
      if (timer) {
        window.clearTimeout(timer);
      }
    });
  }

  document.querySelectorAll("form[data-autosave-url]").forEach(setUp);
})();
