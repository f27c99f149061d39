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

const MiB = 1024 * 1024;
// Parts of a multipart upload: big enough for few signing round trips, small enough
// that a part retried on a bad connection costs little. S3 allows 10,000 parts.
const PART_SIZE = 10 * MiB;
const SIMULTANEOUS_FILES = 4;
const ANNOUNCE_STEPS = [25, 50, 75, 100];
const CONFIRM_ATTEMPTS = 8;
const RELOAD_DELAY_MS = 1500;
// The records just uploaded, for records-status.js to say what became of each after
// the reload.
const BATCH_KEY = "secondop.records.batch";
// Files an operating system leaves in folders; nobody means to send them.
const SYSTEM_FILES = /^(\..*|thumbs\.db|desktop\.ini)$/i;
// Controls and format characters (bidirectional overrides such as U+202E, which make
// "report\u202Efdp.exe" read as "reportexe.pdf", zero-width spaces): never shown. The
// server cleans names the same way (secondop/filenames.py) and keeps the original in
// its audit log only.
const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}]/gu;

function visibleName(name) {
  return String(name || "").normalize("NFC").replace(HIDDEN_CHARACTERS, "").trim();
}

class UploadMessageError extends Error {
  // An error whose message is meant for the patient (the server's, or ours).
  constructor(message) {
    super(message);
    this.forPatient = true;
  }
}

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
  const plurals = new Intl.PluralRules(lang);
  const percentFormat = new Intl.NumberFormat(lang, {style: "percent", maximumFractionDigits: 0});
  // The site writes dates as "30 September 2026" (Django's "j F Y"), also in English.
  const dateLocale = !lang || lang.startsWith("en") ? "en-GB" : lang;
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

  // Loaded now, awaited on the first upload: the page is usable meanwhile.
  const uppyReady = import(config.uppyUrl).then(createUppy);
  uppyReady.catch(() => {});

  const items = [];
  const filesByKey = new Map();
  const filesByUppyId = new Map();
  const seen = new Set();
  let itemCount = 0;
  let fileCount = 0;
  let requesting = false;
  let finished = false;
  let reloadTimer = 0;

  // --- Words and numbers ----------------------------------------------------

  function t(template, values) {
    return (template || "").replace(/%\{(\w+)\}/g, (match, name) =>
      values && name in values ? String(values[name]) : match);
  }

  function plural(count, one, other) {
    return t(plurals.select(count) === "one" ? one : other, {count: count.toLocaleString(lang)});
  }

  const byteFormats = new Map();

  function byteFormat(unit, digits) {
    const key = `${unit}/${digits}`;
    if (!byteFormats.has(key)) {
      byteFormats.set(key, new Intl.NumberFormat(lang, unit === "byte"
        ? {style: "unit", unit, unitDisplay: "long"}
        : {style: "unit", unit, maximumFractionDigits: digits}));
    }
    return byteFormats.get(key);
  }

  // Decimal units, as the limits are set (5 GB is 5 * 1000^3 bytes).
  function formatBytes(bytes) {
    const units = [["gigabyte", 1e9], ["megabyte", 1e6], ["kilobyte", 1e3]];
    for (const [unit, size] of units) {
      if (bytes >= size) {
        const value = bytes / size;
        return byteFormat(unit, value < 10 ? 2 : value < 100 ? 1 : 0).format(value);
      }
    }
    return byteFormat("byte", 0).format(bytes);
  }

  function formatPercent(done, total) {
    // Floor, so 100 % is never shown before the last byte is in.
    const share = total > 0 ? Math.floor((done / total) * 100) : 100;
    return percentFormat.format(share / 100);
  }

  function today() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }

  // --- Announcements --------------------------------------------------------

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

  // --- Server calls -----------------------------------------------------------

  async function postJSON(url, body) {
    const headers = {"Accept": "application/json", "X-CSRFToken": csrfToken};
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      return {status: 0, data: {message: text.errorNetwork}};
    }
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("application/json")) {
      // A signed-out session is redirected to the sign-in page (HTML).
      const message = response.status >= 500 ? text.errorServer : text.errorSession;
      return {status: response.status, data: {message}};
    }
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (!data.message && !response.ok) {
      data.message = response.status >= 500 ? text.errorServer : text.errorSession;
    }
    return {status: response.status, data};
  }

  function sleep(ms) {
    return new Promise((resolve) => window.setTimeout(resolve, ms));
  }

  // Uppy asks for one signature per S3 step (a PUT, or create / each part /
  // complete / abort / list of a multipart upload). The server signs only this
  // file's key. A dropped connection or a 5xx is tried again a few times.
  async function signRequest(request) {
    const entry = filesByKey.get(request.key);
    if (!entry) {
      throw new UploadMessageError(text.errorServer);
    }
    const body = {method: request.method, key: request.key};
    if (request.uploadId) {
      body.uploadId = request.uploadId;
    }
    if (request.partNumber) {
      body.partNumber = request.partNumber;
    }
    let result;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      if (attempt) {
        await sleep(500 * 2 ** attempt);
      }
      result = await postJSON(entry.signUrl, body);
      if (result.status === 200 && result.data.url) {
        // Local mode answers with a path on this site; Uppy wants a full URL.
        return {url: new URL(result.data.url, window.location.href).href};
      }
      if (result.status !== 0 && result.status !== 429 && result.status < 500) {
        break;
      }
    }
    throw new UploadMessageError(result.data.message || text.errorServer);
  }

  function describeError(error) {
    if (error && error.forPatient) {
      return error.message;
    }
    if (error && (error.code === "NETWORK" || error.isNetworkError)) {
      return text.errorNetwork;
    }
    if (error && typeof error.status === "number") {
      // Local mode's upload endpoint explains itself in JSON; S3 answers in XML.
      try {
        const body = JSON.parse(error.body || "");
        if (body && typeof body.message === "string" && body.message) {
          return body.message;
        }
      } catch {
        // Not JSON: S3's own words are not for patients.
      }
      return text.errorStorage;
    }
    return text.errorNetwork;
  }

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

  function signature(file, relativePath) {
    return [relativePath || file.name, file.size, file.lastModified].join("|");
  }

  // Single files become one item each; the files of one folder (the first part of
  // their relative path) one item together, an imaging study for example.
  function addFiles(picked, emptyFolders = []) {
    const folders = new Map();
    const singles = [];
    for (const {file, relativePath} of picked) {
      const path = (relativePath || "").replace(/^\/+/, "");
      const parts = path.split("/");
      if (parts.length > 1) {
        if (SYSTEM_FILES.test(file.name)) {
          continue;
        }
        const folder = parts[0];
        if (!folders.has(folder)) {
          folders.set(folder, []);
        }
        folders.get(folder).push({file, relativePath: path});
      } else {
        singles.push({file, relativePath: ""});
      }
    }
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
    const picked = Array.from(input.files || [], (file) => ({
      file,
      relativePath: file.webkitRelativePath || "",
    }));
    // Cleared so that choosing the same file again fires "change" again.
    input.value = "";
    addFiles(picked);
  }

  // Dropped folders are walked with the File and Directory Entries API; each
  // file keeps its path inside the folder.
  function readDirectory(directory) {
    const reader = directory.createReader();
    const entries = [];
    return new Promise((resolve, reject) => {
      const readBatch = () => reader.readEntries((batch) => {
        if (!batch.length) {
          resolve(entries);
          return;
        }
        entries.push(...batch);
        readBatch();
      }, reject);
      readBatch();
    });
  }

  async function walk(entry, picked) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      picked.push({file, relativePath: entry.fullPath.replace(/^\/+/, "")});
    } else if (entry.isDirectory) {
      for (const child of await readDirectory(entry)) {
        await walk(child, picked);
      }
    }
  }

  async function readDrop(dataTransfer) {
    // Entries must be taken during the drop event; the list is empty after it.
    const entries = Array.from(dataTransfer.items || [])
      .filter((item) => item.kind === "file")
      .map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
    if (!entries.length || entries.some((entry) => !entry)) {
      addFiles(Array.from(dataTransfer.files || [], (file) => ({file, relativePath: ""})));
      return;
    }
    const picked = [];
    const emptyFolders = [];
    for (const entry of entries) {
      const before = picked.length;
      try {
        await walk(entry, picked);
      } catch {
        announce(t(text.errorRead, {name: entry.name}));
      }
      if (entry.isDirectory && picked.length === before) {
        emptyFolders.push(entry.name);
      }
    }
    addFiles(picked, emptyFolders);
  }

  // --- Items: markup ----------------------------------------------------------

  function stem(name) {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(0, dot) : name;
  }

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

    item.removeButton.addEventListener("click", () => removeItem(item));
    item.cancelButton.addEventListener("click", () => cancelItem(item));
    item.checkButton.addEventListener("click", () => {
      item.itemError = "";
      confirmItem(item);
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
    entry.retryButton.addEventListener("click", () => retryFile(entry));
    entry.cancelButton.addEventListener("click", () => cancelFile(entry));
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

  // --- Items: state on screen -------------------------------------------------

  const dirty = new Set();
  let frame = 0;

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

  const TAGS = {
    requesting: ["tag-grey", "statusWaiting"],
    uploading: ["tag-blue", "statusUploading"],
    confirming: ["tag-yellow", "statusChecking"],
    confirmed: ["tag-green", "statusUploaded"],
    failed: ["tag-red", "statusFailed"],
    refused: ["tag-red", "statusRefused"],
    cancelled: ["tag-grey", "statusCancelled"],
  };

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

  // --- Errors -------------------------------------------------------------------

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

  function hasFiles(event) {
    return Array.from(event.dataTransfer?.types || []).includes("Files");
  }

  function setUpDropZone() {
    let depth = 0;
    el.drop.addEventListener("dragenter", (event) => {
      if (hasFiles(event)) {
        depth += 1;
        el.drop.classList.add("uploader-drop-active");
      }
    });
    el.drop.addEventListener("dragleave", () => {
      depth = Math.max(depth - 1, 0);
      if (!depth) {
        el.drop.classList.remove("uploader-drop-active");
      }
    });
    el.drop.addEventListener("dragover", (event) => {
      if (hasFiles(event)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
      }
    });
    el.drop.addEventListener("drop", (event) => {
      event.preventDefault();
      depth = 0;
      el.drop.classList.remove("uploader-drop-active");
      readDrop(event.dataTransfer);
    });
    // A file dropped beside the zone would make the browser open it and leave
    // the page (and any upload running): refuse drops outside the zone.
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (event) => {
        if (hasFiles(event) && !el.drop.contains(event.target)) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "none";
        }
      });
    }
  }

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
    setUpDropZone();
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
