// Scratchpad — small page behaviours. No dependencies, loaded with `defer`.
// The CSP forbids inline script, so every behaviour lives here and is wired
// by delegated listeners on `document` (so content swapped in later by htmx
// or SSE works without re-initialising anything).
(function () {
  "use strict";

  var TOAST_MS = 6000;

  // ---- Copy buttons -------------------------------------------------------
  // <button class="copy-btn" data-copy-target="#token">Copy</button>
  // copies the target's text and shows "Copied" for a moment.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      // The async API can be refused (permissions); fall back if it is.
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }

  // Fallback for plain-http dev setups: a temporary textarea + execCommand.
  function legacyCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "visually-hidden";
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    ta.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function onCopyClick(btn) {
    var target = document.querySelector(btn.getAttribute("data-copy-target"));
    if (!target) { return; }
    var text = ("value" in target && target.value !== undefined) ? target.value : target.textContent;
    if (!btn.dataset.label) { btn.dataset.label = btn.textContent; }
    copyText(text.trim()).then(function () {
      btn.textContent = "Copied";
      btn.classList.add("copied");
    }, function () {
      btn.textContent = "Press Ctrl+C";
      // Select the text so the user can copy it by hand.
      var range = document.createRange();
      range.selectNodeContents(target);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    });
    clearTimeout(btn._copyTimer);
    btn._copyTimer = setTimeout(function () {
      btn.textContent = btn.dataset.label;
      btn.classList.remove("copied");
    }, 2000);
  }

  // ---- Toasts ------------------------------------------------------------
  // Every .toast inside #toasts removes itself after TOAST_MS, including
  // toasts added later by htmx swaps or SSE (watched by a MutationObserver).
  function dismiss(el) {
    if (!el || el.classList.contains("leaving")) { return; }
    el.classList.add("leaving");
    var reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    // Remove after the fade-out animation (or at once with reduced motion).
    setTimeout(function () { el.remove(); }, reduce ? 0 : 200);
  }

  function armToast(el) {
    if (el._toastArmed) { return; }
    el._toastArmed = true;
    setTimeout(function () { dismiss(el); }, TOAST_MS);
  }

  function armToastsIn(node) {
    if (node.nodeType !== 1) { return; }
    if (node.matches(".toast")) { armToast(node); }
    node.querySelectorAll(".toast").forEach(armToast);
  }

  function watchToasts() {
    var area = document.getElementById("toasts");
    if (!area) { return; }
    armToastsIn(area);
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) { m.addedNodes.forEach(armToastsIn); });
    }).observe(area, { childList: true, subtree: true });
  }

  // Belt and braces: if #toasts itself is replaced by a swap, the observer
  // above watches a detached node, so re-scan after every htmx load.
  document.addEventListener("htmx:load", function () {
    document.querySelectorAll("#toasts .toast").forEach(armToast);
  });

  // ---- Delegated click handling -----------------------------------------
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) { return; }

    var copy = t.closest(".copy-btn[data-copy-target]");
    if (copy) {
      ev.preventDefault();
      onCopyClick(copy);
      return;
    }

    // <div class="flash"> ... <button data-dismiss aria-label="Dismiss">×</button>
    // Also works for toasts, so a user can close one early.
    var closer = t.closest("[data-dismiss]");
    if (closer) {
      var box = closer.closest(".flash, .toast");
      if (box) {
        ev.preventDefault();
        dismiss(box);
      }
    }
  });

  // ---- Confirmations for plain forms ------------------------------------
  // <form method="post" data-confirm="Delete this token?"> asks before
  // submitting. (htmx elements use hx-confirm instead.) Capture phase, so it
  // runs before any other submit handler.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    // A submit button may carry its own message: <button data-confirm="...">.
    var btn = ev.submitter;
    var msg = (btn && btn.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    }
  }, true);

  // ---- Live streams and the back/forward cache ----------------------------
  // Chromium keeps a page it may show again on Back in its back/forward
  // cache (no-store pages too), and with it the page's open event streams.
  // Over HTTP/1.1 a browser has six connections per host, so a few page
  // changes used to leave none for the next page, which then never loaded.
  // The streams close when the page is hidden (the SSE extension closes a
  // stream when its element is cleaned up); a page shown again from the
  // cache has missed its live updates, so it loads afresh.
  window.addEventListener("pagehide", function () {
    if (!window.htmx) { return; }
    document.querySelectorAll("[sse-connect]").forEach(function (el) {
      window.htmx.trigger(el, "htmx:beforeCleanupElement");
    });
  });
  window.addEventListener("pageshow", function (ev) {
    if (ev.persisted) { window.location.reload(); }
  });

  // ---- Streams that had to reconnect --------------------------------------
  // The server sends "resync" on every stream when live events may have been
  // lost, and the elements that show live data reload on hx-trigger
  // "sse:resync". A stream the browser had to reconnect (the server
  // restarted, or dropped it as too slow) missed what happened meanwhile
  // too, so every reopening after the first is the same news, given the
  // same way: a resync message on that stream's source.
  document.addEventListener("htmx:sseOpen", function (ev) {
    var elt = ev.target;
    var source = ev.detail && ev.detail.source;
    if (!(elt instanceof Element) || !source) { return; }
    if (!elt._sseOpened) {
      elt._sseOpened = true;
      return;
    }
    // When the extension replaced a closed source, it registers the page's
    // listeners on the new one only after this event: send afterwards.
    setTimeout(function () {
      source.dispatchEvent(new MessageEvent("resync", { data: "reconnected" }));
    }, 0);
  });

  // ---- Start -------------------------------------------------------------
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watchToasts);
  } else {
    watchToasts();
  }
})();
