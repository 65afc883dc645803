// Scratchpad — the agent's chat panel beside the grid. The server renders
// the panel (views/chat.templ); this file opens and closes it, adds the
// grid's selection (the scope) and the mentions to a message, runs the slash
// commands, offers mention autocomplete, and shows what the agent streams
// over the workbook's event stream until its turn ends, when the panel is
// loaded again from the server.
(function () {
  "use strict";

  var panel = document.getElementById("chat-panel");
  var toggle = document.querySelector('[data-testid="chat-toggle"]');
  if (!window.htmx || !panel || !toggle) { return; }
  var htmx = window.htmx;
  var page = document.querySelector(".grid-page");
  var wbID = page ? page.dataset.workbookId : "";
  var store = window.sessionStorage;
  var openKey = "chat-open:" + wbID;
  var sessionKey = "chat-session:" + wbID;

  // What outlives the panel's swaps: what was typed, the mentions in it,
  // the tools switched off, and whether a send just succeeded.
  var state = { mentions: [], toolsOff: {}, draft: null, sent: false, dismissed: {}, context: null };

  function body() { return document.getElementById("chat-body"); }
  function content() { return document.getElementById("chat-content"); }
  function input() { return document.getElementById("chat-input"); }
  function list() { return document.getElementById("chat-mentions"); }

  // ---- Opening and closing -------------------------------------------------

  function load(url) {
    return htmx.ajax("GET", url, { target: body(), swap: "innerHTML" });
  }

  function open(focus) {
    panel.hidden = false;
    document.body.classList.add("chat-open");
    toggle.setAttribute("aria-expanded", "true");
    try { store.setItem(openKey, "1"); } catch (e) { /* private mode */ }
    var done = function () { if (focus && input()) { input().focus(); } };
    if (!content()) {
      var url = panel.dataset.url;
      var s = null;
      try { s = store.getItem(sessionKey); } catch (e) { /* private mode */ }
      if (s) { url += "&s=" + encodeURIComponent(s); }
      load(url).then(done);
    } else {
      done();
    }
    renderScope();
  }

  function close() {
    panel.hidden = true;
    document.body.classList.remove("chat-open");
    toggle.setAttribute("aria-expanded", "false");
    try { store.removeItem(openKey); } catch (e) { /* private mode */ }
    toggle.focus();
  }

  toggle.addEventListener("click", function () {
    if (panel.hidden) { open(true); } else { close(); }
  });
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    var typing = t instanceof Element && (t.closest("input, textarea, select, [contenteditable]") !== null);
    // Alt+A, except where it types a character (Option+A on a Mac).
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && !typing && ev.code === "KeyA") {
      ev.preventDefault();
      if (panel.hidden) { open(true); } else { close(); }
      return;
    }
    if (ev.key === "Escape" && !panel.hidden && panel.contains(document.activeElement) && !mentionsOpen()) {
      var det = document.activeElement.closest("details[open]");
      if (det) { det.open = false; det.querySelector("summary").focus(); return; }
      close();
    }
  });
  panel.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-chat-close]")) { close(); }
  });

  // ---- The scope: what the grid has selected --------------------------------

  function gridScope() {
    var ids = [];
    document.querySelectorAll("#grid-body input.select-record:checked").forEach(function (cb) {
      var tr = cb.closest("tr[data-record-id]");
      if (tr) { ids.push(tr.dataset.recordId); }
    });
    var sc = { records: ids, field: null };
    var td = document.querySelector("#grid-body td.cell.active");
    if (!ids.length && td) {
      var tr = td.closest("tr[data-record-id]");
      sc.field = {
        record: tr ? tr.dataset.recordId : "",
        column: td.dataset.columnId,
        name: td.dataset.column || "",
        title: cellText(tr && tr.querySelector("td.cell.pin"))
      };
    }
    return sc;
  }

  // cellText is what a cell shows as its value: without the buttons and
  // the suggested text of a diff.
  function cellText(td) {
    if (!td) { return ""; }
    var c = td.cloneNode(true);
    c.querySelectorAll("button, ins, input, .cell-actions").forEach(function (el) { el.remove(); });
    var t = c.textContent.replace(/\s+/g, " ").trim();
    return t.length > 40 ? t.slice(0, 39) + "…" : t;
  }

  function scopeKey(sc) {
    return sc.records.join(",") + "|" + (sc.field ? sc.field.record + ":" + sc.field.column : "");
  }

  function badge(text, kind, removable) {
    var b = document.createElement("span");
    b.className = "chat-badge";
    b.dataset.kind = kind;
    b.setAttribute("data-testid", "chat-scope-" + kind);
    var t = document.createElement("span");
    t.textContent = text;
    b.appendChild(t);
    if (removable) {
      var x = document.createElement("button");
      x.type = "button";
      x.className = "chat-badge-x";
      x.setAttribute("aria-label", "Leave out: " + text);
      x.dataset.dropScope = kind;
      x.textContent = "×";
      b.appendChild(x);
    }
    return b;
  }

  // currentScope is the scope a message goes with: the grid's selection,
  // less what the person dropped from it.
  function currentScope() {
    var sc = gridScope();
    var key = scopeKey(sc);
    if (state.dismissed.key !== key) { state.dismissed = { key: key }; }
    if (state.dismissed.records) { sc.records = []; }
    if (state.dismissed.field) { sc.field = null; }
    return sc;
  }

  function renderScope() {
    var box = document.querySelector(".chat-scope");
    if (!box) { return; }
    var sc = currentScope();
    box.textContent = "";
    var filter = panel.dataset.filter;
    box.appendChild(badge(filter ? "Table, filtered: " + filter : "Whole table", "table", false));
    if (sc.records.length) {
      box.appendChild(badge(sc.records.length + (sc.records.length === 1 ? " selected record" : " selected records"), "records", true));
    } else if (sc.field) {
      box.appendChild(badge("Field " + sc.field.name + (sc.field.title ? " of “" + sc.field.title + "”" : ""), "field", true));
    }
  }

  document.addEventListener("click", function (ev) {
    var x = ev.target.closest && ev.target.closest("[data-drop-scope]");
    if (x) {
      state.dismissed[x.dataset.dropScope === "records" ? "records" : "field"] = true;
      renderScope();
      if (input()) { input().focus(); }
    }
  });
  ["change", "focusin", "click"].forEach(function (type) {
    document.addEventListener(type, function (ev) {
      if (panel.hidden || !(ev.target instanceof Element) || !ev.target.closest("#grid-body")) { return; }
      // After grid.js has moved the active cell.
      setTimeout(renderScope, 0);
    });
  });

  // ---- Sending: scope, mentions, model and tools go with the message -------

  function mentioned(text) {
    var out = { assets: [], records: [], columns: [] };
    state.mentions.forEach(function (m) {
      var sigil = m.kind === "asset" ? "@" : m.kind === "record" ? "#" : "$";
      if (text.indexOf(sigil + m.label) < 0) { return; }
      if (m.kind === "asset") { out.assets.push(m.id); }
      if (m.kind === "record") { out.records.push(m.id); }
      if (m.kind === "column") { out.columns.push(m.label); }
    });
    return out;
  }

  document.addEventListener("htmx:configRequest", function (ev) {
    var form = ev.detail.elt;
    if (!(form instanceof HTMLFormElement) || !form.matches(".chat-composer")) { return; }
    var p = ev.detail.parameters;
    var text = (input() && input().value) || "";
    var sc = currentScope();
    var m = mentioned(text);
    var set = function (k, v) {
      if (p instanceof FormData) { p.delete(k); [].concat(v).forEach(function (x) { p.append(k, x); }); } else { p[k] = v; }
    };
    set("scope", panel.dataset.tableId);
    if (panel.dataset.filter) { set("filter", panel.dataset.filter); }
    var records = sc.records.slice();
    if (sc.field) {
      records.unshift(sc.field.record);
      set("field", sc.field.name || sc.field.column);
    }
    m.records.forEach(function (id) { if (records.indexOf(id) < 0) { records.push(id); } });
    if (records.length) { set("record_ids", records.slice(0, 100)); }
    if (m.assets.length) { set("assets", m.assets); }
    if (m.columns.length) { set("columns", m.columns); }
    state.sent = true;
  });

  function remember() {
    var i = input();
    state.draft = i ? i.value : null;
    document.querySelectorAll('.chat-tools input[name="tools"]').forEach(function (cb) {
      state.toolsOff[cb.value] = !cb.checked;
    });
  }

  document.addEventListener("htmx:beforeSwap", function (ev) {
    if (ev.detail.target !== body()) { return; }
    remember();
    var xhr = ev.detail.xhr;
    if (state.sent && xhr && xhr.status < 300) {
      // The message went: the composer starts empty.
      state.draft = "";
      state.mentions = [];
    }
    state.sent = false;
  });

  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target !== body()) { return; }
    var c = content();
    if (!c) { return; }
    try {
      if (c.dataset.sessionId) { store.setItem(sessionKey, c.dataset.sessionId); } else { store.removeItem(sessionKey); }
    } catch (e) { /* private mode */ }
    var i = input();
    if (i && state.draft && !i.value) { i.value = state.draft; }
    state.draft = null;
    var saved = null;
    try { saved = window.localStorage.getItem("chat-model"); } catch (e) { /* private mode */ }
    var sel = document.getElementById("chat-model");
    if (sel && saved && sel.querySelector('option[value="' + CSS.escape(saved) + '"]')) { sel.value = saved; }
    document.querySelectorAll('.chat-tools input[name="tools"]').forEach(function (cb) {
      if (state.toolsOff[cb.value]) { cb.checked = false; }
    });
    showContext();
    renderScope();
    scrollDown();
    // Focus goes back to the message box when the swap took it from the
    // panel, never away from the grid (a turn that ends while the person
    // edits a cell).
    var ae = document.activeElement;
    if (i && !panel.hidden && (!ae || ae === document.body || panel.contains(ae))) { i.focus(); }
  });

  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.id === "chat-model") {
      try { window.localStorage.setItem("chat-model", ev.target.value); } catch (e) { /* private mode */ }
    }
  });

  function scrollDown() {
    var ms = document.querySelector(".chat-messages");
    if (ms) { ms.scrollTop = ms.scrollHeight; }
  }

  // Enter sends, Shift+Enter is a new line.
  document.addEventListener("keydown", function (ev) {
    if (ev.target !== input() || ev.key !== "Enter" || ev.shiftKey || ev.isComposing || mentionsOpen()) { return; }
    ev.preventDefault();
    var form = ev.target.closest("form");
    if (form) { form.requestSubmit(); }
  });

  // ---- Slash commands ---------------------------------------------------------

  function note(text, kind) {
    var ms = document.querySelector(".chat-messages");
    if (!ms) { return null; }
    var li = document.createElement("li");
    li.className = "chat-msg chat-system" + (kind ? " chat-" + kind : "");
    li.setAttribute("data-testid", "chat-note");
    li.setAttribute("role", "status");
    li.textContent = text;
    ms.appendChild(li);
    scrollDown();
    return li;
  }

  function decideAll(accept) {
    var li = note(accept ? "Accepting all suggestions of this table…" : "Rejecting all suggestions of this table…");
    var url = panel.dataset.tableUrl + "/suggestions/" + (accept ? "accept" : "reject");
    var target = document.createElement("div");
    if (li) { li.textContent = ""; li.appendChild(target); }
    htmx.ajax("POST", url, { source: document.body, target: target, swap: "innerHTML", values: { all: "true" } });
  }

  var commands = {
    "/new": function () { htmx.ajax("POST", content().dataset.newUrl, { target: body(), swap: "innerHTML" }); },
    "/clear": function () {
      var c = content();
      var s = c.dataset.sessionUrl;
      if (!s) { commands["/new"](); return; }
      // /clear deletes this chat (its suggestions stay) and starts an
      // empty one; /new keeps it in the history.
      if (!window.confirm("Delete this chat and start an empty one? The suggestions it made stay.")) { return; }
      htmx.ajax("DELETE", s, { target: body(), swap: "innerHTML" }).then(function () { commands["/new"](); });
    },
    "/accept-all": function () { decideAll(true); },
    "/reject-all": function () { decideAll(false); }
  };

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.matches(".chat-composer")) { return; }
    var text = (input().value || "").trim();
    if (text === "") {
      ev.preventDefault();
      ev.stopPropagation();
      return;
    }
    if (text.charAt(0) !== "/") {
      if (content() && content().dataset.running) {
        // One turn at a time: the message waits in the composer.
        ev.preventDefault();
        ev.stopPropagation();
        note("The agent is still working. Wait for it, or press Stop.", "error");
      }
      return;
    }
    var cmd = commands[text.split(/\s/)[0].toLowerCase()];
    ev.preventDefault();
    ev.stopPropagation();
    if (!cmd) {
      note("Unknown command " + text.split(/\s/)[0] + ". Commands: /new, /clear, /accept-all, /reject-all.", "error");
      return;
    }
    input().value = "";
    cmd();
  }, true);

  // ---- Mentions -----------------------------------------------------------------

  var kinds = { "@": "asset", "#": "record", "$": "column" };
  var ac = { token: null, timer: 0, seq: 0 };

  function mentionsOpen() { var l = list(); return !!(l && !l.hidden); }

  function closeMentions() {
    var l = list();
    if (l) { l.hidden = true; l.textContent = ""; }
    if (input()) {
      input().setAttribute("aria-expanded", "false");
      input().removeAttribute("aria-activedescendant");
    }
    ac.token = null;
  }

  function tokenAtCaret(el) {
    var before = el.value.slice(0, el.selectionStart);
    var m = /(^|\s)([@#$])([^\s@#$]{0,50})$/.exec(before);
    if (!m) { return null; }
    return { sigil: m[2], q: m[3], start: before.length - m[3].length - 1, end: el.selectionStart };
  }

  function options() { return Array.prototype.slice.call(list().querySelectorAll('[role="option"][data-id]')); }

  function select(i) {
    var os = options();
    if (!os.length) { return; }
    i = (i + os.length) % os.length;
    os.forEach(function (o, j) { o.setAttribute("aria-selected", j === i ? "true" : "false"); });
    input().setAttribute("aria-activedescendant", os[i].id);
    os[i].scrollIntoView({ block: "nearest" });
  }

  function selectedIndex() {
    return options().findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
  }

  function choose(opt) {
    var el = input();
    var tok = ac.token;
    if (!opt || !tok) { closeMentions(); return; }
    var label = opt.dataset.label;
    var text = tok.sigil + label + " ";
    el.value = el.value.slice(0, tok.start) + text + el.value.slice(tok.end);
    var caret = tok.start + text.length;
    el.setSelectionRange(caret, caret);
    state.mentions.push({ kind: opt.dataset.kind, id: opt.dataset.id, label: label });
    closeMentions();
    el.focus();
  }

  function lookup() {
    var el = input();
    var tok = el && tokenAtCaret(el);
    if (!tok) { closeMentions(); return; }
    ac.token = tok;
    var seq = ++ac.seq;
    var url = content().dataset.mentionsUrl + "&kind=" + kinds[tok.sigil] + "&q=" + encodeURIComponent(tok.q);
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (r) {
      return r.ok ? r.text() : "";
    }).then(function (html) {
      if (seq !== ac.seq || !ac.token) { return; }
      var l = list();
      // The server renders the choices, escaped like every fragment.
      l.innerHTML = html;
      l.hidden = false;
      el.setAttribute("aria-expanded", "true");
      select(0);
    }).catch(function () { closeMentions(); });
  }

  document.addEventListener("input", function (ev) {
    if (ev.target !== input()) { return; }
    clearTimeout(ac.timer);
    ac.timer = setTimeout(lookup, 120);
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.target !== input() || !mentionsOpen()) { return; }
    switch (ev.key) {
      case "ArrowDown": ev.preventDefault(); select(selectedIndex() + 1); break;
      case "ArrowUp": ev.preventDefault(); select(selectedIndex() - 1); break;
      case "Enter":
      case "Tab":
        if (options().length) {
          ev.preventDefault();
          choose(options()[Math.max(0, selectedIndex())]);
        } else {
          closeMentions();
        }
        break;
      case "Escape": ev.preventDefault(); ev.stopPropagation(); closeMentions(); break;
    }
  }, true);

  document.addEventListener("mousedown", function (ev) {
    var opt = ev.target.closest && ev.target.closest('#chat-mentions [role="option"][data-id]');
    if (opt) {
      ev.preventDefault();
      choose(opt);
    }
  });
  document.addEventListener("focusout", function (ev) {
    if (ev.target === input()) { setTimeout(function () { if (document.activeElement !== input()) { closeMentions(); } }, 150); }
  });

  // ---- Live: streamed text, tool activity, cost, end of turn -----------------

  function running() {
    return document.querySelector('.chat-messages li[data-status="running"]');
  }

  function streamBox() {
    var li = running();
    return li && li.querySelector(".chat-stream");
  }

  function textSpan(box) {
    var last = box.lastElementChild;
    if (last && last.classList.contains("chat-stream-text")) { return last; }
    var span = document.createElement("div");
    span.className = "chat-stream-text";
    span.setAttribute("data-testid", "chat-stream-text");
    box.appendChild(span);
    return span;
  }

  function toolPending(d) {
    var box = streamBox();
    if (!box) { return; }
    var det = box.querySelector('details[data-call-id="' + CSS.escape(d.tool_call_id || "") + '"]');
    if (!det) {
      det = document.createElement("details");
      det.className = "chat-tool";
      det.dataset.callId = d.tool_call_id || "";
      det.setAttribute("data-testid", "chat-tool");
      det.dataset.tool = d.name || "";
      var sum = document.createElement("summary");
      var nm = document.createElement("span");
      nm.className = "chat-tool-name";
      nm.textContent = d.name || "tool";
      var st = document.createElement("span");
      st.className = "badge";
      sum.appendChild(nm);
      sum.appendChild(st);
      det.appendChild(sum);
      var p = document.createElement("p");
      p.className = "small muted chat-tool-body";
      det.appendChild(p);
      box.appendChild(det);
    }
    var badgeEl = det.querySelector(".badge");
    var bodyEl = det.querySelector(".chat-tool-body");
    if (d.status === "called") {
      badgeEl.textContent = "running…";
      bodyEl.textContent = "Running. Its arguments and result show when the turn ends.";
    } else if (d.status === "error") {
      badgeEl.textContent = "error";
      badgeEl.classList.add("badge-danger");
      bodyEl.textContent = d.error || "The tool failed; the agent was told why.";
    } else {
      badgeEl.textContent = "done";
      bodyEl.textContent = "Done. Its arguments and result show when the turn ends.";
    }
    scrollDown();
  }

  function stepDone(d) {
    var c = content();
    if (!c) { return; }
    var cost = Number(c.dataset.costBefore || 0) + Number(d.cost || 0);
    var costEl = c.querySelector('[data-testid="chat-cost"]');
    if (costEl) { costEl.textContent = usd(cost); }
    var limit = Number(c.dataset.costWarning || 0);
    var warn = c.querySelector('[data-testid="chat-cost-warning"]');
    if (warn) { warn.hidden = !(limit > 0 && cost > limit); }
    // How full the context window is: the step's prompt against the
    // model's window, both as the agent reports them.
    var used = Number(d.prompt_tokens || 0);
    var total = Number(d.context_length || 0);
    if (!total) {
      var sel = document.getElementById("chat-model");
      var opt = sel && sel.selectedOptions[0];
      total = Number((opt && opt.dataset.contextLength) || c.dataset.contextLength || 0);
    }
    if (used > 0 && total > 0) {
      state.context = { session: c.dataset.sessionId, used: used, total: total };
      showContext();
    }
  }

  // showContext puts the last step's context use on the meter, also after
  // the panel is loaded again (the server knows only the turn's totals).
  function showContext() {
    var c = content();
    var ctx = state.context;
    if (!c || !ctx || ctx.session !== c.dataset.sessionId) { return; }
    var meter = c.querySelector('[data-testid="chat-context-meter"]');
    var txt = c.querySelector('[data-testid="chat-context-text"]');
    if (!meter) { return; }
    meter.max = ctx.total;
    meter.high = Math.floor(ctx.total * 0.8);
    meter.value = ctx.used;
    if (txt) { txt.textContent = shortTokens(ctx.used) + " / " + shortTokens(ctx.total); }
  }

  function usd(f) {
    if (!f) { return "$0"; }
    return f < 0.01 ? "$" + f.toFixed(4) : "$" + f.toFixed(2);
  }

  function shortTokens(n) {
    if (n >= 1e6) { return (n / 1e6) + "M"; }
    if (n >= 1000) { return Math.floor(n / 1000) + "k"; }
    return String(n);
  }

  // roughMarkdown marks **bold** and `code` in escaped text (no "<" in it,
  // so the only tags are these).
  function roughMarkdown(escaped) {
    return escaped
      .replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>")
      .replace(/`([^`\n]+)`/g, "<code>$1</code>");
  }

  // A reload asked for while one is in flight runs again after it: the
  // one in flight may have been answered before the turn ended.
  var reloading = false, reloadAgain = false;
  function reloadSession() {
    var c = content();
    if (!c || !c.dataset.sessionUrl) { return; }
    if (reloading) { reloadAgain = true; return; }
    reloading = true;
    reloadAgain = false;
    var done = function () {
      reloading = false;
      if (reloadAgain) { reloadSession(); }
    };
    load(c.dataset.sessionUrl).then(done, done);
  }

  // ended holds the turns whose end the stream reported: a response that
  // still shows one of them running (answered before it ended, swapped in
  // after) is loaded again.
  var ended = {};
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target !== body()) { return; }
    var li = running();
    if (li && ended[li.dataset.messageId]) { reloadSession(); }
  });

  document.addEventListener("htmx:sseBeforeMessage", function (ev) {
    var elt = ev.target;
    if (!(elt instanceof Element)) { return; }
    if (elt.id === "chat-sse-delta") {
      ev.preventDefault();
      var box = streamBox();
      if (!box) { return; }
      // The server sent the text HTML-escaped; until the turn ends and
      // the server renders it as Markdown, bold and code show as such.
      var span = textSpan(box);
      span.rawText = (span.rawText || "") + ev.detail.data;
      span.innerHTML = roughMarkdown(span.rawText);
      scrollDown();
      return;
    }
    if (elt.id === "chat-sse-filter") {
      // The agent set the grid's filter (its set_filter tool): show the
      // records it means. The panel opens again on the new page.
      ev.preventDefault();
      var f;
      try { f = JSON.parse(ev.detail.data).filter || ""; } catch (e) { return; }
      if (f === (panel.dataset.filter || "") || document.querySelector("#grid-body .cell-editor")) { return; }
      window.location.assign(panel.dataset.tableUrl + (f ? "?filter=" + encodeURIComponent(f) : ""));
      return;
    }
    if (elt.id !== "chat-sse-event") { return; }
    ev.preventDefault();
    var ev2;
    try { ev2 = JSON.parse(ev.detail.data); } catch (e) { return; }
    var d = ev2.data || {};
    switch (ev2.type) {
      case "agent.tool": toolPending(d); break;
      case "agent.step": stepDone(d); break;
      case "agent.turn":
        if (d.status === "running") {
          if (!running()) { reloadSession(); }
        } else {
          if (d.message_id) { ended[String(d.message_id)] = true; }
          reloadSession();
        }
        break;
    }
  });

  // A stream that reconnected may have missed the end of a turn.
  document.addEventListener("htmx:sseOpen", function () {
    if (running()) { reloadSession(); }
  });

  var wasOpen = null;
  try { wasOpen = store.getItem(openKey); } catch (e) { /* private mode */ }
  if (wasOpen) { open(false); }
})();
