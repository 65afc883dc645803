// Scratchpad — the grid's layout: column resize and reorder, row height (all
// kept per table on the server, POST …/layout), and the filter input's
// column-name autocomplete. Loaded by the grid page only, after grid.js.
(function () {
  "use strict";

  var page = document.querySelector(".grid-page");
  var table = document.querySelector("table.grid");
  if (!window.htmx || !page || !table) { return; }
  var htmx = window.htmx;
  var layoutURL = "/workbooks/" + encodeURIComponent(page.dataset.workbookId) +
    "/tables/" + encodeURIComponent(page.dataset.tableId) + "/layout";

  var MIN_WIDTH = 48;
  var MAX_WIDTH = 1200;

  // save sends a layout change; the CSRF header comes from the body's
  // hx-headers. It resolves once the server has kept it.
  function save(values) {
    return htmx.ajax("POST", layoutURL, { source: document.body, values: values, swap: "none" });
  }

  function headers() {
    return Array.prototype.slice.call(table.querySelectorAll("thead th[data-column-id]"));
  }

  // ---- Widths ---------------------------------------------------------------
  // A width is a rule of a stylesheet of our own (style attributes are
  // refused by the CSP), so it applies to rows loaded later as well. The
  // server's layout.css carries the widths kept before this page loaded.
  var sheet = null;
  var rules = {};

  function setWidth(colID, px) {
    // A frozen header's own width would win over the rule.
    var th = table.querySelector('thead th[data-column-id="' + CSS.escape(colID) + '"]');
    if (th && table.classList.contains("frozen")) {
      th.style.width = px + "px";
      fitFrozen();
    }
    if (!sheet) {
      sheet = new CSSStyleSheet();
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    }
    var sel = 'table.grid [data-column-id="' + CSS.escape(colID) + '"]';
    var text = sel + "{width:" + px + "px;min-width:" + px + "px;max-width:" + px + "px}";
    if (rules[colID] !== undefined) { sheet.deleteRule(rules[colID]); } else { rules[colID] = sheet.cssRules.length; }
    sheet.insertRule(text, rules[colID]);
  }

  function clamp(px) { return Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, Math.round(px))); }

  function saveWidth(th, px) {
    var v = {};
    v["width_" + th.dataset.columnId] = String(px);
    save(v);
    handleOf(th).setAttribute("aria-valuenow", String(px));
  }

  function handleOf(th) { return th.querySelector(".col-resize"); }

  var saveTimers = {};
  function saveWidthSoon(th, px) {
    clearTimeout(saveTimers[th.dataset.columnId]);
    saveTimers[th.dataset.columnId] = setTimeout(function () { saveWidth(th, px); }, 400);
  }

  headers().forEach(function (th) {
    var h = document.createElement("span");
    h.className = "col-resize";
    h.tabIndex = 0;
    h.setAttribute("role", "separator");
    h.setAttribute("aria-orientation", "vertical");
    h.setAttribute("aria-valuemin", String(MIN_WIDTH));
    h.setAttribute("aria-valuemax", String(MAX_WIDTH));
    h.setAttribute("aria-valuenow", String(Math.round(th.getBoundingClientRect().width)));
    h.setAttribute("aria-label", "Resize column " + (th.dataset.column || "") + " (arrow keys; Delete for the default width)");
    h.setAttribute("data-testid", "column-resize");
    th.appendChild(h);
  });

  var resizing = null;
  table.addEventListener("pointerdown", function (ev) {
    var h = ev.target instanceof Element && ev.target.closest(".col-resize");
    if (!h || ev.button !== 0) { return; }
    ev.preventDefault();
    var th = h.closest("th");
    resizing = { th: th, h: h, x: ev.clientX, w: th.getBoundingClientRect().width, px: 0 };
    h.classList.add("active");
    table.classList.add("resizing");
    h.setPointerCapture(ev.pointerId);
  });
  table.addEventListener("pointermove", function (ev) {
    if (!resizing) { return; }
    resizing.px = clamp(resizing.w + ev.clientX - resizing.x);
    setWidth(resizing.th.dataset.columnId, resizing.px);
  });
  function endResize() {
    if (!resizing) { return; }
    var r = resizing;
    resizing = null;
    r.h.classList.remove("active");
    table.classList.remove("resizing");
    if (r.px) { saveWidth(r.th, r.px); }
  }
  table.addEventListener("pointerup", endResize);
  table.addEventListener("pointercancel", endResize);
  // A click that ends a resize does not sort by the column.
  table.addEventListener("click", function (ev) {
    if (ev.target instanceof Element && ev.target.closest(".col-resize")) { ev.preventDefault(); }
  });

  // The keyboard: arrows narrow and widen by 16 px (Shift: 64), Delete or
  // Backspace goes back to the default width.
  table.addEventListener("keydown", function (ev) {
    var h = ev.target instanceof Element && ev.target.closest(".col-resize");
    if (!h) { return; }
    var th = h.closest("th");
    var step = ev.shiftKey ? 64 : 16;
    var px;
    switch (ev.key) {
      case "ArrowLeft": px = clamp(th.getBoundingClientRect().width - step); break;
      case "ArrowRight": px = clamp(th.getBoundingClientRect().width + step); break;
      case "Delete":
      case "Backspace":
        ev.preventDefault();
        resetWidth(th);
        return;
      default: return;
    }
    ev.preventDefault();
    ev.stopPropagation();
    setWidth(th.dataset.columnId, px);
    h.setAttribute("aria-valuenow", String(px));
    saveWidthSoon(th, px);
  });

  function resetWidth(th) {
    var v = {};
    v["width_" + th.dataset.columnId] = "0";
    save(v).then(function () { window.location.reload(); });
  }
  table.addEventListener("dblclick", function (ev) {
    var h = ev.target instanceof Element && ev.target.closest(".col-resize");
    if (h) { resetWidth(h.closest("th")); }
  });

  // ---- Frozen widths ---------------------------------------------------------
  // The browser sizes the columns of an automatic table layout from every
  // cell, so a page of rows that arrives as the person scrolls could widen
  // a column and move all the others. Once the first rows are laid out, the
  // headers keep the widths the browser gave them and the table switches to
  // the fixed layout (grid_layout.css), which sizes columns from the headers
  // alone: no column jumps as pages arrive. Values longer than their column
  // end in an ellipsis, as a wide value does past a cell's maximum width; a
  // column is widened by its handle. A page without rows yet freezes when
  // its first rows arrive. (What it saves in layout time was within the
  // noise of this session's measurements; README, the grid's scrolling.)
  function freeze() {
    if (table.classList.contains("frozen")) { return true; }
    if (!table.querySelector("#grid-body > tr[data-record-id]")) { return false; }
    var ths = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var widths = ths.map(function (th) { return th.getBoundingClientRect().width; });
    ths.forEach(function (th, i) { th.style.width = widths[i] + "px"; });
    table.classList.add("frozen");
    fitFrozen();
    return true;
  }
  // fitFrozen makes the table as wide as its frozen columns: the fixed
  // layout needs a width of its own (with none, the browser sizes the
  // columns from their cells after all).
  function fitFrozen() {
    var sum = 0;
    table.querySelectorAll("thead th").forEach(function (th) { sum += parseFloat(th.style.width) || 0; });
    table.style.width = sum + "px";
  }
  // thaw goes back to the automatic layout, to be frozen again from the
  // widths it gives.
  function thaw() {
    table.classList.remove("frozen");
    table.style.width = "";
    table.querySelectorAll("thead th").forEach(function (th) { th.style.width = ""; });
  }
  function afterFrame(fn) {
    requestAnimationFrame(function () { setTimeout(fn, 0); });
  }
  // A window made wider or narrower (a phone turned, a zoom) may change the
  // fonts and the room the columns fitted: fit them again once it stops. A
  // change of height alone (a phone's address bar coming and going as the
  // page scrolls) leaves them be.
  var resizeTimer = 0;
  var fittedTo = window.innerWidth + "/" + window.devicePixelRatio;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      var now = window.innerWidth + "/" + window.devicePixelRatio;
      if (now === fittedTo || !table.classList.contains("frozen") || resizing) { return; }
      fittedTo = now;
      thaw();
      afterFrame(freeze);
    }, 150);
  });
  requestAnimationFrame(function () {
    setTimeout(function () {
      if (freeze()) { return; }
      var later = function (ev) {
        var t = ev.detail && ev.detail.target;
        if (!(t instanceof Element) || !t.closest("#grid-body") && t.id !== "grid-body") { return; }
        requestAnimationFrame(function () {
          setTimeout(function () {
            if (freeze()) { document.body.removeEventListener("htmx:afterSettle", later); }
          }, 0);
        });
      };
      document.body.addEventListener("htmx:afterSettle", later);
    }, 0);
  });

  // ---- Order ----------------------------------------------------------------
  // Dragging a header moves its column; the page reloads in the new order
  // once the server has kept it. The Columns menu's arrows do the same from
  // the keyboard.
  var drag = null;
  table.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0 || resizing || !(ev.target instanceof Element)) { return; }
    var th = ev.target.closest("thead th[data-column-id]");
    if (!th || ev.target.closest(".col-resize, button, input, select, details")) { return; }
    drag = { th: th, x: ev.clientX, y: ev.clientY, moving: false, target: null, after: false };
  });
  document.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    if (!drag.moving) {
      if (Math.abs(ev.clientX - drag.x) < 8 && Math.abs(ev.clientY - drag.y) < 8) { return; }
      drag.moving = true;
      drag.th.classList.add("dragging");
      table.classList.add("reordering");
    }
    clearDrop();
    var target = null;
    headers().forEach(function (th) {
      var r = th.getBoundingClientRect();
      if (ev.clientX >= r.left && ev.clientX < r.right) { target = th; drag.after = ev.clientX > r.left + r.width / 2; }
    });
    drag.target = target !== drag.th ? target : null;
    if (drag.target) { drag.target.classList.add(drag.after ? "drop-after" : "drop-before"); }
  });
  function clearDrop() {
    table.querySelectorAll("th.drop-before, th.drop-after").forEach(function (th) { th.classList.remove("drop-before", "drop-after"); });
  }
  document.addEventListener("pointerup", function () {
    if (!drag) { return; }
    var d = drag;
    drag = null;
    clearDrop();
    d.th.classList.remove("dragging");
    table.classList.remove("reordering");
    if (!d.moving) { return; }
    // The click that ends the drag (dispatched right after this pointerup,
    // if at all) does not follow the header's sort link.
    var swallow = function (ev) { ev.preventDefault(); ev.stopPropagation(); };
    document.addEventListener("click", swallow, { capture: true, once: true });
    setTimeout(function () { document.removeEventListener("click", swallow, { capture: true }); }, 0);
    setTimeout(function () { d.th.blur(); }, 0);
    if (!d.target) { return; }
    var order = headers().map(function (th) { return th.dataset.columnId; }).filter(function (id) { return id !== d.th.dataset.columnId; });
    var i = order.indexOf(d.target.dataset.columnId) + (d.after ? 1 : 0);
    order.splice(i, 0, d.th.dataset.columnId);
    // Hidden columns keep their places after the shown ones.
    save({ order: order }).then(function () { window.location.reload(); });
  });
  headers().forEach(function (th) {
    th.querySelectorAll("a").forEach(function (a) { a.draggable = false; });
  });

  // ---- Row height -------------------------------------------------------------
  // Choosing a height applies it at once and keeps it; the menu's Save
  // button is for browsers without this script.
  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!(input instanceof HTMLInputElement) || input.name !== "row_height" || input.getAttribute("form") !== "layout-form") { return; }
    table.classList.remove("rows-short", "rows-medium", "rows-tall");
    table.classList.add("rows-" + input.value);
    save({ row_height: input.value });
  });

  // ---- Filter autocomplete ------------------------------------------------------
  // Typing in the filter input lists the column names that start with (or
  // contain) the word at the caret; arrows choose, Enter or Tab puts the
  // name in (quoted when it needs to be), Escape closes the list.
  var input = document.getElementById("grid-filter");
  var names = [];
  try { names = JSON.parse((input && input.dataset.columns) || "[]"); } catch (e) { names = []; }
  if (!input || !names.length) { return; }
  var list = document.createElement("ul");
  list.id = "filter-suggest";
  list.className = "filter-suggest";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Column names");
  list.setAttribute("data-testid", "filter-suggest");
  list.hidden = true;
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  // Enter that picks a name must not also send the filter: the key's
  // keypress would submit the form.
  var swallowEnter = false;
  input.addEventListener("keypress", function (ev) {
    if (ev.key === "Enter" && swallowEnter) { ev.preventDefault(); }
    swallowEnter = false;
  });
  input.addEventListener("keyup", function () { swallowEnter = false; });

  var KEYWORDS = ["and", "or", "not", "like", "ilike", "in", "is", "null", "between", "true", "false"];
  var active = -1;

  // word is the column reference being typed before the caret: a bare
  // identifier, or a double-quoted name not yet closed.
  function word() {
    var before = input.value.slice(0, input.selectionStart);
    var quotes = (before.match(/"/g) || []).length;
    var singles = (before.match(/'/g) || []).length;
    if (singles % 2 === 1) { return null; } // inside a text literal
    if (quotes % 2 === 1) {
      var q = before.lastIndexOf('"');
      return { start: q, text: before.slice(q + 1) };
    }
    var m = before.match(/[\p{L}_][\p{L}\p{N}\p{M}_]*$/u);
    if (!m) { return null; }
    return { start: before.length - m[0].length, text: m[0] };
  }

  function ref(name) {
    if (/^[\p{L}_][\p{L}\p{N}\p{M}_]*$/u.test(name) && KEYWORDS.indexOf(name.toLowerCase()) < 0) { return name; }
    return '"' + name.replace(/"/g, '""') + '"';
  }

  function close() {
    list.hidden = true;
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function show() {
    var w = word();
    if (!w || (!w.text && input.value.charAt(w.start) !== '"')) { close(); return; }
    var t = w.text.toLowerCase();
    var starts = names.filter(function (n) { return n.toLowerCase().indexOf(t) === 0; });
    var inside = names.filter(function (n) { return n.toLowerCase().indexOf(t) > 0; });
    var found = starts.concat(inside).slice(0, 8);
    if (!found.length || (found.length === 1 && found[0] === w.text)) { close(); return; }
    list.textContent = "";
    found.forEach(function (n, i) {
      var li = document.createElement("li");
      li.id = "filter-suggest-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-testid", "filter-suggestion");
      li.dataset.name = n;
      li.textContent = n;
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    select(0);
  }

  function select(i) {
    var opts = list.querySelectorAll("li");
    if (!opts.length) { return; }
    active = (i + opts.length) % opts.length;
    opts.forEach(function (li, j) { li.setAttribute("aria-selected", String(j === active)); });
    input.setAttribute("aria-activedescendant", opts[active].id);
    opts[active].scrollIntoView({ block: "nearest" });
  }

  function accept(name) {
    var w = word();
    if (!w) { close(); return; }
    var end = input.selectionStart;
    var after = input.value.slice(end);
    if (input.value.charAt(w.start) === '"' && after.charAt(0) === '"') { after = after.slice(1); }
    var text = ref(name) + " ";
    input.value = input.value.slice(0, w.start) + text + after.replace(/^ /, "");
    var caret = w.start + text.length;
    input.setSelectionRange(caret, caret);
    close();
    input.focus();
  }

  input.addEventListener("input", show);
  input.addEventListener("blur", function () { setTimeout(close, 150); });
  input.addEventListener("keydown", function (ev) {
    if (list.hidden) {
      if (ev.key === "ArrowDown" && ev.altKey) { ev.preventDefault(); show(); }
      return;
    }
    var opts = list.querySelectorAll("li");
    switch (ev.key) {
      case "ArrowDown": ev.preventDefault(); select(active + 1); break;
      case "ArrowUp": ev.preventDefault(); select(active - 1); break;
      case "Enter":
      case "Tab":
        if (active >= 0 && opts[active]) {
          ev.preventDefault();
          swallowEnter = ev.key === "Enter";
          accept(opts[active].dataset.name);
        }
        break;
      case "Escape": ev.preventDefault(); close(); break;
    }
  });
  list.addEventListener("mousedown", function (ev) {
    var li = ev.target instanceof Element && ev.target.closest("li");
    if (!li) { return; }
    ev.preventDefault();
    accept(li.dataset.name);
  });
})();
