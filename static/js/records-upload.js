// Records upload (templates/records/includes/uploader.html): files, whole folders
// (an imaging CD) or drag and drop, grouped into records ("items"), each sent
// straight to storage by the vendored Uppy 6 (core + AwsS3, headless). The same code
// runs in both storage modes: the server signs every request, for S3 or, in local
// mode, for its own single-use upload endpoint.
//
// Per item: POST the slots URL (details + file list) -> the server creates a
// pending record and fixes each file's object key; Uppy uploads each file, asking
// the file's sign URL to sign every S3 step; when all its files are in, POST the
// confirm URL. Nothing here ever reaches our server's disk but the JSON above.
//
// The parts: records-upload/api.js (our server's calls, signing), folders.js (what
// was picked or dropped), render.js (the screen), words.js (words and numbers); this
// module holds the state and wires them together. They are imported by relative URL;
// collectstatic hashes those imports as it hashes this module (secondop/staticfiles.py).
//
// Strict CSP: no inline styles (progress is a <progress>, state is classes and
// `hidden`), no innerHTML (all text is set as text), strings come from the template.
// The Uppy bundle is imported from the URL the template gives ({% static %}, so
// hashed in production); it needs script-src 'self' only, and connect-src the
// storage origin in S3 mode.
//
// The server contract (records/views.py). Every POST carries X-CSRFToken; errors
// are JSON {"message": "...", "errors": {field: ["..."]}} and their messages are
// shown to the patient as they are.
//   POST slots_url {"category", "title", "service_date": "YYYY-MM-DD" | "",
//       "request": "<uuid>" | "", "files": [{"client_id", "name",
//       "relative_path": "CD/DICOM/IM0001" | "", "size", "type": declared | ""}]}
//     201 {"record", "confirm_url", "files": [{"client_id", "key", "sign_url"}],
//          "cancel_url"?: POSTed (no body) when the patient cancels the record}
//     400 (errors by field: category, title, service_date, request, files), 404, 429
//   POST sign_url {"method": "PUT"|"POST"|"GET"|"DELETE", "key",
//       "uploadId"?, "partNumber"?}
//     200 {"url"}; 403 / 404 / 410 {"message"}
//     A PUT is signed for exactly the size declared for the file, each part for
//     exactly its share (parts of getChunkSize's size below, the last one the rest),
//     and only the parts that size needs: storage refuses any other length.
//     The request then goes to that URL with Content-Type = the declared type or
//     application/octet-stream (a single PUT, multipart create), application/xml
//     (multipart complete), none (parts). Uppy tries a failed request up to three
//     more times on the same URL (network errors, 5xx, 429).
//   POST confirm_url (no body)
//     200 {"state": "uploaded"|"scanning"|"verified"|"rejected", "message"};
//     400 / 404 {"message"}; 503 {"message"}: asked again with backoff.
// client_id is an opaque "f<n>" of this page: no file name travels in it.

import {createApi, sleep} from "./records-upload/api.js";
import {
  groupByFolder, pickedFromInput, readDropped, setUpDropZone, signature,
} from "./records-upload/folders.js";
import {createView} from "./records-upload/render.js";
import {createWords, t, today, visibleName} from "./records-upload/words.js";

const MiB = 1024 * 1024;
// Parts of a multipart upload: big enough for few signing round trips, small enough
// that a part retried on a bad connection costs little. S3 allows 10,000 parts.
const PART_SIZE = 10 * MiB;
const SIMULTANEOUS_FILES = 4;
const CONFIRM_ATTEMPTS = 8;
const RELOAD_DELAY_MS = 1500;
// The records just uploaded, for records-status.js to say what became of each after
// the reload.
const BATCH_KEY = "secondop.records.batch";

function setUp(root) {
  const form = root.querySelector("[data-uploader-form]");
  const fallback = root.querySelector("[data-uploader-fallback]");
  const text = root.querySelector("[data-uploader-text]").dataset;
  const config = {
    slotsUrl: root.dataset.slotsUrl,
    storage: root.dataset.storage === "s3" ? "s3" : "local",
    multipartThreshold: Number(root.dataset.multipartThreshold) || 100 * MiB,
    maxFileSize: Number(root.dataset.maxFileSize) || Infinity,
    caseRemaining: Number(root.dataset.caseRemaining),
    uppyUrl: root.dataset.uppyUrl,
  };
  const lang = document.documentElement.lang || undefined;
  const words = createWords(lang);
  const {plural, formatBytes} = words;
  const el = {
    errors: form.querySelector("[data-uploader-errors]"),
    errorList: form.querySelector("[data-uploader-error-list]"),
    limits: form.querySelector("[data-uploader-limits]"),
    drop: form.querySelector("[data-drop-zone]"),
    pickFiles: form.querySelector("[data-pick-files]"),
    pickFolder: form.querySelector("[data-pick-folder]"),
    folderPicker: form.querySelector("[data-folder-picker]"),
    queue: form.querySelector("[data-queue]"),
    items: form.querySelector("[data-items]"),
    uploadButton: form.querySelector("[data-upload-button]"),
    outcome: form.querySelector("[data-outcome]"),
    outcomeText: form.querySelector("[data-outcome-text]"),
    recordsLink: form.querySelector("[data-records-link]"),
    live: form.querySelector("[data-live]"),
    itemTemplate: root.querySelector("[data-item-template]"),
    fileTemplate: root.querySelector("[data-file-template]"),
  };
  const csrfToken = form.querySelector("input[name='csrfmiddlewaretoken']").value;

  const items = [];
  const filesByKey = new Map();
  const filesByUppyId = new Map();
  const seen = new Set();
  let requesting = false;
  let finished = false;
  let reloadTimer = 0;

  const {postJSON, signRequest, describeError} = createApi({csrfToken, text, filesByKey});
  const actions = {removeItem, cancelItem, confirmItem, retryFile, cancelFile};
  const {announce, createItem, scheduleRender, render, clearErrors, setFieldError, showSummary} =
    createView({el, text, words, items, actions});

  // Loaded now, awaited on the first upload: the page is usable meanwhile.
  const uppyReady = import(config.uppyUrl).then(createUppy);
  uppyReady.catch(() => {});

  // --- Uppy -----------------------------------------------------------------

  function createUppy(module) {
    const {Uppy, AwsS3} = module;
    const uppy = new Uppy({id: "records", autoProceed: false, allowMultipleUploadBatches: true});
    uppy.use(AwsS3, {
      limit: SIMULTANEOUS_FILES,
      // Local mode has no multipart endpoint: one PUT per file, whatever its size.
      shouldUseMultipart: (file) =>
        config.storage === "s3" && (file.size || 0) > config.multipartThreshold,
      getChunkSize: (file) => Math.max(PART_SIZE, Math.ceil(file.size / 10000)),
      // The key the server fixed for this file; never the file's name.
      generateObjectKey: (file) => filesByUppyId.get(file.id).key,
      signRequest,
      // Nothing from Uppy's metadata (file names, folder paths) goes to storage.
      allowedMetaFields: [],
    });
    // Uppy also tries failed files again when a later upload starts.
    const retrying = (file) => {
      const entry = file && filesByUppyId.get(file.id);
      if (entry && entry.state === "failed" && entry.item.state === "uploading") {
        entry.state = "uploading";
        entry.error = "";
        scheduleRender(entry.item);
      }
    };
    uppy.on("upload-retry", retrying);
    uppy.on("retry-all", (files) => files.forEach(retrying));
    uppy.on("upload-progress", (file, progress) => {
      const entry = file && filesByUppyId.get(file.id);
      if (entry && entry.state === "uploading") {
        entry.bytes = progress.bytesUploaded || 0;
        scheduleRender(entry.item);
      }
    });
    uppy.on("upload-success", (file) => {
      const entry = file && filesByUppyId.get(file.id);
      if (entry && entry.state === "uploading") {
        entry.state = "done";
        entry.bytes = entry.size;
        entry.error = "";
        afterFileSettled(entry);
      }
    });
    uppy.on("upload-error", (file, error) => {
      const entry = file && filesByUppyId.get(file.id);
      if (entry && entry.state === "uploading") {
        entry.state = "failed";
        entry.bytes = 0;
        entry.error = describeError(error);
        announce(t(text.failed, {name: entry.name, reason: entry.error}));
        afterFileSettled(entry);
      }
    });
    return uppy;
  }

  function addToUppy(uppy, entry) {
    entry.state = "uploading";
    entry.bytes = 0;
    entry.error = "";
    try {
      entry.uppyId = uppy.addFile({
        name: entry.name,
        // The PUT's Content-Type: the browser's type, or application/octet-stream.
        type: entry.uploadType,
        data: entry.file,
        source: "records",
        // Uppy makes file ids from the name and this path: two IM0001 in two
        // series of one CD stay two files.
        meta: {relativePath: entry.relativePath || entry.clientId},
      });
      filesByUppyId.set(entry.uppyId, entry);
      return true;
    } catch (error) {
      entry.state = "failed";
      entry.error = describeError(error);
      return false;
    }
  }

  // --- Adding files -----------------------------------------------------------

  // What was picked or dropped becomes records ("items"), by folder (groupByFolder);
  // a file or folder already added is said to be, not added twice.
  function addFiles(picked, emptyFolders = []) {
    const {folders, singles} = groupByFolder(picked);
    const added = [];
    for (const single of singles) {
      const key = signature(single.file, "");
      if (seen.has(key)) {
        announce(t(text.duplicate, {name: visibleName(single.file.name) || text.unnamed}));
        continue;
      }
      seen.add(key);
      added.push(createItem(visibleName(single.file.name), false, [single]));
    }
    for (const [folder, files] of folders) {
      const fresh = files.filter((f) => !seen.has(signature(f.file, f.relativePath)));
      if (!fresh.length) {
        announce(t(text.duplicate, {name: visibleName(folder) || text.unnamed}));
        continue;
      }
      fresh.forEach((f) => seen.add(signature(f.file, f.relativePath)));
      fresh.sort((a, b) => a.relativePath.localeCompare(b.relativePath));
      added.push(createItem(visibleName(folder), true, fresh));
    }
    for (const folder of emptyFolders) {
      if (!folders.has(folder)) {
        announce(t(text.emptyFolder, {name: visibleName(folder) || text.unnamed}));
      }
    }
    if (added.length) {
      // Files added in the moment before the reload: keep them, reload later.
      window.clearTimeout(reloadTimer);
      finished = false;
      el.outcome.hidden = true;
      announce(added.map((item) => t(text.added, {name: item.name})).join(" "));
      refreshControls();
    }
  }

  function readInput(input) {
    addFiles(pickedFromInput(input));
  }

  async function readDrop(dataTransfer) {
    const {picked, emptyFolders} = await readDropped(dataTransfer, (name) =>
      announce(t(text.errorRead, {name})));
    addFiles(picked, emptyFolders);
  }

  // --- Controls ----------------------------------------------------------------

  function refreshControls() {
    const queued = items.filter((item) => item.state === "queued");
    el.queue.hidden = items.length === 0;
    if (requesting || !queued.length) {
      el.uploadButton.setAttribute("aria-disabled", "true");
    } else {
      el.uploadButton.removeAttribute("aria-disabled");
    }
    const busy = requesting || items.some((item) =>
      item.state === "confirming" || item.files.some((entry) => entry.state === "uploading"));
    if (busy) {
      window.addEventListener("beforeunload", warnBeforeLeaving);
    } else {
      window.removeEventListener("beforeunload", warnBeforeLeaving);
    }
  }

  function warnBeforeLeaving(event) {
    event.preventDefault();
    event.returnValue = "";
  }

  // --- Checks --------------------------------------------------------------------

  // Checked here first, so that nothing is asked of the server that it would refuse.
  function validate(queued) {
    const problems = [];
    let total = 0;
    for (const item of queued) {
      clearErrors(item);
      const {category, title, service_date: serviceDate} = item.fields;
      if (!category.input.value) {
        problems.push(setFieldError(item, "category", text.errorCategory));
      }
      if (!title.input.value.trim()) {
        problems.push(setFieldError(item, "title", text.errorTitle));
      }
      if (serviceDate.input.validity.badInput) {
        problems.push(setFieldError(item, "service_date", text.errorDateInvalid));
      } else if (serviceDate.input.value && serviceDate.input.value > today()) {
        problems.push(setFieldError(item, "service_date", text.errorDateFuture));
      }
      for (const entry of item.files) {
        if (entry.size === 0) {
          problems.push(setFieldError(item, null, t(text.errorEmptyFile, {name: entry.name})));
        } else if (entry.size > config.maxFileSize) {
          problems.push(setFieldError(item, null, t(text.errorTooLarge, {
            name: entry.name, size: formatBytes(entry.size), limit: formatBytes(config.maxFileSize),
          })));
        }
      }
      total += item.size;
      if (Number.isFinite(config.caseRemaining) && total > config.caseRemaining) {
        problems.push(setFieldError(item, null, t(text.errorCaseFull, {
          remaining: formatBytes(Math.max(config.caseRemaining, 0)),
        })));
      }
      render(item);
    }
    return problems;
  }

  function showServerErrors(item, data) {
    const problems = [];
    const errors = data.errors && typeof data.errors === "object" ? data.errors : {};
    for (const [name, messages] of Object.entries(errors)) {
      const list = Array.isArray(messages) ? messages : [String(messages)];
      const field = name in item.fields ? name : null;
      for (const message of list) {
        problems.push(setFieldError(item, field, message));
      }
    }
    if (!problems.length) {
      problems.push(setFieldError(item, null, data.message || text.errorServer));
    }
    return problems;
  }

  // --- Upload -------------------------------------------------------------------

  async function uploadQueued() {
    if (requesting) {
      return;
    }
    const queued = items.filter((item) => item.state === "queued");
    if (!queued.length) {
      return;
    }
    el.errors.hidden = true;
    const problems = validate(queued);
    if (problems.length) {
      showSummary(problems);
      return;
    }
    let uppy;
    try {
      uppy = await uppyReady;
    } catch {
      showSummary([{message: text.errorStart, target: el.uploadButton.id || "", label: ""}]);
      return;
    }
    requesting = true;
    finished = false;
    el.outcome.hidden = true;
    refreshControls();
    announce(text.started);
    const serverProblems = [];
    // One record at a time: the server checks the case's space left per record.
    for (const item of queued) {
      if (item.state !== "queued") {
        continue; // removed meanwhile
      }
      item.state = "requesting";
      render(item);
      const result = await requestSlot(item);
      if (item.state !== "requesting") {
        // Cancelled while the server answered: let the new record go at once.
        if (result.ok && item.cancelUrl) {
          postJSON(item.cancelUrl);
        }
        continue;
      }
      if (!result.ok) {
        item.state = "queued";
        serverProblems.push(...result.problems);
        render(item);
        continue;
      }
      startItem(uppy, item);
    }
    requesting = false;
    refreshControls();
    if (serverProblems.length) {
      showSummary(serverProblems);
    }
    maybeFinish();
  }

  async function requestSlot(item) {
    clearErrors(item);
    const {category, title, service_date: serviceDate, request} = item.fields;
    const {status, data} = await postJSON(config.slotsUrl, {
      category: category.input.value,
      title: title.input.value.trim(),
      service_date: serviceDate.input.value || "",
      request: request ? request.input.value : "",
      files: item.files.map((entry) => ({
        client_id: entry.clientId,
        name: entry.rawName,
        relative_path: entry.relativePath,
        size: entry.size,
        type: entry.type,
      })),
    });
    if (status === 201 && Array.isArray(data.files)) {
      const slots = new Map(data.files.map((slot) => [slot.client_id, slot]));
      if (item.files.every((entry) => slots.has(entry.clientId))) {
        item.record = data.record;
        item.confirmUrl = data.confirm_url;
        item.cancelUrl = data.cancel_url || "";
        for (const entry of item.files) {
          const slot = slots.get(entry.clientId);
          entry.key = slot.key;
          entry.signUrl = slot.sign_url;
          filesByKey.set(entry.key, entry);
        }
        return {ok: true};
      }
    }
    return {ok: false, problems: showServerErrors(item, status === 201 ? {} : data)};
  }

  function startItem(uppy, item) {
    item.state = "uploading";
    item.announced = 0;
    for (const entry of item.files) {
      addToUppy(uppy, entry);
    }
    render(item);
    uppy.upload().catch(() => {});
    afterFileSettled(null, item);
  }

  function afterFileSettled(entry, itemGiven) {
    const item = itemGiven || entry.item;
    scheduleRender(item);
    if (item.state === "uploading" && item.files.every((f) => f.state === "done")) {
      confirmItem(item);
    }
    refreshControls();
    maybeFinish();
  }

  async function retryFile(entry) {
    const uppy = await uppyReady;
    const item = entry.item;
    if (entry.state === "failed" && entry.uppyId && uppy.getFile(entry.uppyId)) {
      entry.state = "uploading";
      entry.error = "";
      // Resumes a multipart upload from the parts already stored.
      uppy.retryUpload(entry.uppyId).catch(() => {});
    } else if (entry.state === "failed" || entry.state === "cancelled") {
      if (addToUppy(uppy, entry)) {
        uppy.retryUpload(entry.uppyId).catch(() => {});
      }
    }
    finished = false;
    el.outcome.hidden = true;
    render(item);
    refreshControls();
    // The button pressed is gone: focus goes to what stops this file now.
    (item.isFolder && !entry.cancelButton.hidden ? entry.cancelButton : item.cancelButton).focus();
  }

  async function cancelFile(entry) {
    const uppy = await uppyReady;
    if (entry.state !== "uploading") {
      return;
    }
    entry.state = "cancelled";
    entry.bytes = 0;
    if (entry.uppyId && uppy.getFile(entry.uppyId)) {
      uppy.removeFile(entry.uppyId);
    }
    announce(t(text.cancelled, {name: entry.name}));
    afterFileSettled(entry);
    render(entry.item);
    entry.retryButton.focus();
  }

  async function cancelItem(item) {
    if (item.state === "requesting") {
      item.state = "cancelled";
    } else if (item.state === "uploading") {
      const uppy = await uppyReady;
      item.state = "cancelled";
      for (const entry of item.files) {
        if (entry.state !== "done") {
          entry.state = "cancelled";
          entry.bytes = 0;
        }
        if (entry.uppyId && uppy.getFile(entry.uppyId)) {
          uppy.removeFile(entry.uppyId);
        }
      }
    } else {
      return;
    }
    if (item.cancelUrl) {
      // The pending record and whatever arrived of it go now, not at the slot's expiry.
      postJSON(item.cancelUrl);
    }
    announce(t(text.cancelled, {name: item.name}));
    render(item);
    refreshControls();
    item.removeButton.focus();
    maybeFinish();
  }

  function removeItem(item) {
    const index = items.indexOf(item);
    if (index === -1 || !(item.state === "queued" || item.state === "cancelled" || item.state === "failed")) {
      return;
    }
    items.splice(index, 1);
    for (const entry of item.files) {
      seen.delete(signature(entry.file, entry.relativePath));
      filesByKey.delete(entry.key);
    }
    item.node.remove();
    announce(t(text.removed, {name: item.name}));
    const next = items[index] || items[index - 1];
    const focusTarget = next
      ? [next.removeButton, next.cancelButton].find((button) => !button.hidden) || next.heading
      : el.pickFiles;
    if (next && focusTarget === next.heading) {
      next.heading.tabIndex = -1;
    }
    focusTarget.focus();
    refreshControls();
    if (!items.some((other) => other.state === "queued")) {
      el.errors.hidden = true;
    }
    // What is left may now be all done.
    finished = false;
    el.outcome.hidden = true;
    maybeFinish();
  }

  // The app checks the stored objects and queues their verification. A 503 means
  // the storage did not answer the app: ask again, a little later each time.
  async function confirmItem(item) {
    item.state = "confirming";
    item.mayCheckAgain = false;
    finished = false;
    el.outcome.hidden = true;
    render(item);
    let wait = 2000;
    for (let attempt = 1; attempt <= CONFIRM_ATTEMPTS; attempt += 1) {
      const {status, data} = await postJSON(item.confirmUrl);
      if (status === 200) {
        item.state = "confirmed";
        item.serverState = data.state;
        item.statusText = data.message || "";
        if (data.state === "rejected") {
          // Refused as soon as it arrived (too big, or already checked): said now, and
          // kept beside the record on the page after the reload.
          announce(t(text.refused, {name: item.name, reason: item.statusText}));
        }
        break;
      }
      if ((status === 503 || status === 0) && attempt < CONFIRM_ATTEMPTS) {
        const seconds = Math.round(wait / 1000);
        item.statusText = t(text.confirmWait, {name: item.name, seconds});
        announce(item.statusText);
        render(item);
        await sleep(wait);
        wait = Math.min(wait * 2, 30000);
        continue;
      }
      item.state = "failed";
      item.statusText = "";
      item.itemError = data.message || text.errorServer;
      // The storage never answered: asking again later may work. A 4xx will not change.
      item.mayCheckAgain = status === 503 || status === 0;
      announce(t(text.failed, {name: item.name, reason: item.itemError}));
      break;
    }
    render(item);
    refreshControls();
    maybeFinish();
  }

  // Once nothing is moving: all confirmed -> say so and reload, so the list of
  // records shows the new ones; otherwise leave everything on screen.
  function maybeFinish() {
    if (finished || requesting || !items.length) {
      return;
    }
    const moving = items.some((item) =>
      item.state === "requesting" || item.state === "confirming" ||
      (item.state === "uploading" && item.files.some((entry) => entry.state === "uploading")));
    const confirmed = items.filter((item) => item.state === "confirmed");
    if (moving || !confirmed.length) {
      return;
    }
    if (confirmed.length === items.length) {
      finished = true;
      const refused = confirmed.filter((item) => item.serverState === "rejected").length;
      // Never "all done" after a refusal: the reloaded page then says what became of each.
      const message = refused ? plural(refused, text.someRefusedOne, text.someRefusedOther)
        : text.allDone;
      announce(message);
      el.outcomeText.textContent = message;
      el.recordsLink.parentElement.hidden = true;
      el.outcome.hidden = false;
      try {
        window.sessionStorage.setItem(BATCH_KEY, JSON.stringify(confirmed.map((item) => item.record)));
      } catch {
        // Storage refused (private browsing): each record still shows its state and reason.
      }
      window.removeEventListener("beforeunload", warnBeforeLeaving);
      reloadTimer = window.setTimeout(() => window.location.reload(), RELOAD_DELAY_MS);
      return;
    }
    if (items.some((item) => item.state === "queued")) {
      return; // details still to fix: the error summary says what
    }
    finished = true;
    el.outcomeText.textContent = text.someFailed;
    el.recordsLink.parentElement.hidden = false;
    el.recordsLink.href = window.location.pathname + window.location.search;
    el.outcome.hidden = false;
    announce(text.someFailed);
  }

  // --- Wiring -------------------------------------------------------------------

  function start() {
    el.uploadButton.id = el.uploadButton.id || "uploader-upload";
    if (!Number.isFinite(config.caseRemaining) || config.caseRemaining > 0) {
      el.limits.textContent = t(text.limits, {
        max: formatBytes(config.maxFileSize),
        remaining: formatBytes(Math.max(config.caseRemaining || 0, 0)),
      });
    } else {
      el.limits.textContent = text.noSpace;
      el.drop.hidden = true;
    }
    if (!("webkitdirectory" in el.pickFolder)) {
      el.folderPicker.hidden = true;
    }
    el.pickFiles.addEventListener("change", () => readInput(el.pickFiles));
    el.pickFolder.addEventListener("change", () => readInput(el.pickFolder));
    setUpDropZone(el.drop, readDrop);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (el.uploadButton.getAttribute("aria-disabled") !== "true") {
        uploadQueued();
      }
    });
    fallback.hidden = true;
    form.hidden = false;
    refreshControls();
  }


  start();
}

document.querySelectorAll("[data-uploader]").forEach((root) => {
  try {
    setUp(root);
  } catch (error) {
    const fallback = root.querySelector("[data-uploader-fallback]");
    const message = root.querySelector("[data-uploader-text]")?.dataset.errorStart;
    if (fallback && message) {
      fallback.hidden = false;
      fallback.textContent = message;
    }
    throw error;
  }
});
