// Words and numbers for the records uploader (static/js/records-upload.js): the
// template's strings filled in, plurals, sizes, percentages and dates in the page's
// language, and file names as a patient may see them.

// Controls and format characters (bidirectional overrides such as U+202E, which make
// "report\u202Efdp.exe" read as "reportexe.pdf", zero-width spaces): never shown. The
// server cleans names the same way (secondop/filenames.py) and keeps the original in
// its audit log only.
const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}]/gu;

export function visibleName(name) {
  return String(name || "").normalize("NFC").replace(HIDDEN_CHARACTERS, "").trim();
}

export function t(template, values) {
  return (template || "").replace(/%\{(\w+)\}/g, (match, name) =>
    values && name in values ? String(values[name]) : match);
}

export function stem(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

export function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

// The formats of the page's language (<html lang>).
export function createWords(lang) {
  const plurals = new Intl.PluralRules(lang);
  const percentFormat = new Intl.NumberFormat(lang, {style: "percent", maximumFractionDigits: 0});
  // The site writes dates as "30 September 2026" (Django's "j F Y"), also in English.
  const dateLocale = !lang || lang.startsWith("en") ? "en-GB" : lang;

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

  return {plural, formatBytes, formatPercent, percentFormat, dateLocale};
}
