// Scratchpad — upload progress. Forms marked data-upload-form are posted by
// htmx (hx-encoding="multipart/form-data"); while the file goes up, htmx
// fires htmx:xhr:progress on the form, and this fills the form's <progress>
// and status line. No inline script: the CSP forbids it.
(function () {
  "use strict";

  function formOf(evt) {
    var el = evt.target;
    return el && el.closest ? el.closest("form[data-upload-form]") : null;
  }

  function humanSize(n) {
    var units = ["bytes", "KiB", "MiB", "GiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  function parts(form) {
    return {
      bar: form.querySelector("progress"),
      status: form.querySelector("[data-testid=upload-status]"),
      submit: form.querySelector("[type=submit]")
    };
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = formOf(evt);
    if (!form) { return; }
    var p = parts(form);
    if (p.bar) { p.bar.hidden = false; p.bar.value = 0; p.bar.max = 100; }
    if (p.status) { p.status.textContent = "Uploading…"; }
    if (p.submit) { p.submit.disabled = true; }
  });

  document.addEventListener("htmx:xhr:progress", function (evt) {
    var form = formOf(evt);
    if (!form || !evt.detail || !evt.detail.lengthComputable) { return; }
    var p = parts(form);
    var pct = Math.floor(evt.detail.loaded * 100 / evt.detail.total);
    if (p.bar) { p.bar.value = pct; }
    if (p.status) {
      p.status.textContent = pct >= 100
        ? "Uploaded; reading the file…"
        : "Uploading: " + humanSize(evt.detail.loaded) + " of " + humanSize(evt.detail.total) + " (" + pct + "%)";
    }
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = formOf(evt);
    if (!form) { return; }
    var p = parts(form);
    if (p.submit) { p.submit.disabled = false; }
    if (!evt.detail.successful) {
      if (p.bar) { p.bar.hidden = true; }
      if (p.status) { p.status.textContent = ""; }
    }
  });
})();
