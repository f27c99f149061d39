// The image viewer (templates/imaging/viewer.html): one series' frames, scrolled in place.
//
// - The slider, the keyboard on the image (arrows, Page Up/Down by 10, Home/End), the
//   mouse wheel (one image a notch; a touchpad's small steps add up) and a finger's
//   sideways swipe on the image (one image every 16 px) move through the frames.
// - Each frame comes from imaging:frame (WebP, checked on the server every time: the
//   whole check, or the frame token the page was given for this series): the
//   512 px set on a screen up to 40em wide, the 1024 px set above, whichever of the two
//   is ready if only one is. The frames either side are fetched ahead (more in the
//   direction of travel) into memory (blob: URLs; the server says no-store, so none
//   stays in the browser's cache), so scrolling does not wait on the network. The
//   image's data-frame names the frame shown.
// - The position ("Image 12 of 200") shows at once and is said to screen readers in a
//   polite live region a moment after scrolling stops, not at every frame.
// - A window preset already made is switched to at once; one not made yet is asked for
//   (POST imaging:preset, JSON), shown as "preparing" and switched to once the image
//   being looked at is ready in it. While anything is being prepared the viewer asks imaging:state
//   (every 2 s, then less often, never while the tab is hidden) and lets the slider
//   reach the frames as they come.
//
// Progressive enhancement: as sent, the page works without this script (links and a
// form with ?i=, presets as buttons that post). Strict CSP: no inline script or style,
// no innerHTML; every string comes from the template's data-viewer-text.

const SMALL = 512;
const LARGE = 1024;
const NARROW = window.matchMedia("(max-width: 40em)");
const AHEAD = 8; // frames fetched in the direction of travel
const BEHIND = 3;
const KEPT = 160; // frames kept in memory around the current one
const WHEEL_STEP = 100; // a mouse wheel's notch in Chromium and Firefox (3 lines x 33)
const WHEEL_SMALL = 40; // less than this is a touchpad's step
const SWIPE_STEP = 16; // px of finger travel per image
const SAY_AFTER_MS = 600;
const FIRST_POLL_MS = 2000;
const LONGEST_POLL_MS = 15000;

function setUp(root) {
  const text = root.querySelector("[data-viewer-text]").dataset;
  const stage = root.querySelector("[data-viewer-stage]");
  const image = root.querySelector("[data-viewer-image]");
  const empty = root.querySelector("[data-viewer-empty]");
  const slider = root.querySelector("[data-viewer-slider]");
  const position = root.querySelector("[data-viewer-position]");
  const previous = root.querySelector("[data-viewer-previous]");
  const next = root.querySelector("[data-viewer-next]");
  const controls = root.querySelector("[data-viewer-controls]");
  const live = root.querySelector("[data-viewer-live]");
  const preparing = root.querySelector("[data-viewer-preparing]");
  const preparingText = root.querySelector("[data-viewer-preparing-text]");
  const presetForm = root.querySelector("[data-viewer-presets]");
  const presetIndex = root.querySelector("[data-viewer-preset-index]");
  const presetButtons = [...root.querySelectorAll("[data-viewer-preset]")];
  const lang = document.documentElement.lang || undefined;
  const base = root.dataset.framesBase;
  // The page's frame token (records.imaging.viewer_selectors): frames asked for with it
  // skip the case's whole check for a minute; a frame that ran the check sends a new one.
  let token = root.dataset.frameToken || "";
  const total = Number(root.dataset.total) || 0;

  let state = JSON.parse(document.getElementById("viewer-state").textContent);
  let preset = root.dataset.preset;
  let index = Number(root.dataset.index) || 0;
  let direction = 1;
  let wanted = ""; // a preset asked for, shown once ready
  let plainSubmit = false;
  const kept = new Map(); // frame URL -> blob: URL, oldest first
  const fetching = new Map(); // frame URL -> its fetch
  let wantedUrl = "";
  let sayTimer = 0;
  let pollTimer = 0;
  let pollWait = FIRST_POLL_MS;

  function t(template, values) {
    return (template || "").replace(/%\{(\w+)\}/g, (match, name) =>
      values && name in values ? String(values[name]) : match);
  }

  function number(n) {
    return Number(n).toLocaleString(lang);
  }

  function readyOf(name, size) {
    const one = state.presets[name];
    if (!one) return 0;
    if (size) return Number(one.ready[String(size)] || 0);
    return Math.max(Number(one.ready[String(SMALL)] || 0), Number(one.ready[String(LARGE)] || 0));
  }

  function labelOf(name) {
    const button = presetButtons.find((b) => b.dataset.viewerPreset === name);
    return button ? button.firstChild.textContent.trim() : name;
  }

  // The set for this screen if it has the frame, else the other one.
  function sizeFor(name, at) {
    const first = NARROW.matches ? SMALL : LARGE;
    const second = first === SMALL ? LARGE : SMALL;
    if (readyOf(name, first) > at) return first;
    if (readyOf(name, second) > at) return second;
    return 0;
  }

  function urlOf(name, at) {
    const size = sizeFor(name, at);
    return size ? `${base}${name}/${size}/${at}/` : "";
  }

  // A frame fetched into memory (a blob: URL). Frames are PHI: the server sends them
  // with no-store like every signed-in response, so nothing is kept in the browser's
  // disk cache after signing out; the page keeps the ones around the current image.
  function fetchFrame(url) {
    if (!url) return Promise.resolve("");
    if (kept.has(url)) return Promise.resolve(kept.get(url));
    if (fetching.has(url)) return fetching.get(url);
    const asked = token ? `${url}?t=${encodeURIComponent(token)}` : url;
    const promise = fetch(asked, {credentials: "same-origin"})
      .then((response) => {
        const fresh = response.headers.get("X-Frame-Token");
        if (fresh) token = fresh;
        return response.ok ? response.blob() : Promise.reject(response.status);
      })
      .then((blob) => {
        const objectUrl = URL.createObjectURL(blob);
        kept.set(url, objectUrl);
        while (kept.size > KEPT) {
          const [oldest, oldUrl] = kept.entries().next().value;
          kept.delete(oldest);
          URL.revokeObjectURL(oldUrl);
        }
        return objectUrl;
      })
      .catch(() => "")
      .finally(() => fetching.delete(url));
    fetching.set(url, promise);
    return promise;
  }

  function keep(url) {
    if (url && !kept.has(url)) fetchFrame(url);
  }

  // Put frame `url` on the screen: at once if it is in memory, else once it arrives
  // (the frame before stays meanwhile), unless the viewer moved on since.
  function display(url) {
    if (!url || image.dataset.frame === url) return;
    wantedUrl = url;
    fetchFrame(url).then((objectUrl) => {
      if (wantedUrl !== url) return;
      image.src = objectUrl || url; // fetching failed: let the browser try and show why
      image.dataset.frame = url;
    });
  }

  function fetchAround(at) {
    const last = readyOf(preset) - 1;
    const ahead = direction >= 0 ? AHEAD : BEHIND;
    const behind = direction >= 0 ? BEHIND : AHEAD;
    for (let step = 1; step <= Math.max(ahead, behind); step += 1) {
      if (step <= ahead && at + step <= last) keep(urlOf(preset, at + step));
      if (step <= behind && at - step >= 0) keep(urlOf(preset, at - step));
    }
  }

  function say(message) {
    window.clearTimeout(sayTimer);
    sayTimer = window.setTimeout(() => {
      live.textContent = message;
    }, SAY_AFTER_MS);
  }

  function stepUrl(at) {
    const query = new URLSearchParams({i: String(at)});
    if (preset !== "stored") query.set("preset", preset);
    return `${window.location.pathname}?${query}`;
  }

  function setStep(link, at, usable) {
    if (usable) {
      link.href = stepUrl(at);
      link.removeAttribute("aria-disabled");
    } else {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
    }
  }

  function show(at, {announce = true} = {}) {
    const ready = readyOf(preset);
    if (!ready) return;
    const target = Math.min(Math.max(at, 0), ready - 1);
    if (target !== index) direction = target > index ? 1 : -1;
    index = target;
    const url = urlOf(preset, index);
    if (url && image.dataset.frame !== url) {
      image.removeAttribute("srcset");
      image.removeAttribute("sizes");
      display(url);
    }
    image.hidden = false;
    if (empty) empty.hidden = true;
    const words = t(text.position, {n: number(index + 1), total: number(total)});
    image.alt = words;
    position.textContent = words;
    slider.disabled = false;
    slider.max = String(ready - 1);
    slider.value = String(index);
    slider.setAttribute("aria-valuetext", words);
    setStep(previous, index - 1, index > 0);
    setStep(next, index + 1, index + 1 < ready);
    if (presetIndex) presetIndex.value = String(index);
    window.history.replaceState(null, "", stepUrl(index));
    fetchAround(index);
    if (announce) say(words);
  }

  function move(by) {
    show(index + by);
  }

  // --- Presets -------------------------------------------------------------------------

  function markPresets() {
    for (const button of presetButtons) {
      const name = button.dataset.viewerPreset;
      const one = state.presets[name] || {};
      button.setAttribute("aria-pressed", String(name === preset));
      const note = button.querySelector("[data-viewer-preset-note]");
      if (note) {
        note.textContent = one.asked && !one.failed && !readyOf(name) ? ` · ${text.preparingLabel}` : "";
      }
    }
  }

  function switchTo(name) {
    preset = name;
    wanted = "";
    markPresets();
    show(index, {announce: false});
    say(t(text.presetShown, {name: labelOf(name)}));
  }

  async function ask(name) {
    const body = new FormData(presetForm);
    body.set("preset", name);
    body.set("i", String(index));
    try {
      const response = await fetch(root.dataset.presetUrl, {
        method: "POST",
        body,
        headers: {Accept: "application/json"},
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      state = await response.json();
    } catch {
      // Asking failed here: post the form as it works without the script.
      plainSubmit = true;
      presetForm.requestSubmit(presetButtons.find((b) => b.dataset.viewerPreset === name));
      return;
    }
    update();
  }

  function choose(name) {
    if (name === preset && !wanted) return;
    if (readyOf(name)) {
      switchTo(name);
      return;
    }
    wanted = name;
    ask(name);
  }

  // --- What is being prepared ---------------------------------------------------------

  function stillPreparing() {
    return Object.values(state.presets).some((one) =>
      (one.asked || one === state.presets[preset]) && !one.failed &&
      Math.max(...Object.values(one.ready).map(Number)) < Number(one.total));
  }

  function update() {
    markPresets();
    if (wanted) {
      const one = state.presets[wanted];
      if (one && one.failed) {
        say(t(text.presetFailed, {name: labelOf(wanted)}));
        wanted = "";
      } else if (readyOf(wanted) > index || readyOf(wanted) >= Number(one.total)) {
        switchTo(wanted); // as soon as the image being looked at is ready in it
      }
    }
    // The slider reaches what is ready now; the first frames show as soon as they exist.
    if (readyOf(preset)) show(index, {announce: false});
    const current = state.presets[preset];
    let message = "";
    if (wanted) {
      message = t(text.presetPreparing, {
        name: labelOf(wanted), ready: number(readyOf(wanted)), total: number(state.presets[wanted].total),
      });
    } else if (current && readyOf(preset) < Number(current.total) && !current.failed) {
      message = t(text.preparing, {ready: number(readyOf(preset)), total: number(current.total)});
    }
    preparing.hidden = !message;
    preparingText.textContent = message;
    window.clearTimeout(pollTimer);
    if (stillPreparing() || wanted) {
      pollTimer = window.setTimeout(poll, pollWait);
      pollWait = Math.min(pollWait * 1.5, LONGEST_POLL_MS);
    }
  }

  async function poll() {
    if (document.hidden) {
      document.addEventListener("visibilitychange", poll, {once: true});
      return;
    }
    try {
      const response = await fetch(root.dataset.stateUrl, {headers: {Accept: "application/json"}});
      if (response.ok) state = await response.json();
    } catch {
      // The network blinked: ask again at the next turn.
    }
    update();
  }

  // --- Input ----------------------------------------------------------------------------

  const KEYS = {ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10};

  stage.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key in KEYS) move(KEYS[event.key]);
    else if (event.key === "Home") show(0);
    else if (event.key === "End") show(readyOf(preset) - 1);
    else return;
    event.preventDefault();
  });

  slider.addEventListener("input", () => show(Number(slider.value)));

  let wheel = 0;
  stage.addEventListener("wheel", (event) => {
    if (event.ctrlKey) return; // a pinch or the browser's zoom
    event.preventDefault();
    const scale = event.deltaMode === 1 ? 33 : event.deltaMode === 2 ? 400 : 1;
    const delta = event.deltaY * scale;
    if (Math.abs(delta) >= WHEEL_SMALL) {
      // A wheel's notch: one image (a fast spin sends bigger steps: more).
      wheel = 0;
      move(Math.sign(delta) * Math.max(1, Math.round(Math.abs(delta) / WHEEL_STEP)));
      return;
    }
    wheel += delta; // a touchpad's small steps add up
    if (Math.abs(wheel) >= WHEEL_SMALL) {
      move(Math.sign(wheel));
      wheel = 0;
    }
  }, {passive: false});

  let touch = null;
  stage.addEventListener("touchstart", (event) => {
    if (event.touches.length !== 1) {
      touch = null;
      return;
    }
    const point = event.touches[0];
    touch = {x: point.clientX, y: point.clientY, from: index, sideways: null};
  }, {passive: true});

  stage.addEventListener("touchmove", (event) => {
    if (!touch || event.touches.length !== 1) return;
    const point = event.touches[0];
    const dx = point.clientX - touch.x;
    const dy = point.clientY - touch.y;
    if (touch.sideways === null && Math.hypot(dx, dy) > 8) touch.sideways = Math.abs(dx) > Math.abs(dy);
    if (!touch.sideways) return; // up and down scroll the page
    event.preventDefault();
    show(touch.from - Math.trunc(dx / SWIPE_STEP)); // finger to the left: the next images
  }, {passive: false});

  stage.addEventListener("touchend", () => {
    touch = null;
  });

  for (const [link, by] of [[previous, -1], [next, 1]]) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      if (link.hasAttribute("href")) move(by);
    });
  }

  controls.addEventListener("submit", (event) => {
    event.preventDefault();
    show(Number(slider.value));
  });
  controls.querySelector("[data-viewer-go]").hidden = true;

  if (presetForm) {
    presetForm.addEventListener("submit", (event) => {
      const name = event.submitter?.dataset.viewerPreset;
      if (!name || plainSubmit) return;
      event.preventDefault();
      choose(name);
    });
  }

  NARROW.addEventListener("change", () => show(index, {announce: false}));
  root.classList.add("viewer-enhanced");
  if (readyOf(preset)) show(index, {announce: false});
  update();
}

const root = document.querySelector("[data-image-viewer]");
if (root) setUp(root);
