// The records page tells the truth about each record (templates/records/includes/status.html).
//
// - After an upload (records-upload.js leaves the new records' ids in sessionStorage
//   and reloads), the message at the top and the polite live region say what happened
//   to each file: "2 files checked and ready, 1 file not accepted: see why", "see why"
//   leading to the refused record's reason, which stays beside it until dismissed.
// - While any record is still being checked, the page asks records:states how each
//   record stands (GET, JSON, no titles in it) and updates its rows in place: after 3
//   seconds, then less and less often (at most every 30 seconds), never while the tab
//   is hidden, and stops once every record is checked (or after 30 minutes, saying so).
//
// Progressive enhancement: without this script the page as sent shows every record's
// state and reason, and a reload shows the rest. Strict CSP: no inline style, no
// innerHTML; every string comes from the template.
//
// records:states answers {"records": [{"id", "state", "awaits", "label", "final", "reason",
// "dismiss_url"}], "final": true | false}; "awaits": a checked study labelled for another
// person, waiting for the patient's answer (counted apart, never "ready").

const BATCH_KEY = "secondop.records.batch";
const FIRST_WAIT_MS = 3000;
const LONGEST_WAIT_MS = 30000;
const GIVE_UP_MS = 30 * 60 * 1000;
const TAGS = {pending: "grey", uploaded: "blue", scanning: "blue", verified: "green", rejected: "red"};

function setUp(root) {
  const text = root.querySelector("[data-records-text]").dataset;
  const outcome = root.querySelector("[data-records-outcome]");
  const outcomeText = root.querySelector("[data-records-outcome-text]");
  const live = root.querySelector("[data-records-live]");
  const dismissTemplate = root.querySelector("[data-dismiss-template]");
  const lang = document.documentElement.lang || undefined;
  const plurals = new Intl.PluralRules(lang);
  const started = Date.now();
  let wait = FIRST_WAIT_MS;
  let timer = 0;
  let batch = [];

  function t(template, values) {
    return (template || "").replace(/%\{(\w+)\}/g, (match, name) =>
      values && name in values ? String(values[name]) : match);
  }

  function plural(count, name) {
    const key = `${name}${plurals.select(count) === "one" ? "One" : "Other"}`;
    return t(text[key], {count: count.toLocaleString(lang)});
  }

  // A new paragraph for each message, so that one does not cut off another.
  function announce(message) {
    const line = document.createElement("p");
    line.textContent = message;
    live.append(line);
    while (live.childElementCount > 6) {
      live.firstElementChild.remove();
    }
  }

  function row(id) {
    return document.getElementById(`record-${id}`);
  }

  function titleOf(id) {
    return row(id)?.querySelector("[data-record-title]")?.textContent.trim() || "";
  }

  function reasonOf(id) {
    return row(id)?.querySelector("[data-record-reason]")?.textContent.trim() || "";
  }

  // "flagged": checked, but labelled for another person: it waits for the patient's
  // answer, so it is not said to be ready.
  function stateOf(id) {
    const node = row(id);
    if (!node) return "";
    return node.dataset.state === "verified" && node.dataset.awaits === "true" ? "flagged" : node.dataset.state;
  }

  // --- What happened to the files just uploaded --------------------------------

  function readBatch() {
    try {
      const stored = window.sessionStorage.getItem(BATCH_KEY);
      window.sessionStorage.removeItem(BATCH_KEY);
      const ids = JSON.parse(stored || "[]");
      return Array.isArray(ids) ? ids.filter((id) => typeof id === "string" && row(id)) : [];
    } catch {
      return [];
    }
  }

  function counts() {
    const states = batch.map(stateOf);
    return {
      checked: states.filter((s) => s === "verified").length,
      flagged: states.filter((s) => s === "flagged").length,
      refused: states.filter((s) => s === "rejected").length,
      checking: states.filter((s) => !["verified", "flagged", "rejected"].includes(s)).length,
    };
  }

  // "2 files checked and ready, 1 not accepted": the first part names the files.
  function summary({checked, flagged, checking, refused}) {
    const parts = [];
    const named = [[checked, "checked"], [flagged, "flagged"], [checking, "checking"], [refused, "refused"]];
    for (const [count, name] of named) {
      if (count) {
        const short = parts.length && (name === "checking" || name === "refused");
        parts.push(short ? plural(count, `${name}Short`) : plural(count, name));
      }
    }
    return parts.join(", ");
  }

  function showOutcome() {
    const numbers = counts();
    const firstRefused = batch.find((id) => stateOf(id) === "rejected");
    const children = [document.createTextNode(summary(numbers))];
    if (firstRefused) {
      const link = document.createElement("a");
      link.href = `#record-${firstRefused}-reason`;
      link.textContent = text.seeWhy;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const reason = row(firstRefused)?.querySelector("[data-record-reason]");
        if (reason) {
          reason.scrollIntoView({block: "center"});
          reason.focus();
        }
      });
      children.push(document.createTextNode(": "), link);
    }
    children.push(document.createTextNode("."));
    outcomeText.replaceChildren(...children);
    outcome.classList.toggle("flash-error", Boolean(numbers.refused));
    const waiting = numbers.checking || numbers.flagged;
    outcome.classList.toggle("flash-success", !numbers.refused && !waiting);
    outcome.classList.toggle("flash-info", Boolean(waiting) && !numbers.refused);
    outcome.hidden = false;
  }

  // What is heard: the summary, then each refused file with its reason.
  function spokenOutcome() {
    const lines = [`${summary(counts())}.`];
    for (const id of batch) {
      if (stateOf(id) === "rejected") {
        lines.push(t(text.itemRefused, {title: titleOf(id), reason: reasonOf(id)}));
      }
    }
    return lines.join(" ");
  }

  // --- Rows ----------------------------------------------------------------------

  function update(record) {
    const node = row(record.id);
    if (!node || node.dataset.state === record.state) {
      return false;
    }
    node.dataset.state = record.state;
    node.dataset.awaits = record.awaits ? "true" : "false";
    const tag = node.querySelector("[data-record-state] .tag");
    if (tag) {
      tag.className = `tag tag-${TAGS[record.state] || "grey"}`;
      tag.textContent = record.label;
    }
    const reason = node.querySelector("[data-record-reason]");
    if (reason) {
      reason.textContent = record.reason || "";
      reason.hidden = !record.reason;
    }
    if (record.dismiss_url && dismissTemplate && !node.querySelector("form[data-dismiss]")) {
      const form = dismissTemplate.content.firstElementChild.cloneNode(true);
      form.action = record.dismiss_url;
      form.dataset.dismiss = "";
      form.querySelector("[data-dismiss-title]").textContent = ` ${titleOf(record.id)}`;
      reason.after(form);
    }
    return true;
  }

  async function poll() {
    timer = 0;
    if (document.hidden) {
      return; // asked again when the page is shown
    }
    let data;
    try {
      const response = await fetch(root.dataset.statesUrl, {
        credentials: "same-origin", headers: {"Accept": "application/json"},
      });
      if (!response.ok || !(response.headers.get("Content-Type") || "").includes("application/json")) {
        throw new Error(String(response.status));
      }
      data = await response.json();
    } catch {
      data = null; // a network blip: ask again later
    }
    if (data && Array.isArray(data.records)) {
      const heard = [];
      for (const record of data.records) {
        if (update(record) && record.final && !batch.includes(record.id)) {
          const title = titleOf(record.id);
          heard.push(record.state === "rejected"
            ? t(text.itemRefused, {title, reason: record.reason})
            : t(record.awaits ? text.itemFlagged : text.itemChecked, {title}));
        }
      }
      if (batch.length) {
        const before = outcomeText.textContent;
        showOutcome();
        if (outcomeText.textContent !== before) {
          heard.unshift(spokenOutcome());
        }
      }
      heard.forEach(announce);
      if (data.final) {
        root.dataset.checking = "false";
        return;
      }
    }
    if (Date.now() - started > GIVE_UP_MS) {
      root.dataset.checking = "false";
      announce(text.stopped);
      return;
    }
    wait = Math.min(Math.round(wait * 1.5), LONGEST_WAIT_MS);
    timer = window.setTimeout(poll, wait);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !timer && root.dataset.checking === "true") {
      timer = window.setTimeout(poll, 0);
    }
  });

  batch = readBatch();
  if (batch.length) {
    showOutcome();
    outcome.focus();
    // After a moment, so that the live region is in the accessibility tree first.
    window.setTimeout(() => announce(spokenOutcome()), 500);
  }
  if (root.dataset.checking === "true") {
    timer = window.setTimeout(poll, FIRST_WAIT_MS);
  }
}

document.querySelectorAll("[data-records-status]").forEach(setUp);
