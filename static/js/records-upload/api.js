// The records uploader's calls to our server (static/js/records-upload.js has the
// contract): JSON POSTs with the CSRF token, the signature of every storage request
// Uppy makes, and what a failed request says to the patient.

export class UploadMessageError extends Error {
  // An error whose message is meant for the patient (the server's, or ours).
  constructor(message) {
    super(message);
    this.forPatient = true;
  }
}

export function sleep(ms) {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

// `filesByKey`: the files the server gave slots, by their object key.
export function createApi({csrfToken, text, filesByKey}) {
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

  return {postJSON, signRequest, describeError};
}
