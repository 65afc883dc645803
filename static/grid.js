// Scratchpad — the grid: keyboard navigation, inline editing and live rows.
// Loaded by the grid page only. The server renders every row and editor; this
// file only moves the active cell, asks htmx for editors, saves and cancels
// them, and keeps a person's edit in progress safe from live updates.
(function () {
  "use strict";

  if (!window.htmx || !document.querySelector(".grid-page")) { return; }
  var htmx = window.htmx;

  // What survives row swaps: the active cell by record and column id, and
  // what to do when its row comes back from the server.
  var state = {
    row: null,
    col: null,
    // "editor" focuses the editor of the next row rendered with one,
    // "cell" focuses the active cell when its row comes back.
    pendingFocus: null,
    // After Tab in an editor, move this way once the saved row is back.
    tab: 0,
    refocus: false,
    // Characters typed while an editor was on its way, put into it when it
    // arrives so that quick typing is not lost.
    typed: "",
    // Keys pressed in an editor already saved or cancelled, while its row
    // is on its way back: replayed on the row's cell when it arrives, so
    // that "42, Enter, Down, 7" types 7 into the next row, as in a
    // spreadsheet, instead of into the editor going away.
    queued: [],
    refreshPending: false,
    reloadPending: false,
    navigating: false
  };

  function body() { return document.getElementById("grid-body"); }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#grid-body tr[data-record-id]")); }
  function cellsOf(tr) { return Array.prototype.slice.call(tr.querySelectorAll("td.cell")); }
  function openEditor() { return document.querySelector("#grid-body .cell-editor"); }

  function findCell(rowID, colID) {
    var tr = document.getElementById("rec-" + rowID);
    if (!tr || !colID) { return null; }
    return tr.querySelector('td.cell[data-column-id="' + CSS.escape(colID) + '"]');
  }

  function activate(td, focus) {
    document.querySelectorAll("#grid-body td.cell.active").forEach(function (el) {
      if (el !== td) { el.classList.remove("active"); }
    });
    if (!td) { return; }
    td.classList.add("active");
    state.row = td.closest("tr").dataset.recordId;
    state.col = td.dataset.columnId;
    if (focus && document.activeElement !== td) { td.focus({ preventScroll: true }); }
    td.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  // neighbour returns the cell dr rows and dc columns away; Tab (wrap) goes
  // on to the next or previous row at the ends of a row.
  function neighbour(td, dr, dc, wrap) {
    var tr = td.closest("tr");
    var cells = cellsOf(tr);
    var ci = cells.indexOf(td);
    var all = rows();
    var ri = all.indexOf(tr);
    if (dc) {
      var ni = ci + dc;
      if (ni >= 0 && ni < cells.length) { return cells[ni]; }
      if (!wrap) { return null; }
      var nr = all[ri + dc];
      if (!nr) { return null; }
      var nc = cellsOf(nr);
      return dc > 0 ? nc[0] : nc[nc.length - 1];
    }
    var next = all[ri + dr];
    if (!next) { return null; }
    var ncs = cellsOf(next);
    return ncs[Math.min(ci, ncs.length - 1)] || null;
  }

  // cellURL is the address of a cell's editor: cells carry only their
  // column id, the row carries the record's address.
  function cellURL(td) {
    var tr = td.closest("tr");
    if (!tr || !tr.dataset.panelUrl || !td.dataset.columnId) { return null; }
    return tr.dataset.panelUrl + "/cells/" + encodeURIComponent(td.dataset.columnId);
  }

  // startEdit asks for the row with td's editor open; the response replaces
  // the row.
  // With initial (a character typed on the cell, grid_keys.js), the editor
  // opens holding what was typed instead of the cell's value.
  function startEdit(td, initial) {
    if (!td || td.dataset.editable !== "true" || td.querySelector(".cell-editor")) { return; }
    var url = cellURL(td);
    if (!url) { return; }
    activate(td, false);
    state.pendingFocus = "editor";
    state.typed = initial || "";
    state.replace = !!initial;
    htmx.ajax("GET", url, { source: td, target: td.closest("tr"), swap: "outerHTML" });
  }

  function openPanel(td) {
    var tr = td.closest("tr");
    var panel = document.getElementById("record-panel");
    if (!panel || !tr || !tr.dataset.panelUrl) { return; }
    // The response is the whole <aside id="record-panel">, as the panel's
    // own buttons expect: it replaces the placeholder rather than nesting
    // a second panel (and a second #record-panel) inside it.
    htmx.ajax("GET", tr.dataset.panelUrl, { target: panel, swap: "outerHTML" });
  }

  // followPanel shows a newer version of the panel's record, arrived in
  // the grid (an edit there, a live update), unless the person has typed in
  // the panel: then its Save merges with what changed meanwhile.
  function followPanel(tr) {
    var panel = document.getElementById("record-panel");
    if (!panel || panel.hidden || panel.dataset.recordId !== tr.dataset.recordId || !tr.dataset.panelUrl) { return; }
    if (Number(tr.dataset.version) <= Number(panel.dataset.version)) { return; }
    var form = panel.querySelector('form[data-testid="panel-form"]');
    if (form && form.dataset.dirty) { return; }
    // A request of the panel's own (save, accept) brings the new version.
    if (panel.classList.contains("htmx-request") || panel.querySelector(".htmx-request")) { return; }
    htmx.ajax("GET", tr.dataset.panelUrl, { target: panel, swap: "outerHTML" });
  }

  // Typing in the panel marks its form, so live updates leave it alone.
  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) { return; }
    var form = t.closest('#record-panel form[data-testid="panel-form"]');
    if (form) { form.dataset.dirty = "1"; }
  });

  function closePanel() {
    var panel = document.getElementById("record-panel");
    if (!panel || panel.hidden) { return false; }
    panel.hidden = true;
    panel.innerHTML = "";
    return true;
  }

  // ---- Editing ---------------------------------------------------------

  // submitEdit saves the editor's form; the response replaces the row.
  function submitEdit(form, focusAfter, tab) {
    if (!form || form.dataset.done) { return; }
    form.dataset.done = "1";
    state.pendingFocus = focusAfter ? "cell" : null;
    state.tab = tab || 0;
    htmx.trigger(form, "submit");
  }

  // cancelEdit leaves the editor without saving: the row is fetched again,
  // so it also shows anything that changed meanwhile.
  function cancelEdit(form) {
    if (!form || form.dataset.done) { return; }
    form.dataset.done = "1";
    var tr = form.closest("tr");
    state.pendingFocus = "cell";
    htmx.ajax("GET", tr.dataset.panelUrl + "/row", { target: tr, swap: "outerHTML" });
  }

  function editorKey(ev, input) {
    var form = input.closest("form");
    switch (ev.key) {
      case "Escape":
        ev.preventDefault();
        cancelEdit(form);
        break;
      case "Enter":
        if (input.tagName === "TEXTAREA" && !(ev.ctrlKey || ev.metaKey)) { return; }
        ev.preventDefault();
        submitEdit(form, true, 0);
        break;
      case "Tab":
        ev.preventDefault();
        submitEdit(form, true, ev.shiftKey ? -1 : 1);
        break;
    }
  }

  // ---- Events ----------------------------------------------------------

  // ---- Bars above the grid ------------------------------------------------

  // showBulk shows or hides the bulk toolbar, which otherwise keeps the
  // grid's first rows off the first screen.
  function showBulk(open) {
    var panel = document.getElementById("bulk-panel");
    var toggle = document.querySelector('[data-testid="bulk-toggle"]');
    if (!panel) { return; }
    panel.hidden = !open;
    if (toggle) { toggle.setAttribute("aria-expanded", open ? "true" : "false"); }
  }

  // Ticking a row's box shows the bulk toolbar that acts on it.
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t instanceof HTMLInputElement && t.classList.contains("select-record") && t.checked) { showBulk(true); }
  });

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) { return; }
    // The columns menu lies over the grid: a click elsewhere closes it.
    document.querySelectorAll("details.columns-menu[open]").forEach(function (d) {
      if (!d.contains(t)) { d.open = false; }
    });
    if (t.closest('[data-testid="bulk-toggle"]')) {
      var panel = document.getElementById("bulk-panel");
      showBulk(!!panel && panel.hidden);
      return;
    }
    // The panel's × is a link back to the grid for pages without this
    // script; here it only closes the panel, keeping the grid as it is.
    if (t.closest("#record-panel [data-close-panel]") && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey) {
      ev.preventDefault();
      closePanel();
      return;
    }
    var td = t.closest("#grid-body td.cell");
    if (!td || td.dataset.editing) { return; }
    if (t.closest("button, a, input, select, textarea, label")) {
      activate(td, false);
      return;
    }
    activate(td, true);
  });

  document.addEventListener("dblclick", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element) || t.closest("button, a, input, select, textarea")) { return; }
    var td = t.closest("#grid-body td.cell");
    if (td) { startEdit(td); }
  });

  document.addEventListener("focusin", function (ev) {
    var t = ev.target;
    if (t instanceof Element && t.matches("#grid-body td.cell")) { activate(t, false); }
  });

  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) { return; }
    if (t.classList.contains("cell-editor")) {
      var closing = t.closest("form");
      if (closing && closing.dataset.done && state.pendingFocus === "cell") {
        ev.preventDefault();
        ev.stopPropagation();
        if (!ev.isComposing && state.queued.length < 200) {
          state.queued.push({ key: ev.key, code: ev.code, shiftKey: ev.shiftKey, ctrlKey: ev.ctrlKey, metaKey: ev.metaKey, altKey: ev.altKey, at: Date.now() });
        }
        return;
      }
      editorKey(ev, t);
      return;
    }
    var field = t.matches("input, textarea, select, [contenteditable]");
    if (state.pendingFocus === "editor" && !field && ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      // The editor is on its way (its cell may already be gone).
      ev.preventDefault();
      state.typed += ev.key;
      return;
    }
    if (ev.key === "Escape" && closePanel()) { return; }
    if (!t.matches("#grid-body td.cell")) { return; }
    var next = null;
    switch (ev.key) {
      case "ArrowUp": next = neighbour(t, -1, 0, false); break;
      case "ArrowDown": next = neighbour(t, 1, 0, false); break;
      case "ArrowLeft": next = neighbour(t, 0, -1, false); break;
      case "ArrowRight": next = neighbour(t, 0, 1, false); break;
      case "Tab": next = neighbour(t, 0, ev.shiftKey ? -1 : 1, true); break;
      case "Enter":
        ev.preventDefault();
        if (t.classList.contains("pin") && !ev.shiftKey) { openPanel(t); } else { startEdit(t); }
        return;
      case "F2":
        ev.preventDefault();
        startEdit(t);
        return;
      case "Escape":
        t.classList.remove("active");
        t.blur();
        state.row = null;
        return;
      default:
        return;
    }
    if (next) {
      ev.preventDefault();
      activate(next, true);
    }
  });

  // Leaving an editor saves it, unless the whole window lost focus (another
  // tab or application): then the edit stays open where it was.
  document.addEventListener("focusout", function (ev) {
    var input = ev.target;
    if (!(input instanceof Element) || !input.classList.contains("cell-editor")) { return; }
    var td = input.closest("td");
    if (ev.relatedTarget && td && td.contains(ev.relatedTarget)) { return; }
    if (!document.hasFocus()) { return; }
    var form = input.closest("form");
    setTimeout(function () {
      if (!document.hasFocus() || !form.isConnected) { return; }
      if (td.contains(document.activeElement)) { return; }
      submitEdit(form, false, 0);
    }, 0);
  });

  // Plain forms (filter, columns, tabs) navigate away: live reloads wait.
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (f instanceof HTMLFormElement && !f.hasAttribute("hx-post") && !f.hasAttribute("hx-put") && !ev.defaultPrevented) {
      state.navigating = true;
    }
  });

  // ---- Rows coming back --------------------------------------------------

  document.addEventListener("htmx:load", function (ev) {
    var el = ev.target;
    if (el instanceof Element && el.matches("#grid-body tr[data-record-id]")) { rowLoaded(el); }
  });

  function rowLoaded(tr) {
    var id = tr.dataset.recordId;
    // A row may arrive twice (an htmx response and its live update). An id
    // selector finds it without walking the page (Chromium looks ids up
    // in its map, and walks only when an id is there twice), which a page
    // of 100 rows arriving together needs.
    document.querySelectorAll("#" + CSS.escape("rec-" + id)).forEach(function (other) {
      if (other !== tr) { other.remove(); }
    });
    // A grid that loads pages has rows already: no "No records" to remove.
    if (!paging.swapping) {
      document.querySelectorAll("#grid-body tr.grid-empty").forEach(function (e) { e.remove(); });
    }

    var editor = tr.querySelector(".cell-editor");
    if (editor) {
      // A save refused (its editor back, with the reason): what was typed
      // after it was meant for the rows after it, not for this editor.
      if (state.row === id) { state.queued = []; }
      if (state.pendingFocus === "editor" || state.row === id) {
        state.pendingFocus = null;
        var td = editor.closest("td");
        state.row = id;
        state.col = td.dataset.columnId;
        editor.focus();
        if (state.typed && "value" in editor && editor.tagName !== "SELECT") {
          editor.value = state.replace ? state.typed : editor.value + state.typed;
        }
        state.typed = "";
        state.replace = false;
        if (typeof editor.setSelectionRange === "function" && /^(text|search|url|email)?$/.test(editor.type || "")) {
          var n = editor.value.length;
          try { editor.setSelectionRange(n, n); } catch (e) { /* not a text field */ }
        }
      }
      return;
    }
    if (!paging.swapping) { followPanel(tr); }
    // A page loaded again while scrolling leaves the active cell be: focusing
    // it would scroll the grid back to it. It only shows as active again.
    if (state.row === id && paging.swapping) {
      var again = findCell(id, state.col);
      if (again) { again.classList.add("active"); }
    } else if (state.row === id) {
      var cell = findCell(id, state.col);
      if (cell && state.tab) {
        cell = neighbour(cell, 0, state.tab, true) || cell;
      }
      var focus = state.pendingFocus === "cell" || state.refocus;
      state.tab = 0;
      // An editor asked for meanwhile is still on its way.
      if (state.pendingFocus !== "editor") { state.pendingFocus = null; }
      state.refocus = false;
      if (cell) { activate(cell, focus); }
      replayQueued();
    }
    afterEditorClosed();
  }

  // replayQueued sends the keys queued while a saved row was on its way to
  // the element that has the focus now (the row's cell), in order, as if
  // they were pressed there. Keys older than a few seconds (a save whose
  // row never came back) are dropped.
  function replayQueued() {
    var keys = state.queued;
    state.queued = [];
    keys.forEach(function (k) {
      if (Date.now() - k.at > 5000) { return; }
      var to = document.activeElement && document.activeElement !== document.body ? document.activeElement : null;
      if (!to) { return; }
      to.dispatchEvent(new KeyboardEvent("keydown", {
        key: k.key, code: k.code, shiftKey: k.shiftKey, ctrlKey: k.ctrlKey, metaKey: k.metaKey, altKey: k.altKey,
        bubbles: true, cancelable: true
      }));
    });
  }

  // Work postponed while an editor was open.
  function afterEditorClosed() {
    // Rows arrive fifty or a hundred at a time: look for an editor only when
    // something waits for it to close.
    if (!state.reloadPending && !state.refreshPending) { return; }
    if (openEditor()) { return; }
    if (state.reloadPending) {
      state.reloadPending = false;
      reloadPage();
      return;
    }
    if (state.refreshPending) {
      state.refreshPending = false;
      refreshGrid();
    }
  }

  function refreshGrid() {
    var tb = body();
    if (!tb) { return; }
    if (paging.above.length || markers().length > 1) {
      refreshPages();
      return;
    }
    htmx.ajax("GET", tb.getAttribute("hx-get"), { target: tb, swap: "innerHTML" });
  }

  function reloadPage() {
    if (!state.navigating) { window.location.reload(); }
  }

  // A bulk change reloads the grid's rows, but not over an open editor.
  // A grid scrolled past its first page reloads the pages it holds in
  // place (refreshPages) rather than going back to the first page.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var tb = body();
    if (!tb || !ev.detail || ev.detail.elt !== tb) { return; }
    if (openEditor()) {
      ev.preventDefault();
      state.refreshPending = true;
      return;
    }
    if (paging.above.length || markers().length > 1) {
      ev.preventDefault();
      refreshPages();
    }
  });

  // ---- Live updates --------------------------------------------------------

  document.addEventListener("htmx:sseBeforeMessage", function (ev) {
    var elt = ev.target;
    if (!(elt instanceof Element)) { return; }
    var data = ev.detail && ev.detail.data;
    if (elt.id === "grid-new-rows") {
      ev.preventDefault();
      insertNewRows(data);
      return;
    }
    if (elt.id === "grid-changed-rows") {
      ev.preventDefault();
      replaceRows(data);
      return;
    }
    if (elt.id === "grid-table-changed") {
      ev.preventDefault();
      if (openEditor()) { state.reloadPending = true; } else { reloadPage(); }
      return;
    }
    if (elt.tagName !== "TR") { return; }
    if (state.pendingFocus === "editor" && elt.dataset.recordId === state.row) {
      // The row's editor is on its way, aimed at this row: swapping the
      // row now would leave the editor nowhere to go (and the keys typed
      // meanwhile with it). The editor's version check covers the update.
      ev.preventDefault();
      return;
    }
    var editor = elt.querySelector(".cell-editor");
    if (editor) {
      // Never swap away an edit in progress.
      ev.preventDefault();
      staleWhileEditing(elt, editor, data);
      return;
    }
    state.refocus = elt.contains(document.activeElement);
  });

  function parseRows(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html || "";
    return Array.prototype.slice.call(tpl.content.querySelectorAll("tr[data-record-id]"));
  }

  // staleWhileEditing handles a live update of the row being edited. When
  // the update left the edited cell as it was, the edit is moved onto the
  // new version (saving it changes only this cell, so nothing is
  // overwritten). When the cell itself changed, the editor keeps its old
  // version: saving then shows the conflict with the current value.
  function staleWhileEditing(tr, editor, html) {
    tr.dataset.stale = "true";
    var incoming = parseRows(html)[0];
    var td = editor.closest("td");
    var form = editor.closest("form");
    if (!incoming || !td || !form) { return; }
    var inCell = incoming.querySelector('td[data-column-id="' + CSS.escape(td.dataset.columnId) + '"]');
    var version = form.querySelector('input[name="version"]');
    if (inCell && inCell.dataset.hash === td.dataset.hash && incoming.dataset.version && version) {
      version.value = incoming.dataset.version;
      tr.dataset.version = incoming.dataset.version;
      return;
    }
    if (!td.querySelector("[data-testid='changed-meanwhile']")) {
      var note = document.createElement("span");
      note.className = "cell-error conflict";
      note.setAttribute("data-testid", "changed-meanwhile");
      note.textContent = "Someone changed this cell meanwhile. Saving will show their value; Esc shows it now.";
      form.appendChild(note);
    }
  }

  // replaceRows swaps in the rows of a change to many records, sent in one
  // message: each row the grid holds is replaced as its own live update
  // would replace it, and rows it does not hold are left for their pages.
  function replaceRows(html) {
    parseRows(html).concat(parseRemoved(html)).forEach(function (tr) {
      var old = document.getElementById(tr.id);
      if (!old || !old.closest("#grid-body")) { return; }
      var editor = old.querySelector(".cell-editor");
      if (editor) {
        staleWhileEditing(old, editor, tr.outerHTML);
        return;
      }
      state.refocus = old.contains(document.activeElement);
      old.replaceWith(tr);
      htmx.process(tr);
      if (tr.dataset.recordId) { rowLoaded(tr); }
    });
  }

  function parseRemoved(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html || "";
    return Array.prototype.slice.call(tpl.content.querySelectorAll("tr.removed"));
  }

  // insertNewRows adds rows created elsewhere when the grid shows its last
  // page; otherwise they arrive with the pages still to load.
  function insertNewRows(html) {
    var tb = body();
    if (!tb || tb.querySelector(".grid-sentinel")) { return; }
    parseRows(html).forEach(function (tr) {
      if (document.getElementById(tr.id)) { return; }
      tb.appendChild(tr);
      htmx.process(tr);
      tb.querySelectorAll("tr.grid-empty").forEach(function (e) { e.remove(); });
    });
  }

  // The add record form closes, emptied, once its record is added.
  document.addEventListener("htmx:afterRequest", function (ev) {
    var form = ev.detail && ev.detail.elt;
    if (!ev.detail.successful || !form || !form.matches || !form.matches(".add-record-menu form")) { return; }
    form.reset();
    form.closest("details").open = false;
  });

  // ---- Paging ---------------------------------------------------------------
  // The grid holds at most about MAX_ROWS rendered rows at any depth. Rows
  // arrive a page at a time, each page after a hidden marker row that keeps
  // the address it came from. Pages far above the grid's visible part are
  // unloaded into the spacer's height and fetched again from their address
  // when the spacer comes near; pages far below are unloaded and the
  // sentinel points at the first of them again. Loading is driven by an
  // IntersectionObserver whose root is the grid's own scroll box.
  //
  // Reading geometry right after rows change makes the browser lay out the
  // whole table there and then, and again for the frame once the unloaded
  // rows are gone: with 400 rows of 20 columns that was most of a page's
  // time to appear. So what paging decides on is measured once the
  // browser has laid the grid out anyway (measure, after a frame), and a
  // page that arrives is swapped in and the far pages unloaded in the same
  // task, from those figures, without asking for layout.
  var MAX_ROWS = 200;
  var NEAR = 800; // px beyond the visible part where pages load and stay
  var paging = {
    above: [], busy: false, swapping: false, observer: null, retry: 0, refreshAgain: false,
    // The grid's visible part, in px of its scroll box's content, as last
    // measured; null before the first measure.
    view: null,
    measureQueued: false
  };

  function wrap() { return document.getElementById("grid-wrap"); }
  function sentinel() { return document.querySelector("#grid-body > tr.grid-sentinel"); }
  function spacer() { return document.querySelector("#grid-body > tr.grid-spacer"); }
  // The grid body's own rows, without a walk of every cell.
  function bodyRows(match) {
    var tb = body();
    var out = [];
    if (!tb) { return out; }
    for (var el = tb.firstElementChild; el; el = el.nextElementSibling) {
      if (match(el)) { out.push(el); }
    }
    return out;
  }
  function markers() { return bodyRows(function (el) { return el.classList.contains("grid-page-mark"); }); }
  function recordCount() { return bodyRows(function (el) { return el.hasAttribute("data-record-id"); }).length; }

  function makeMarker(url) {
    var tr = document.createElement("tr");
    tr.className = "grid-page-mark";
    tr.hidden = true;
    tr.dataset.url = url;
    return tr;
  }

  // pageRows are the rows of the page that starts at marker.
  function pageRows(marker) {
    var out = [];
    for (var el = marker.nextElementSibling; el && !el.matches(".grid-page-mark, .grid-sentinel"); el = el.nextElementSibling) {
      out.push(el);
    }
    return out;
  }

  // removeRows removes the rows from first to last (siblings) in one
  // change of the table, rather than one change per row. Each row's live
  // update listener goes with it: htmx's SSE extension drops a removed
  // row's listener only when that record's next event comes, and until
  // then the listener keeps the row, so a long scroll would keep every row
  // it passed. (The listener and the stream are in htmx's data on the
  // elements, "htmx-internal-data", as in the vendored htmx 2.)
  function removeRows(first, last) {
    var host = document.querySelector(".grid-page[sse-connect]");
    var source = host && host["htmx-internal-data"] && host["htmx-internal-data"].sseEventSource;
    for (var el = first; source && el; el = el.nextElementSibling) {
      var live = el["htmx-internal-data"] && el["htmx-internal-data"].sseEventListener;
      if (live) { source.removeEventListener(el.getAttribute("sse-swap"), live); }
      if (el === last) { break; }
    }
    var r = document.createRange();
    r.setStartBefore(first);
    r.setEndAfter(last);
    r.deleteContents();
  }

  function rowsHeight(els) {
    return els.reduce(function (h, el) { return h + el.getBoundingClientRect().height; }, 0);
  }

  function holdsEdit(els) {
    return els.some(function (el) { return el.querySelector(".cell-editor"); });
  }

  // measureSoon measures the grid once the browser has laid it out for the
  // next frame, when reading its geometry costs nothing.
  function measureSoon() {
    if (paging.measureQueued) { return; }
    paging.measureQueued = true;
    requestAnimationFrame(function () {
      setTimeout(function () {
        paging.measureQueued = false;
        measure();
      }, 0);
    });
  }

  // measure notes the visible part and where each page's rows start and
  // end (on its marker, as a property: writing attributes would ask for
  // style again), then unloads what has become
  // too far. A page loaded into the spacer's place took the height it had
  // when it was unloaded; if its rows are now taller or shorter, the
  // scroll position moves by the difference, so the visible rows stay.
  function measure() {
    var w = wrap();
    if (!w) { return; }
    var box = w.getBoundingClientRect();
    var origin = box.top + w.clientTop - w.scrollTop;
    paging.view = { top: w.scrollTop, bottom: w.scrollTop + w.clientHeight };
    var shift = 0;
    markers().forEach(function (m) {
      var page = pageRows(m);
      if (!page.length) {
        m.pagingGeo = null;
        return;
      }
      var top = page[0].getBoundingClientRect().top - origin;
      var bottom = page[page.length - 1].getBoundingClientRect().bottom - origin;
      if (m.pagingExpect) {
        var diff = bottom - top - m.pagingExpect;
        m.pagingExpect = 0;
        if (Math.abs(diff) >= 0.5 && bottom <= paging.view.top) { shift += diff; }
      }
      m.pagingGeo = { top: top, bottom: bottom };
    });
    if (shift) {
      // Everything measured below the page moved with it, and so does the
      // view: measure again after this frame.
      w.scrollTop += shift;
      measureSoon();
      return;
    }
    if (!paging.busy && recordCount() > MAX_ROWS) {
      unloadAbove();
      unloadBelow();
    }
  }

  // geometry is a page's measured place, or null when it has not been
  // measured since it arrived.
  function geometry(marker) { return marker.pagingGeo || null; }

  // setSpacer makes the spacer as tall as the pages unloaded above.
  function setSpacer() {
    var tb = body();
    var sp = spacer();
    if (!paging.above.length) {
      if (sp) { sp.remove(); }
      return;
    }
    if (!sp) {
      sp = document.createElement("tr");
      sp.className = "grid-spacer";
      sp.setAttribute("aria-hidden", "true");
      var td = document.createElement("td");
      td.colSpan = document.querySelectorAll("#grid-wrap thead th").length || 1;
      sp.appendChild(td);
      var first = markers()[0];
      tb.insertBefore(sp, first || tb.firstChild);
    }
    var h = paging.above.reduce(function (sum, page) { return sum + page.height; }, 0);
    sp.firstElementChild.style.height = h + "px";
  }

  // unloadAbove drops the first pages while the grid holds too many rows
  // and they lie wholly above the visible part (as last measured). The
  // spacer grows by their measured height in the same task, so nothing
  // below them moves and the browser lays the grid out once.
  function unloadAbove() {
    if (!paging.view) { return; }
    var limit = paging.view.top - NEAR;
    while (recordCount() > MAX_ROWS) {
      var ms = markers();
      if (ms.length < 2) { return; }
      var g = geometry(ms[0]);
      var page = pageRows(ms[0]);
      if (!g || g.bottom > limit || holdsEdit(page)) { return; }
      paging.above.push({ url: ms[0].dataset.url, height: g.bottom - g.top });
      setSpacer();
      removeRows(ms[0], page.length ? page[page.length - 1] : ms[0]);
    }
  }

  // unloadBelow drops the last pages while the grid holds too many rows and
  // they lie wholly below the visible part (as last measured); the
  // sentinel then loads the first of them again.
  function unloadBelow() {
    if (!paging.view) { return; }
    var limit = paging.view.bottom + NEAR;
    while (recordCount() > MAX_ROWS) {
      var ms = markers();
      if (ms.length < 2) { return; }
      var mark = ms[ms.length - 1];
      var g = geometry(mark);
      var page = pageRows(mark);
      if (!page.length || !g || g.top < limit || holdsEdit(page)) { return; }
      var s = sentinel();
      if (!s) {
        s = document.createElement("tr");
        s.className = "grid-sentinel";
        s.setAttribute("data-testid", "grid-sentinel");
        var td = document.createElement("td");
        td.colSpan = document.querySelectorAll("#grid-wrap thead th").length || 1;
        td.className = "muted";
        td.textContent = "Loading more records…";
        s.appendChild(td);
        body().appendChild(s);
      }
      s.setAttribute("hx-get", mark.dataset.url);
      removeRows(mark, page[page.length - 1]);
    }
  }

  // loaded ends a page load: unload what is too far, and look again, since
  // the observer reports only changes.
  function loaded(ok, unload) {
    paging.busy = false;
    if (!ok) {
      paging.retry = Math.min((paging.retry || 500) * 2, 30000);
      setTimeout(watch, paging.retry);
      return;
    }
    paging.retry = 0;
    unload();
    measureSoon();
    watch();
  }

  // A page's rows need no settling (htmx's default waits 20 ms before it
  // calls them loaded, and so before they are painted).
  var PAGE_SWAP = " settle:0ms";

  function loadNext() {
    var s = sentinel();
    var url = s && s.getAttribute("hx-get");
    if (!url || paging.busy) { return; }
    paging.busy = true;
    var mark = makeMarker(url);
    s.parentNode.insertBefore(mark, s);
    htmx.ajax("GET", url, { source: s, target: s, swap: "outerHTML" + PAGE_SWAP }).then(function () {
      var ok = !s.isConnected;
      if (!ok) { mark.remove(); }
      loaded(ok, unloadAbove);
    }, function () {
      mark.remove();
      loaded(false);
    });
  }

  function loadPrev() {
    var sp = spacer();
    if (!sp || paging.busy || !paging.above.length) { return; }
    paging.busy = true;
    var page = paging.above[paging.above.length - 1];
    var mark = makeMarker(page.url);
    sp.after(mark);
    htmx.ajax("GET", page.url, { source: mark, target: mark, swap: "afterend" + PAGE_SWAP, select: "tr[data-record-id]" }).then(function () {
      var rows = pageRows(mark);
      if (!rows.length) {
        mark.remove();
        loaded(false);
        return;
      }
      // What came in takes its share of the spacer, as tall as it was
      // when it went: the visible rows stay where they were. measure
      // corrects the scroll position if its rows changed height meanwhile.
      paging.above.pop();
      setSpacer();
      mark.pagingExpect = page.height;
      loaded(true, unloadBelow);
    }, function () {
      mark.remove();
      loaded(false);
    });
  }

  // refreshPages fetches each page the grid holds again from its address,
  // one after the other, and puts its rows in place of the page's old ones.
  // A refresh asked for meanwhile runs once this one ends.
  function refreshPages() {
    if (paging.busy) {
      paging.refreshAgain = true;
      return;
    }
    paging.busy = true;
    paging.refreshing = true;
    var pages = markers();
    var w = wrap();
    var next = function (i) {
      if (i >= pages.length) {
        paging.busy = false;
        paging.refreshing = false;
        if (paging.refreshAgain) {
          paging.refreshAgain = false;
          refreshPages();
          return;
        }
        watch();
        return;
      }
      var mark = pages[i];
      if (!mark.isConnected) { next(i + 1); return; }
      var old = pageRows(mark).filter(function (el) { return !el.querySelector(".cell-editor"); });
      var oldHeight = rowsHeight(old);
      var above = old.length && old[old.length - 1].getBoundingClientRect().bottom < w.getBoundingClientRect().top;
      htmx.ajax("GET", mark.dataset.url, { source: mark, target: mark, swap: "afterend", select: "tr[data-record-id]" }).then(function () {
        // rowLoaded already removed old rows of records that came again;
        // what is left of the old page is no longer in it.
        old.forEach(function (el) { if (el.isConnected) { el.remove(); } });
        if (above) { w.scrollTop += rowsHeight(pageRows(mark)) - oldHeight; }
        next(i + 1);
      }, function () { next(i + 1); });
    };
    next(0);
  }

  function watch() {
    var w = wrap();
    if (!w || !("IntersectionObserver" in window)) { return; }
    if (!w.dataset.pagingMeasures) {
      // What paging decides on follows the grid's scrolling and resizing.
      w.dataset.pagingMeasures = "1";
      w.addEventListener("scroll", measureSoon, { passive: true });
      window.addEventListener("resize", measureSoon);
    }
    if (paging.observer) { paging.observer.disconnect(); }
    paging.observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) { return; }
        if (e.target.classList.contains("grid-sentinel")) { loadNext(); } else if (e.target.classList.contains("grid-spacer")) { loadPrev(); }
      });
    }, { root: w, rootMargin: NEAR + "px 0px" });
    var s = sentinel();
    var sp = spacer();
    if (s) { paging.observer.observe(s); }
    if (sp) { paging.observer.observe(sp); }
  }

  // resetPaging starts over with the first page, as rendered or as the
  // grid's refresh brought it.
  function resetPaging() {
    var tb = body();
    if (!tb) { return; }
    paging.above = [];
    var first = tb.querySelector("tr[data-record-id]");
    var mark = makeMarker(tb.getAttribute("hx-get") || "");
    tb.insertBefore(mark, first || tb.firstChild);
    measureSoon();
    watch();
  }

  // paging.swapping holds while a page's rows are swapped in and called
  // loaded (rowLoaded), which comes after htmx:afterSwap: it ends with the
  // request.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var t = ev.detail && ev.detail.target;
    // A refresh (refreshPages) brings changed rows: they are loaded as any
    // other change, so that an open panel follows them.
    if (t instanceof Element && !paging.refreshing && t.matches("#grid-body > .grid-sentinel, #grid-body > .grid-page-mark")) {
      paging.swapping = true;
      paging.swapTarget = t;
    }
  });
  document.addEventListener("htmx:afterRequest", function () {
    paging.swapping = false;
    paging.swapTarget = null;
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    var t = ev.detail && ev.detail.target;
    if (t !== paging.swapTarget) { paging.swapping = false; }
    if (t && t === body()) {
      resetPaging();
    } else if (t instanceof Element && t.closest("#grid-body")) {
      // A row edited or reloaded may have changed height.
      measureSoon();
    }
  });

  resetPaging();

  // What static/grid_keys.js (range selection, clipboard, undo) builds on.
  window.scratchpadGrid = {
    state: state, rows: rows, cellsOf: cellsOf, findCell: findCell, activate: activate,
    neighbour: neighbour, startEdit: startEdit, replaceRows: replaceRows, openEditor: openEditor
  };

  // The record panel opens when content arrives in it.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var t = ev.detail && ev.detail.target;
    if (t && t.id === "record-panel") { t.hidden = t.innerHTML.trim() === ""; }
  });
})();
