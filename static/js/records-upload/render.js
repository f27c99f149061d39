// The records uploader's screen (static/js/records-upload.js): each record ("item")
// and its files drawn from the template's <template>s, their state and progress,
// announcements in the live region, and errors by field and in the summary.

import {stem, t, today, visibleName} from "./words.js";

const ANNOUNCE_STEPS = [25, 50, 75, 100];

const TAGS = {
  requesting: ["tag-grey", "statusWaiting"],
  uploading: ["tag-blue", "statusUploading"],
  confirming: ["tag-yellow", "statusChecking"],
  confirmed: ["tag-green", "statusUploaded"],
  failed: ["tag-red", "statusFailed"],
  refused: ["tag-red", "statusRefused"],
  cancelled: ["tag-grey", "statusCancelled"],
};

// `items`: the page's records, in order; `actions`: what the buttons of a record and
// of a file do (records-upload.js).
export function createView({el, text, words, items, actions}) {
  const {plural, formatBytes, formatPercent, percentFormat, dateLocale} = words;
  let itemCount = 0;
  let fileCount = 0;
  const dirty = new Set();
  let frame = 0;

  // --- Announcements ---------------------------------------------------------

  // Each message is a new paragraph in the polite live region, so one does not
  // replace another before it has been read; old ones are pruned.
  function announce(message) {
    const line = document.createElement("p");
    line.textContent = message;
    el.live.append(line);
    while (el.live.childElementCount > 6) {
      el.live.firstElementChild.remove();
    }
  }

  // --- Items: markup ---------------------------------------------------------

  // `shown` is the name without hidden characters; a name made only of them is
  // "Unnamed file", and its title is left for the patient to type.
  function createItem(shown, isFolder, picked) {
    const name = shown || text.unnamed;
    itemCount += 1;
    const id = `upload-${itemCount}`;
    const node = el.itemTemplate.content.firstElementChild.cloneNode(true);
    node.id = id;
    const item = {
      id, name, isFolder, node,
      files: [],
      state: "queued",
      announced: 0,
      confirmAttempts: 0,
      heading: node.querySelector("[data-item-name]"),
      meta: node.querySelector("[data-item-meta]"),
      stateTag: node.querySelector("[data-item-state]"),
      error: node.querySelector("[data-item-error]"),
      fieldset: node.querySelector("[data-item-fields]"),
      summary: node.querySelector("[data-item-summary]"),
      progress: node.querySelector("[data-item-progress]"),
      status: node.querySelector("[data-item-status]"),
      details: node.querySelector("[data-files-details]"),
      removeButton: node.querySelector("[data-remove]"),
      cancelButton: node.querySelector("[data-cancel]"),
      checkButton: node.querySelector("[data-check-again]"),
      fields: {},
    };
    item.heading.id = `${id}-name`;
    item.heading.textContent = name;
    item.progress.querySelector("progress").setAttribute("aria-labelledby", item.heading.id);
    item.error.id = `${id}-error`;
    node.querySelector("[data-item-legend]").textContent = t(text.itemLabel, {name});
    node.querySelectorAll("[data-name-suffix]").forEach((span) => {
      span.textContent = ` ${name}`;
    });
    item.removeButton.id = `${id}-remove`;
    item.cancelButton.id = `${id}-cancel`;
    node.querySelectorAll("[data-field]").forEach((wrapper) => {
      const field = wrapper.dataset.field;
      const input = wrapper.querySelector("[data-input]");
      const error = wrapper.querySelector("[data-error]");
      const hint = wrapper.querySelector("[data-hint]");
      input.id = `${id}-${field}`;
      input.name = field;
      wrapper.querySelector("[data-label]").htmlFor = input.id;
      error.id = `${id}-${field}-error`;
      if (hint) {
        hint.id = `${id}-${field}-hint`;
      }
      item.fields[field] = {wrapper, input, error, hint};
      describe(item.fields[field]);
    });
    item.fields.title.input.value = !shown ? "" : isFolder ? shown : stem(shown);
    if (isFolder && item.fields.category.input.querySelector("option[value='imaging']")) {
      item.fields.category.input.value = "imaging";
    }
    if (item.fields.service_date) {
      item.fields.service_date.input.max = today();
    }

    const list = isFolder
      ? node.querySelector("[data-files]")
      : node.querySelector("[data-single-file]");
    if (isFolder) {
      item.details.hidden = false;
      node.querySelector("[data-files-summary]").textContent = t(text.filesSummary, {name});
    } else {
      list.hidden = false;
      node.classList.add("upload-item-single");
    }
    for (const {file, relativePath} of picked) {
      list.append(createFileRow(item, file, relativePath));
    }
    item.size = item.files.reduce((sum, entry) => sum + entry.size, 0);
    item.meta.textContent = `${plural(item.files.length, text.filesOne, text.filesOther)} · ${formatBytes(item.size)}`;

    item.removeButton.addEventListener("click", () => actions.removeItem(item));
    item.cancelButton.addEventListener("click", () => actions.cancelItem(item));
    item.checkButton.addEventListener("click", () => {
      item.itemError = "";
      actions.confirmItem(item);
      // The button goes while the app checks: focus stays on this record.
      item.heading.tabIndex = -1;
      item.heading.focus();
    });
    items.push(item);
    el.items.append(node);
    render(item);
    return item;
  }

  function createFileRow(item, file, relativePath) {
    fileCount += 1;
    const node = el.fileTemplate.content.firstElementChild.cloneNode(true);
    const entry = {
      item, file, node, relativePath,
      clientId: `f${fileCount}`,
      name: visibleName(file.name) || text.unnamed,
      // As the browser gave it: the server cleans it and keeps the original in its audit.
      rawName: file.name,
      size: file.size,
      type: file.type || "",
      uploadType: file.type || "application/octet-stream",
      state: "queued",
      bytes: 0,
      error: "",
      label: node.querySelector("[data-file-name]"),
      progress: node.querySelector("[data-file-progress]"),
      errorNode: node.querySelector("[data-file-error]"),
      retryButton: node.querySelector("[data-file-retry]"),
      cancelButton: node.querySelector("[data-file-cancel]"),
    };
    node.id = `${item.id}-${entry.clientId}`;
    entry.label.id = `${node.id}-name`;
    entry.label.textContent = relativePath
      ? relativePath.split("/").slice(1).map(visibleName).join("/")
      : entry.name;
    node.querySelector("[data-file-size]").textContent = formatBytes(file.size);
    entry.progress.querySelector("progress").setAttribute("aria-labelledby", entry.label.id);
    entry.errorNode.id = `${node.id}-error`;
    node.querySelectorAll("[data-name-suffix]").forEach((span) => {
      span.textContent = ` ${entry.name}`;
    });
    entry.retryButton.addEventListener("click", () => actions.retryFile(entry));
    entry.cancelButton.addEventListener("click", () => actions.cancelFile(entry));
    item.files.push(entry);
    return node;
  }

  // aria-describedby: the hint, then the error when there is one.
  function describe(field) {
    const ids = [];
    if (field.hint) {
      ids.push(field.hint.id);
    }
    if (!field.error.hidden) {
      ids.push(field.error.id);
    }
    if (ids.length) {
      field.input.setAttribute("aria-describedby", ids.join(" "));
    } else {
      field.input.removeAttribute("aria-describedby");
    }
  }

  // --- Items: state on screen ------------------------------------------------

  // Progress events come many times a second: draw at most once a frame.
  function scheduleRender(item) {
    dirty.add(item);
    if (!frame) {
      frame = window.requestAnimationFrame(() => {
        frame = 0;
        dirty.forEach(render);
        dirty.clear();
      });
    }
  }

  function setProgress(container, done, total) {
    container.querySelector("progress").value = total > 0 ? Math.floor((done / total) * 100) : 100;
    container.querySelector("[data-progress-text]").textContent = t(text.progressText, {
      percent: formatPercent(done, total), done: formatBytes(done), size: formatBytes(total),
    });
  }

  // Once the record exists its details are fixed: one line instead of the fields.
  function summarise(item) {
    const {category, title, service_date: serviceDate, request} = item.fields;
    const parts = [category.input.selectedOptions[0]?.textContent || "", title.input.value.trim()];
    if (serviceDate.input.valueAsDate) {
      parts.push(serviceDate.input.valueAsDate.toLocaleDateString(dateLocale, {
        timeZone: "UTC", day: "numeric", month: "long", year: "numeric",
      }));
    }
    if (request && request.input.value) {
      parts.push(request.input.selectedOptions[0].textContent);
    }
    return parts.filter(Boolean).join(" · ");
  }

  function render(item) {
    const started = item.state !== "queued";
    const failed = item.files.filter((entry) => entry.state === "failed" || entry.state === "cancelled");
    const moving = item.files.some((entry) => entry.state === "uploading");
    // An item whose files have all stopped, some of them failed, waits for the patient.
    let state = item.state === "uploading" && failed.length && !moving ? "failed" : item.state;
    if (state === "confirmed" && item.serverState === "rejected") {
      state = "refused";
    }
    item.node.dataset.state = state;
    item.fieldset.disabled = started;
    item.fieldset.hidden = started;
    item.summary.hidden = !started;
    if (started && !item.summary.textContent) {
      item.summary.textContent = summarise(item);
    }
    item.removeButton.hidden = !["queued", "cancelled", "failed"].includes(item.state);
    item.cancelButton.hidden = !(item.state === "uploading" || item.state === "requesting");
    item.checkButton.hidden = !(item.state === "failed" && item.mayCheckAgain);

    const tag = TAGS[state];
    item.stateTag.hidden = !tag;
    if (tag) {
      item.stateTag.className = `tag upload-item-state ${tag[0]}`;
      item.stateTag.textContent = text[tag[1]];
    }

    const uploaded = item.files.reduce((sum, entry) => sum + entry.bytes, 0);
    item.progress.hidden = !(item.state === "uploading" || item.state === "confirming") ||
      state === "failed";
    if (!item.progress.hidden) {
      setProgress(item.progress, uploaded, item.size);
      announceProgress(item, uploaded);
    }

    let itemError = item.itemError || "";
    if (item.state === "uploading" && failed.length && item.isFolder) {
      itemError = plural(failed.length, text.failedOne, text.failedOther);
    }
    item.error.textContent = itemError;
    item.error.hidden = !itemError;
    item.node.classList.toggle("upload-item-error", Boolean(itemError));
    if (item.isFolder && failed.length && !item.details.open && item.state === "uploading") {
      // Failed files are shown, not left folded away among hundreds of others.
      item.details.open = true;
    }
    item.status.hidden = !item.statusText;
    item.status.textContent = item.statusText || "";
    item.status.classList.toggle("error-message", state === "refused");

    for (const entry of item.files) {
      renderFile(entry);
    }
  }

  function renderFile(entry) {
    // A study can hold thousands of files: touch only the rows that changed.
    const drawn = `${entry.state}|${entry.bytes}|${entry.item.state}|${entry.error}`;
    if (entry.drawn === drawn) {
      return;
    }
    entry.drawn = drawn;
    const active = entry.item.state === "uploading" || entry.item.state === "confirming";
    entry.node.dataset.state = entry.state;
    entry.progress.hidden = !(active && (entry.state === "uploading" || entry.state === "done"));
    if (!entry.progress.hidden) {
      setProgress(entry.progress, entry.bytes, entry.size);
    }
    const problem = entry.state === "failed" || entry.state === "cancelled";
    entry.errorNode.hidden = !problem;
    entry.errorNode.textContent = entry.state === "cancelled" ? text.statusCancelled : entry.error;
    entry.retryButton.hidden = !(problem && entry.item.state === "uploading");
    entry.cancelButton.hidden = !(entry.state === "uploading" && entry.item.state === "uploading");
    if (problem) {
      entry.retryButton.setAttribute("aria-describedby", entry.errorNode.id);
    }
  }

  // 25, 50, 75 and 100 %, each once, never every byte.
  function announceProgress(item, uploaded) {
    const share = item.size > 0 ? Math.floor((uploaded / item.size) * 100) : 100;
    const step = ANNOUNCE_STEPS.filter((s) => share >= s).pop() || 0;
    if (step > item.announced) {
      item.announced = step;
      announce(t(text.progress, {name: item.name, percent: percentFormat.format(step / 100)}));
    }
  }

  // --- Errors ----------------------------------------------------------------

  function clearErrors(item) {
    item.itemError = "";
    for (const field of Object.values(item.fields)) {
      field.error.hidden = true;
      field.error.textContent = "";
      field.input.removeAttribute("aria-invalid");
      field.wrapper.classList.remove("field-error");
      describe(field);
    }
  }

  function setFieldError(item, name, message) {
    const field = item.fields[name];
    if (!field) {
      item.itemError = [item.itemError, message].filter(Boolean).join(" ");
      return {message, target: item.removeButton.id, label: item.name};
    }
    // As the shared field template does: "Error:" for screen readers, then the message.
    const prefix = document.createElement("span");
    prefix.className = "visually-hidden";
    prefix.textContent = text.errorPrefix;
    field.error.replaceChildren(prefix, document.createTextNode(` ${message}`));
    field.error.hidden = false;
    field.input.setAttribute("aria-invalid", "true");
    field.wrapper.classList.add("field-error");
    describe(field);
    return {message, target: field.input.id, label: item.name};
  }

  function showSummary(problems) {
    el.errorList.replaceChildren(...problems.map(({message, target, label}) => {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = `#${target}`;
      link.textContent = label ? `${label}: ${message}` : message;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const field = document.getElementById(target);
        if (field) {
          field.scrollIntoView({block: "center"});
          field.focus();
        }
      });
      li.append(link);
      return li;
    }));
    el.errors.hidden = problems.length === 0;
    if (problems.length) {
      el.errors.focus();
    }
  }

  return {announce, createItem, scheduleRender, render, clearErrors, setFieldError, showSummary};
}
