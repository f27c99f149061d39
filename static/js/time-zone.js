// Tells SecondOp the browser's time zone once, while the account has none, so
// that dates and times are shown in the person's own zone from their first page.
// The server accepts only IANA names from its list (anything else is a 400).
(function () {
  "use strict";
  var body = document.body;
  var url = body && body.dataset.timeZoneUrl;
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!url || !zone || !window.fetch) {
    return;
  }
  var data = new FormData();
  data.append("time_zone", zone);
  window.fetch(url, {
    method: "POST",
    body: data,
    credentials: "same-origin",
    redirect: "manual",
    headers: { "X-CSRFToken": body.dataset.csrfToken },
  }).catch(function () {});
})();
