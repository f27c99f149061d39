// SecondOp's small progressive enhancements. No inline scripts anywhere (strict CSP).
(function () {
  "use strict";

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  // GOV.UK character count (design-system.service.gov.uk/components/character-count/).
  // Nothing is cut off: the count says how far over the limit the text is, and the
  // server refuses the excess in the same words. The strings come from data-* on the
  // "You can enter up to ..." hint (django/forms/field.html), so they are translated.
  function countCharacters(text) {
    // Characters as Python counts them: an emoji is one, not two UTF-16 units.
    return text.length - (text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g) || []).length;
  }

  function setUpCharacterCounts() {
    var lang = document.documentElement.lang || undefined;
    var plurals = new Intl.PluralRules(lang);
    var numbers = new Intl.NumberFormat(lang);
    document.querySelectorAll("textarea[data-maxlength]").forEach(function (field) {
      var info = document.getElementById(field.id + "_info");
      var max = parseInt(field.dataset.maxlength, 10);
      if (!info || !(max > 0)) {
        return;
      }
      // Seen, not read aloud: it changes with every key press.
      var status = document.createElement("div");
      status.className = "hint char-count-status";
      status.setAttribute("aria-hidden", "true");
      // Read aloud once the person pauses, so it does not talk over their typing.
      var announcer = document.createElement("div");
      announcer.className = "visually-hidden";
      announcer.setAttribute("aria-live", "polite");
      // The limit stays in the textarea's description for screen readers.
      info.classList.add("visually-hidden");
      info.after(status, announcer);

      var message = function () {
        var left = max - countCharacters(field.value);
        var count = Math.abs(left);
        var form = plurals.select(count) === "one" ? "One" : "Other";
        var template = info.dataset[(left < 0 ? "over" : "remaining") + form];
        return { text: template.replace("%{count}", numbers.format(count)), over: left < 0 };
      };
      // GOV.UK's threshold: the count shows once three quarters of the limit is
      // used (a 2,000-character box says nothing for a 50-word answer); the limit
      // is always in the field's description for screen readers.
      var threshold = Math.floor(max * 0.75);
      var update = function () {
        var current = message();
        status.hidden = countCharacters(field.value) < threshold;
        status.textContent = current.text;
        status.classList.toggle("char-count-over", current.over);
        field.classList.toggle("char-count-over", current.over);
      };
      var timer = null;
      field.addEventListener("input", function () {
        update();
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          announcer.textContent = message().text;
        }, 1000);
      });
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
        // A form that takes a while says so ("Fetching your records from the link…").
        form.querySelectorAll("[data-busy-message]").forEach(function (status) {
          status.textContent = status.dataset.busyMessage;
        });
      });
    });
  }

  // GOV.UK conditional reveals: a field that applies only after a choice
  // (data-reveal-name / data-reveal-values, from SectionForm.reveals) shows only
  // once that choice is made. Without this script every field shows, and the
  // server forgets what a choice does not apply to. Unticking a box that reveals
  // a field (diagnosis: "I have a code from my doctor") clears that field.
  function setUpReveals() {
    document.querySelectorAll("[data-reveal-name]").forEach(function (block) {
      var form = block.closest("form");
      var values = block.dataset.revealValues.split(" ");
      var controls = form ? Array.prototype.slice.call(
        form.querySelectorAll("input[name='" + block.dataset.revealName + "']")) : [];
      if (!controls.length) {
        return;
      }
      var update = function (event) {
        var shown = controls.some(function (control) {
          return control.checked && values.indexOf(control.value) !== -1;
        });
        block.hidden = !shown;
        controls.forEach(function (control) {
          if (values.indexOf(control.value) !== -1) {
            control.setAttribute("aria-controls", block.id);
          }
        });
        if (!shown && event && event.target.type === "checkbox") {
          block.querySelectorAll("input[type=text], textarea").forEach(function (field) {
            field.value = "";
            field.dispatchEvent(new Event("input", { bubbles: true }));
          });
        }
      };
      controls.forEach(function (control) {
        control.addEventListener("change", update);
      });
      // An error on a hidden field must never be hidden: show it.
      if (!block.querySelector(".error-message")) {
        update();
      }
    });
  }

  // A bar kept at the foot of the window ([data-sticky-bar], the report form's
  // save bar) must never hide the focused control (WCAG 2.4.11): the page's
  // scroll padding follows the bar's height, and a control that lands under the
  // bar anyway (a click, a tall text box) is scrolled clear of it.
  function setUpStickyBars() {
    var bar = document.querySelector("[data-sticky-bar]");
    if (!bar) {
      return;
    }
    var root = document.documentElement;
    var pad = function () {
      root.style.scrollPaddingBottom = (bar.offsetHeight + 16) + "px";
    };
    pad();
    window.addEventListener("resize", pad);
    document.addEventListener("focusin", function (event) {
      var control = event.target;
      if (bar.contains(control) || !control.getBoundingClientRect) {
        return;
      }
      var barTop = bar.getBoundingClientRect().top;
      var box = control.getBoundingClientRect();
      if (box.bottom > barTop - 8) {
        // The control's foot clear of the bar, but never its head above the window.
        var by = Math.min(box.bottom - barTop + 16, box.top - 16);
        if (by > 0) {
          window.scrollBy({ top: by, left: 0, behavior: "instant" });
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpReveals();
    setUpStickyBars();
    focusErrorSummary();
    setUpSubmitOnce();
    setUpCharacterCounts();
  });
})();
