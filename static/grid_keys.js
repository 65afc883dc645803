// Scratchpad — the grid's keyboard model beyond moving and editing one cell
// (static/grid.js): jumps (Home/End, PageUp/PageDown, Ctrl+arrows), typing
// on a cell to edit it, a rectangular range (Shift+arrows, Shift+click),
// copy and paste as TSV, clearing, undo and redo of one's own edits, revert
// to the pulled value, and the `?` list of shortcuts.
//
// Many cells change in one request (POST <table>/cells), all or nothing and
// with version checks, so a paste is never half saved and never overwrites
// someone's change silently. An undo sends the previous values expecting the
// cells to hold what the edit left: if someone changed a cell since, the
// server refuses and the toast says so.
(function () {
  "use strict";

  var G = window.scratchpadGrid;
  var page = document.querySelector(".grid-page");
  if (!G || !page) { return; }

  var MAX_CELLS = 10000; // workbooks.MaxCellEdits
  var UNDO_DEPTH = 100;
  var cellsURL = "/workbooks/" + encodeURIComponent(page.dataset.workbookId) +
    "/tables/" + encodeURIComponent(page.dataset.tableId) + "/cells";
  var isMac = /Mac|iPhone|iPad/.test(navigator.platform || "");

  // The range runs from the anchor (by record and column id, so it
  // survives row swaps) to the active cell.
  var sel = { anchor: null, extending: false, focused: "" };
  var steps = { undo: [], redo: [], queue: Promise.resolve(), pendingKey: null };

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) { return ""; }
  }

  function isCell(el) { return el instanceof Element && el.matches("#grid-body td.cell"); }
  function isField(el) {
    return el instanceof Element && !!el.closest("input, textarea, select, [contenteditable]");
  }
  function active() {
    var a = document.activeElement;
    if (isCell(a)) { return a; }
    return G.state.row ? G.findCell(G.state.row, G.state.col) : null;
  }

  // ---- Positions and the range ---------------------------------------------

  function posOf(td, all) {
    var tr = td.closest("tr");
    return { r: (all || G.rows()).indexOf(tr), c: G.cellsOf(tr).indexOf(td) };
  }

  function cellAt(all, r, c) {
    var tr = all[r];
    if (!tr) { return null; }
    var cells = G.cellsOf(tr);
    return cells[Math.max(0, Math.min(c, cells.length - 1))] || null;
  }

  // rect is the selected rectangle in row and column indexes of the loaded
  // rows, or null without an active cell.
  function rect() {
    var all = G.rows();
    var end = active();
    if (!end || !end.isConnected) { return null; }
    var b = posOf(end, all);
    var a = b;
    if (sel.anchor) {
      var at = G.findCell(sel.anchor.row, sel.anchor.col);
      if (at) { a = posOf(at, all); }
    }
    if (a.r < 0 || b.r < 0) { return null; }
    return {
      r0: Math.min(a.r, b.r), r1: Math.max(a.r, b.r),
      c0: Math.min(a.c, b.c), c1: Math.max(a.c, b.c), rows: all
    };
  }

  // selectedCells are the range's cells, row by row.
  function selectedCells() {
    var q = rect();
    if (!q) { return []; }
    var out = [];
    for (var r = q.r0; r <= q.r1; r++) {
      var cells = G.cellsOf(q.rows[r]);
      var line = [];
      for (var c = q.c0; c <= q.c1 && c < cells.length; c++) { line.push(cells[c]); }
      out.push(line);
    }
    return out;
  }

  var painting = false;
  function paint() {
    if (painting) { return; }
    painting = true;
    window.requestAnimationFrame(function () {
      painting = false;
      document.querySelectorAll("#grid-body td.in-range").forEach(function (td) {
        td.classList.remove("in-range");
        td.removeAttribute("aria-selected");
      });
      var cells = selectedCells();
      var n = cells.reduce(function (s, line) { return s + line.length; }, 0);
      var status = document.getElementById("grid-range-status");
      if (n > 1) {
        cells.forEach(function (line) {
          line.forEach(function (td) {
            td.classList.add("in-range");
            td.setAttribute("aria-selected", "true");
          });
        });
      }
      roving();
      if (status) {
        status.textContent = n > 1 ? cells.length + " × " + cells[0].length + " cells selected" : "";
        status.hidden = n <= 1;
      }
    });
  }

  // roving gives the active cell (the first one before any) the grid's
  // one place in the Tab order, so the keyboard alone can reach the grid.
  function roving() {
    var want = active() || document.querySelector("#grid-body tr[data-record-id] td.cell");
    document.querySelectorAll('#grid-body td.cell[tabindex="0"]').forEach(function (td) {
      if (td !== want) { td.tabIndex = -1; }
    });
    if (want) { want.tabIndex = 0; }
  }

  function setAnchor(td) {
    sel.anchor = td ? { row: td.closest("tr").dataset.recordId, col: td.dataset.columnId } : null;
  }

  // moveTo makes td the active cell; extend keeps the anchor, so the range
  // grows or shrinks to it.
  function moveTo(td, extend) {
    if (!td) { return; }
    if (extend && !sel.anchor) { setAnchor(active() || td); }
    sel.extending = !!extend;
    try { G.activate(td, true); } finally { sel.extending = false; }
    if (!extend) { setAnchor(td); }
    paint();
  }

  // Focus moving to another cell (arrows, a click, Tab) starts the range
  // over; the same cell focused again (its row came back from the server)
  // keeps it.
  document.addEventListener("focusin", function (ev) {
    var td = ev.target;
    if (!isCell(td)) { return; }
    var id = td.closest("tr").dataset.recordId + " " + td.dataset.columnId;
    if (!sel.extending && id !== sel.focused) { setAnchor(td); }
    sel.focused = id;
    paint();
  });
  // Rows come back from the server after edits and live updates: the range
  // is painted again on them.
  // An editor that does not come (refused, network) must not leave the
  // grid waiting for it, swallowing what is typed.
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function () {
      if (G.state.pendingFocus === "editor" && !G.openEditor()) {
        G.state.pendingFocus = null;
        G.state.typed = "";
        steps.pendingKey = null;
      }
    });
  });

  var lastSwap = 0;
  document.addEventListener("htmx:sseBeforeMessage", function () { lastSwap = Date.now(); });
  document.addEventListener("htmx:load", function (ev) {
    lastSwap = Date.now();
    var k = steps.pendingKey;
    var editor = ev.target instanceof Element && ev.target.querySelector(".cell-editor");
    if (k && editor && document.activeElement === editor) {
      steps.pendingKey = null;
      editor.dispatchEvent(new KeyboardEvent("keydown", { key: k.key, shiftKey: k.shiftKey, bubbles: true, cancelable: true }));
    }
    paint();
  });
  paint();

  // Shift+click extends the range from the active cell.
  window.addEventListener("mousedown", function (ev) {
    if (ev.shiftKey && ev.target instanceof Element && ev.target.closest("#grid-body td.cell") && !isField(ev.target)) {
      ev.preventDefault(); // no text selection
    }
  }, true);
  window.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element) || !ev.shiftKey || isField(t)) { return; }
    var td = t.closest("#grid-body td.cell");
    if (!td || td.dataset.editing || !active()) { return; }
    ev.preventDefault();
    ev.stopPropagation();
    moveTo(td, true);
  }, true);

  // ---- Keys --------------------------------------------------------------------

  function pageRows() {
    var w = document.getElementById("grid-wrap");
    var tr = G.rows()[0];
    var h = tr ? tr.getBoundingClientRect().height : 32;
    var visible = w ? Math.min(w.clientHeight, window.innerHeight) : window.innerHeight;
    return Math.max(1, Math.floor(visible / Math.max(h, 1)) - 1);
  }

  // target is where a navigation key goes from td, or null for a key that
  // is not one.
  function target(ev, td) {
    var all = G.rows();
    var p = posOf(td, all);
    var mod = ev.ctrlKey || ev.metaKey;
    var last = all.length - 1;
    var lastCol = G.cellsOf(td.closest("tr")).length - 1;
    switch (ev.key) {
      case "ArrowUp": return cellAt(all, mod ? 0 : Math.max(p.r - 1, 0), p.c);
      case "ArrowDown": return cellAt(all, mod ? last : Math.min(p.r + 1, last), p.c);
      case "ArrowLeft": return cellAt(all, p.r, mod ? 0 : Math.max(p.c - 1, 0));
      case "ArrowRight": return cellAt(all, p.r, mod ? lastCol : Math.min(p.c + 1, lastCol));
      case "Home": return mod ? cellAt(all, 0, 0) : cellAt(all, p.r, 0);
      case "End": return mod ? cellAt(all, last, Number.MAX_SAFE_INTEGER) : cellAt(all, p.r, lastCol);
      case "PageUp": return cellAt(all, Math.max(p.r - pageRows(), 0), p.c);
      case "PageDown": return cellAt(all, Math.min(p.r + pageRows(), last), p.c);
    }
    return null;
  }

  window.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element) || ev.defaultPrevented || ev.isComposing) { return; }
    if (t.closest("dialog")) { return; } // the dialog's own keys
    // A key pressed while the active cell's row was being swapped (a save
    // coming back, a live update) finds no focus: it goes to the cell.
    if (t === document.body && Date.now() - lastSwap < 1000 && active() && !(ev.key === "Escape" && G.state.pendingFocus !== "editor")) {
      var cell = active();
      cell.focus({ preventScroll: true });
      ev.preventDefault();
      ev.stopPropagation();
      cell.dispatchEvent(new KeyboardEvent("keydown", {
        key: ev.key, code: ev.code, shiftKey: ev.shiftKey, ctrlKey: ev.ctrlKey, metaKey: ev.metaKey, altKey: ev.altKey,
        bubbles: true, cancelable: true
      }));
      return;
    }
    var mod = ev.ctrlKey || ev.metaKey;
    var key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    var field = isField(t);

    if (ev.key === "?" && !field && !mod && !ev.altKey && G.state.pendingFocus !== "editor") {
      ev.preventDefault();
      ev.stopPropagation();
      openHelp();
      return;
    }
    // Undo and redo outside fields; in a field they are the field's own.
    if (mod && !ev.altKey && !field && (key === "z" || key === "y")) {
      if (!page.contains(t) && t !== document.body) { return; }
      ev.preventDefault();
      ev.stopPropagation();
      if (key === "y" || ev.shiftKey) { redoLast(); } else { undoLast(); }
      return;
    }
    if (G.state.pendingFocus === "editor" && !field && (ev.key === "Enter" || ev.key === "Tab" || ev.key === "Escape")) {
      // Typed quickly after the first character, before the editor is
      // there: the editor gets the key when it comes.
      ev.preventDefault();
      ev.stopPropagation();
      steps.pendingKey = { key: ev.key, shiftKey: ev.shiftKey };
      return;
    }
    if (!isCell(t) || G.state.pendingFocus === "editor") { return; }

    var next = target(ev, t);
    if (next && !ev.altKey) {
      var plainArrow = !ev.shiftKey && !mod && /^Arrow/.test(ev.key);
      if (plainArrow) {
        // grid.js moves the active cell; the range collapses onto it.
        return;
      }
      ev.preventDefault();
      ev.stopPropagation();
      moveTo(next, ev.shiftKey);
      return;
    }
    if (mod && !ev.altKey && key === "c") {
      ev.preventDefault();
      ev.stopPropagation();
      copy();
      return;
    }
    if (mod && !ev.altKey && key === "a") {
      ev.preventDefault();
      ev.stopPropagation();
      var all = G.rows();
      if (!all.length) { return; }
      setAnchor(cellAt(all, 0, 0));
      sel.extending = true;
      try { G.activate(cellAt(all, all.length - 1, Number.MAX_SAFE_INTEGER), true); } finally { sel.extending = false; }
      paint();
      return;
    }
    if (mod && !ev.altKey && key === "v") {
      // The browser sends a paste event (below); where it does not (no
      // focusable editing context), the clipboard is read instead.
      pasteExpected = true;
      setTimeout(function () {
        if (!pasteExpected) { return; }
        pasteExpected = false;
        if (navigator.clipboard && navigator.clipboard.readText) {
          navigator.clipboard.readText().then(paste, function () {
            toast("error", "The browser did not let Scratchpad read the clipboard.");
          });
        }
      }, 150);
      return;
    }
    if (ev.altKey && !mod && ev.key === "Backspace") {
      ev.preventDefault();
      ev.stopPropagation();
      revert(flat(selectedCells()));
      return;
    }
    if (!mod && !ev.altKey && (ev.key === "Delete" || ev.key === "Backspace")) {
      ev.preventDefault();
      ev.stopPropagation();
      clear(flat(selectedCells()));
      return;
    }
    if (ev.key === "Escape" && sel.anchor && rect() && (rect().r0 !== rect().r1 || rect().c0 !== rect().c1)) {
      // Escape first drops the range, then (grid.js) the active cell.
      ev.preventDefault();
      ev.stopPropagation();
      setAnchor(t);
      paint();
      return;
    }
    // A printable character starts editing the cell with it.
    if (ev.key.length === 1 && !mod && !ev.altKey) {
      if (t.dataset.editable !== "true") { return; }
      ev.preventDefault();
      ev.stopPropagation();
      G.startEdit(t, ev.key);
    }
  }, true);

  function flat(lines) {
    return lines.reduce(function (out, line) { return out.concat(line); }, []);
  }

  // ---- Saving many cells ---------------------------------------------------------

  function send(edits) {
    return fetch(cellsURL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), "Accept": "application/json" },
      body: JSON.stringify({ edits: edits })
    }).then(function (resp) {
      return resp.json().then(function (body) {
        return { ok: resp.ok, body: body };
      }, function () {
        return { ok: false, body: { error: "The server answered " + resp.status + "; nothing was saved." } };
      });
    }, function () {
      return { ok: false, body: { error: "Scratchpad could not be reached; nothing was saved." } };
    }).then(function (res) {
      if (res.ok && res.body.rows) {
        G.replaceRows(res.body.rows);
        document.body.dispatchEvent(new CustomEvent("counters-changed", { bubbles: true }));
      }
      return res;
    });
  }

  function cellsLabel(n) { return n === 1 ? "1 cell" : n.toLocaleString("en") + " cells"; }

  function columnName(id) {
    var td = document.querySelector('#grid-body td.cell[data-column-id="' + CSS.escape(id) + '"]');
    return td ? td.dataset.column : "the cell";
  }

  function remember(label, changes) {
    if (!changes || !changes.length) { return; }
    steps.undo.push({ label: label, changes: changes });
    if (steps.undo.length > UNDO_DEPTH) { steps.undo.shift(); }
    steps.redo = [];
  }

  // One cell saved in its editor (grid.js) is one undo step; the server
  // says what it held before (HX-Trigger cell-saved).
  document.addEventListener("cell-saved", function (ev) {
    var d = ev.detail;
    if (d && d.record_id) { remember("edit of " + columnName(d.column_id), [d]); }
  });

  // invert sends back the values before each change, expecting the cells to
  // hold what it left; what comes back is the step that inverts it again.
  // Undos and redos pressed quickly run one after the other.
  function invert(from, to, verb) {
    steps.queue = steps.queue.then(function () {
      var step = from.pop();
      if (!step) {
        toast("info", verb === "Undid" ? "Nothing to undo." : "Nothing to redo.");
        return null;
      }
      var edits = step.changes.map(function (c) {
        return { record_id: c.record_id, column_id: c.column_id, value: c.before, expect: c.after };
      });
      return send(edits).then(function (res) {
        if (!res.ok) {
          toast("error", "Could not " + (verb === "Undid" ? "undo" : "redo") + " the " + step.label + ": " + res.body.error);
          return;
        }
        to.push({ label: step.label, changes: res.body.changes || [] });
        var first = step.changes[0];
        var td = first && G.findCell(first.record_id, first.column_id);
        if (td) { moveTo(td, false); }
        toast("success", verb + " the " + step.label + ".");
      });
    });
  }
  function undoLast() { invert(steps.undo, steps.redo, "Undid"); }
  function redoLast() { invert(steps.redo, steps.undo, "Redid"); }

  function edit(tds, make, label, done) {
    var edits = [];
    tds.forEach(function (td) {
      var tr = td.closest("tr");
      var e = make(td, tr);
      if (e) {
        e.record_id = tr.dataset.recordId;
        e.column_id = td.dataset.columnId;
        e.version = Number(tr.dataset.version);
        edits.push(e);
      }
    });
    if (!edits.length) { return Promise.resolve(null); }
    if (edits.length > MAX_CELLS) {
      toast("error", "That is " + cellsLabel(edits.length) + ": at most " + cellsLabel(MAX_CELLS) + " can change at once. Nothing was saved.");
      return Promise.resolve(null);
    }
    if (edits.length >= 500) {
      // A big paste takes a few seconds: say it is on its way.
      toast("info", "Saving " + cellsLabel(edits.length) + "…");
    }
    return send(edits).then(function (res) {
      if (!res.ok) {
        toast("error", res.body.error || "Nothing was saved.");
        return null;
      }
      remember(label(edits.length), res.body.changes);
      if (done) { done(res, edits.length); }
      return res;
    });
  }

  function clear(tds) {
    var writable = tds.filter(function (td) { return td.dataset.editable === "true"; });
    if (!writable.length) { return; }
    edit(writable, function () { return { value: null }; }, function (n) { return "clearing of " + cellsLabel(n); }, function (res, n) {
      toast("success", "Cleared " + cellsLabel(n) + ".");
    });
  }

  // revert sets the edited cells among tds back to their pulled values.
  function revert(tds) {
    var edited = tds.filter(function (td) { return td.classList.contains("edited") || td.dataset.edited === "true"; });
    if (!edited.length) {
      toast("info", "Nothing to revert: " + (tds.length === 1 ? "this cell holds its" : "these cells hold their") + " pulled value.");
      return;
    }
    edit(edited, function () { return { revert: true }; }, function (n) { return "revert of " + cellsLabel(n); }, function (res, n) {
      toast("success", "Reverted " + cellsLabel(n) + " to the pulled value.");
    });
  }

  // The cell editor's Revert button (views/grid.templ) reverts its cell:
  // the editor closes and the row comes back with the pulled value.
  document.addEventListener("click", function (ev) {
    var btn = ev.target instanceof Element && ev.target.closest('[data-testid="revert-cell"]');
    if (!btn) { return; }
    ev.preventDefault();
    revertEditor(btn.closest("td"));
  });

  function revertEditor(td) {
    var form = td && td.querySelector("form");
    var tr = td && td.closest("tr");
    if (!form || !tr) { return; }
    form.dataset.done = "1"; // leaving the editor must not save it
    var edits = [{ record_id: tr.dataset.recordId, column_id: td.dataset.columnId, revert: true,
      version: Number(form.querySelector('input[name="version"]').value) }];
    send(edits).then(function (res) {
      if (!res.ok) {
        delete form.dataset.done;
        toast("error", res.body.error);
        return;
      }
      remember("revert of " + td.dataset.column, res.body.changes);
      toast("success", "Reverted " + td.dataset.column + " to the pulled value.");
    });
    // The row with the editor is replaced by the one send brings back.
    var editor = td.querySelector(".cell-editor");
    if (editor) { editor.classList.remove("cell-editor"); }
    G.state.pendingFocus = "cell";
  }

  // ---- Clipboard -------------------------------------------------------------------

  // cellText is a cell's value as text, as the editor shows it.
  function cellText(td) {
    var box = td.querySelector(".cell-value");
    if (!box) { return ""; }
    var tm = box.querySelector("time[datetime]");
    if (tm) { return tm.getAttribute("datetime"); }
    var b = box.querySelector("[data-value]");
    if (b) { return b.dataset.value; }
    var badges = box.querySelectorAll(".badge");
    if (badges.length) {
      return Array.prototype.map.call(badges, function (x) { return x.textContent; }).join(", ");
    }
    return box.textContent.trim();
  }

  // tsvField quotes a value as spreadsheets do: in double quotes, with
  // quotes doubled, when it holds a tab, a line break or a quote.
  function tsvField(s) {
    return /[\t\n\r"]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function toTSV(lines) {
    return lines.map(function (line) { return line.map(tsvField).join("\t"); }).join("\n");
  }

  // parseTSV reads text copied from a spreadsheet: rows end at line breaks,
  // cells at tabs, and a cell in double quotes may hold both.
  function parseTSV(text) {
    var rows = [];
    var row = [];
    var cell = "";
    var i = 0;
    var n = text.length;
    var quoted = false;
    var start = true;
    while (i < n) {
      var ch = text[i];
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') { cell += '"'; i += 2; continue; }
          quoted = false;
          i++;
          continue;
        }
        cell += ch;
        i++;
        continue;
      }
      if (start && ch === '"') {
        quoted = true;
        start = false;
        i++;
        continue;
      }
      start = false;
      if (ch === "\t") {
        row.push(cell);
        cell = "";
        start = true;
        i++;
        continue;
      }
      if (ch === "\r" || ch === "\n") {
        row.push(cell);
        rows.push(row);
        row = [];
        cell = "";
        start = true;
        i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
        continue;
      }
      cell += ch;
      i++;
    }
    if (!start || cell !== "" || row.length) {
      row.push(cell);
      rows.push(row);
    }
    return rows;
  }

  var copying = null;
  var pasteExpected = false;

  // copy puts the range on the clipboard as TSV, from what the grid
  // shows. Values the grid shows cut short ("…") are then asked of the
  // server in full, and the clipboard is written again with them.
  function copy() {
    var lines = selectedCells();
    if (!lines.length) { return; }
    var texts = lines.map(function (line) { return line.map(cellText); });
    copying = toTSV(texts);
    var n = lines.length * lines[0].length;
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    copying = null;
    var cut = [];
    texts.forEach(function (line, i) {
      if (line.some(function (s) { return /…$/.test(s); })) { cut.push(i); }
    });
    if (!cut.length) {
      if (ok) {
        toast("success", "Copied " + cellsLabel(n) + ".");
      } else {
        writeClipboard(toTSV(texts), n);
      }
      return;
    }
    var q = new URLSearchParams();
    cut.forEach(function (i) { q.append("record", lines[i][0].closest("tr").dataset.recordId); });
    lines[0].forEach(function (td) { q.append("column", td.dataset.columnId); });
    fetch(cellsURL + "?" + q.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : Promise.reject(resp.status); })
      .then(function (body) {
        cut.forEach(function (i, k) { texts[i] = body.values[k]; });
        writeClipboard(toTSV(texts), n);
      }, function () {
        toast("error", "Long values were copied cut short: Scratchpad could not fetch them in full.");
      });
  }

  function writeClipboard(text, n) {
    if (!navigator.clipboard || !navigator.clipboard.writeText) {
      toast("error", "The browser did not let Scratchpad write to the clipboard.");
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      toast("success", "Copied " + cellsLabel(n) + ".");
    }, function () {
      toast("error", "The browser did not let Scratchpad write the whole range to the clipboard; long values may be cut short.");
    });
  }

  document.addEventListener("copy", function (ev) {
    var text = copying;
    if (text === null) {
      // The browser's own copy (a menu) of a selected cell or range.
      if (!isCell(document.activeElement) || (window.getSelection() && String(window.getSelection()) !== "")) { return; }
      text = toTSV(selectedCells().map(function (line) { return line.map(cellText); }));
    }
    if (!ev.clipboardData) { return; }
    ev.clipboardData.setData("text/plain", text);
    ev.preventDefault();
  });

  document.addEventListener("paste", function (ev) {
    var t = ev.target;
    if (isField(t) || !(isCell(t) || isCell(document.activeElement))) { return; }
    pasteExpected = false;
    var text = ev.clipboardData ? ev.clipboardData.getData("text/plain") : "";
    ev.preventDefault();
    paste(text);
  });

  // paste saves a block of TSV into the grid from the range's top left
  // cell; one value pasted on a range fills it.
  function paste(text) {
    var block = parseTSV(text || "");
    if (!block.length) { return; }
    var q = rect();
    if (!q) { return; }
    var fill = block.length === 1 && block[0].length === 1 && (q.r1 > q.r0 || q.c1 > q.c0);
    var height = fill ? q.r1 - q.r0 + 1 : block.length;
    var width = fill ? q.c1 - q.c0 + 1 : block.reduce(function (m, l) { return Math.max(m, l.length); }, 0);
    var tds = [];
    var texts = new Map();
    var missingRows = 0;
    var missingCols = 0;
    for (var i = 0; i < height; i++) {
      var tr = q.rows[q.r0 + i];
      if (!tr) { missingRows++; continue; }
      var cells = G.cellsOf(tr);
      for (var j = 0; j < width; j++) {
        var td = cells[q.c0 + j];
        if (!td) { missingCols = Math.max(missingCols, q.c0 + j - cells.length + 1); continue; }
        var v = fill ? block[0][0] : (block[i][j] === undefined ? "" : block[i][j]);
        texts.set(td, v);
        tds.push(td);
      }
    }
    if (!tds.length) { return; }
    var first = tds[0];
    var lastTd = tds[tds.length - 1];
    edit(tds, function (td) { return { text: texts.get(td) }; }, function (n) { return "paste of " + cellsLabel(n); }, function (res, n) {
      var msg = "Pasted " + cellsLabel(n) + ".";
      if (missingRows) { msg += " " + missingRows + (missingRows === 1 ? " row" : " rows") + " past the last loaded row " + (missingRows === 1 ? "was" : "were") + " not pasted."; }
      if (missingCols) { msg += " " + missingCols + (missingCols === 1 ? " column" : " columns") + " past the last column " + (missingCols === 1 ? "was" : "were") + " not pasted."; }
      toast(missingRows || missingCols ? "info" : "success", msg);
      var a = G.findCell(first.closest("tr") ? first.closest("tr").dataset.recordId : "", first.dataset.columnId);
      var z = G.findCell(lastTd.closest("tr") ? lastTd.closest("tr").dataset.recordId : "", lastTd.dataset.columnId);
      if (!a || !z) { return; }
      setAnchor(a);
      sel.extending = true;
      try { G.activate(z, true); } finally { sel.extending = false; }
      paint();
    });
  }

  // ---- Toasts and the shortcut list -------------------------------------------------

  function toast(kind, message) {
    var area = document.getElementById("toasts");
    if (!area) { return; }
    // One message of the grid's at a time: quick undos do not pile up.
    area.querySelectorAll(".toast[data-grid-keys]").forEach(function (old) { old.remove(); });
    var box = document.createElement("div");
    box.setAttribute("data-grid-keys", "");
    box.className = "toast toast-" + kind;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.setAttribute("data-testid", "toast");
    var span = document.createElement("span");
    span.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    box.appendChild(span);
    box.appendChild(close);
    area.appendChild(box);
  }

  var MOD = isMac ? "⌘" : "Ctrl";
  var SHORTCUTS = [
    ["Moving", [
      [["↑", "↓", "←", "→"], "Move to the next cell"],
      [["Tab"], "Next cell (Shift+Tab: previous); in an editor, save and move"],
      [["Home"], "First cell of the row"],
      [["End"], "Last cell of the row"],
      [[MOD + "+Home"], "First cell of the first row"],
      [[MOD + "+End"], "Last cell of the last loaded row"],
      [["PageUp"], "A screen up"],
      [["PageDown"], "A screen down"],
      [[MOD + "+↑ ↓ ← →"], "Jump to the edge of the loaded rows"]
    ]],
    ["Editing", [
      [["Enter"], "Edit the cell; in an editor, save (first column: open the record)"],
      [["F2"], "Edit the cell"],
      [["a–z", "0–9"], "Start editing the cell with what you type"],
      [["Esc"], "Cancel the edit; drop the range"],
      [["Delete"], "Empty the selected cells"],
      [["Alt+Backspace"], "Revert the selected edited cells to the pulled value"]
    ]],
    ["Range, clipboard and history", [
      [["Shift+↑ ↓ ← →"], "Extend the range (Shift+click too)"],
      [[MOD + "+A"], "Select all loaded cells"],
      [[MOD + "+C"], "Copy the range as tab-separated text"],
      [[MOD + "+V"], "Paste a spreadsheet range from the active cell"],
      [[MOD + "+Z"], "Undo your last edit, paste or revert"],
      [[MOD + "+Shift+Z", MOD + "+Y"], "Redo"],
      [["?"], "This list"]
    ]]
  ];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function helpDialog() {
    var d = document.getElementById("grid-keys-help");
    if (d) { return d; }
    d = el("dialog", { id: "grid-keys-help", "class": "keys-dialog", "aria-labelledby": "grid-keys-title", "data-testid": "keys-help" });
    var head = el("div", { "class": "keys-head" });
    head.appendChild(el("h2", { id: "grid-keys-title" }, "Keyboard shortcuts"));
    var close = el("button", { type: "button", "class": "btn btn-ghost btn-small", "aria-label": "Close", "data-testid": "keys-help-close" }, "×");
    close.addEventListener("click", function () { d.close(); });
    head.appendChild(close);
    d.appendChild(head);
    var body = el("div", { "class": "keys-body" });
    SHORTCUTS.forEach(function (group) {
      var table = el("table", { "class": "keys-table" });
      table.appendChild(el("caption", {}, group[0]));
      var tbody = el("tbody");
      group[1].forEach(function (row) {
        var tr = el("tr");
        var th = el("th", { scope: "row" });
        row[0].forEach(function (k, i) {
          if (i) { th.appendChild(document.createTextNode(" ")); }
          th.appendChild(el("kbd", {}, k));
        });
        tr.appendChild(th);
        tr.appendChild(el("td", {}, row[1]));
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      body.appendChild(table);
    });
    body.appendChild(el("p", { "class": "hint" }, "A paste, a clearing or a revert is one undo step. Undo never overwrites a cell someone else changed since."));
    d.appendChild(body);
    // A click on the backdrop closes it.
    d.addEventListener("click", function (ev) { if (ev.target === d) { d.close(); } });
    document.body.appendChild(d);
    return d;
  }

  var beforeHelp = null;
  function openHelp() {
    var d = helpDialog();
    if (d.open) { return; }
    beforeHelp = document.activeElement;
    d.showModal();
    d.querySelector("[data-testid=keys-help-close]").focus();
    d.addEventListener("close", function () {
      // The cell's row may have come back from the server meanwhile.
      var back = beforeHelp && beforeHelp.isConnected && !isCell(beforeHelp) ? beforeHelp : active();
      if (back) { back.focus({ preventScroll: true }); }
    }, { once: true });
  }

  // A small live region says how many cells the range holds.
  var status = el("div", { id: "grid-range-status", "class": "range-status", role: "status", "aria-live": "polite", "data-testid": "range-status" });
  status.hidden = true;
  page.appendChild(status);

  // A button in the filter bar opens the list too, for those who do not
  // know `?` yet (hidden on phones, which have no keyboard to speak of).
  var bar = page.querySelector(".filter-bar");
  if (bar && !bar.querySelector('[data-testid="keys-help-open"]')) {
    var open = el("button", { type: "button", "class": "btn btn-ghost btn-small keys-help-open", "data-testid": "keys-help-open",
      "aria-keyshortcuts": "?", title: "Keyboard shortcuts (?)" }, "Shortcuts");
    bar.appendChild(open);
  }

  document.addEventListener("click", function (ev) {
    if (ev.target instanceof Element && ev.target.closest('[data-testid="keys-help-open"]')) {
      ev.preventDefault();
      openHelp();
    }
  });

  window.scratchpadGridKeys = { parseTSV: parseTSV, toTSV: toTSV };
})();
