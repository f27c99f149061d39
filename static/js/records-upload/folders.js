// What the patient picked or dropped, for the records uploader
// (static/js/records-upload.js): the pickers' files, folders walked from a drop, the
// drop zone itself, and files grouped into records by their folder.

// Files an operating system leaves in folders; nobody means to send them.
const SYSTEM_FILES = /^(\..*|thumbs\.db|desktop\.ini)$/i;

export function signature(file, relativePath) {
  return [relativePath || file.name, file.size, file.lastModified].join("|");
}

// Single files become one item each; the files of one folder (the first part of
// their relative path) one item together, an imaging study for example.
export function groupByFolder(picked) {
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
  return {folders, singles};
}

export function pickedFromInput(input) {
  const picked = Array.from(input.files || [], (file) => ({
    file,
    relativePath: file.webkitRelativePath || "",
  }));
  // Cleared so that choosing the same file again fires "change" again.
  input.value = "";
  return picked;
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

// What was dropped: {picked, emptyFolders}, each picked file with its path inside
// its folder. `unreadable(name)` hears of a dropped entry that could not be read.
export async function readDropped(dataTransfer, unreadable) {
  // Entries must be taken during the drop event; the list is empty after it.
  const entries = Array.from(dataTransfer.items || [])
    .filter((item) => item.kind === "file")
    .map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  if (!entries.length || entries.some((entry) => !entry)) {
    const files = Array.from(dataTransfer.files || [], (file) => ({file, relativePath: ""}));
    return {picked: files, emptyFolders: []};
  }
  const picked = [];
  const emptyFolders = [];
  for (const entry of entries) {
    const before = picked.length;
    try {
      await walk(entry, picked);
    } catch {
      unreadable(entry.name);
    }
    if (entry.isDirectory && picked.length === before) {
      emptyFolders.push(entry.name);
    }
  }
  return {picked, emptyFolders};
}

function hasFiles(event) {
  return Array.from(event.dataTransfer?.types || []).includes("Files");
}

// `onDrop(dataTransfer)` for files dropped on the zone.
export function setUpDropZone(drop, onDrop) {
  let depth = 0;
  drop.addEventListener("dragenter", (event) => {
    if (hasFiles(event)) {
      depth += 1;
      drop.classList.add("uploader-drop-active");
    }
  });
  drop.addEventListener("dragleave", () => {
    depth = Math.max(depth - 1, 0);
    if (!depth) {
      drop.classList.remove("uploader-drop-active");
    }
  });
  drop.addEventListener("dragover", (event) => {
    if (hasFiles(event)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  });
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    drop.classList.remove("uploader-drop-active");
    onDrop(event.dataTransfer);
  });
  // A file dropped beside the zone would make the browser open it and leave
  // the page (and any upload running): refuse drops outside the zone.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => {
      if (hasFiles(event) && !drop.contains(event.target)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "none";
      }
    });
  }
}
