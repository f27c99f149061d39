// SecondOp's small progressive enhancements. No inline scripts anywhere (strict CSP).
(function () {
  "use strict";

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  // Live character counts for fields with a maxlength: "120 characters left".
  function setUpCharCounts(root) {
    var fields = root.querySelectorAll("textarea[maxlength][data-char-count]");
    fields.forEach(function (field) {
      if (field.dataset.charCountReady) {
        return;
      }
      field.dataset.charCountReady = "1";
      var counter = document.getElementById(field.id + "_count");
      if (!counter) {
        return;
      }
      var max = parseInt(field.getAttribute("maxlength"), 10);
      var template = counter.dataset.template || "%s characters left";
      var update = function () {
        var left = max - field.value.length;
        counter.textContent = template.replace("%s", String(left));
        counter.classList.toggle("char-count-low", left < max * 0.1);
      };
      field.addEventListener("input", update);
      update();
    });
  }

  // A second click on "Send" must not send twice (the server also refuses it).
  function setUpSubmitOnce() {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.submitted) {
          event.preventDefault();
          return;
        }
        form.dataset.submitted = "1";
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.setAttribute("aria-disabled", "true");
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    setUpSubmitOnce();
    setUpCharCounts(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    setUpCharCounts(event.target);
  });
})();
