// Scratchpad — the grid's column header menus and the chip editor of multi
// select cells. Loaded by the grid page only, after grid.js. The server
// renders each menu (htmx puts it in #column-menu); this file shows it next
// to its ⋮ button (a sheet at the bottom on a phone), closes it, moves
// between its items with the arrow keys, and fills the filter box.
(function () {
  "use strict";

  if (!window.htmx || !document.querySelector(".grid-page")) { return; }
  var menu = document.getElementById("column-menu");
  if (!menu) { return; }
  var opener = null;

  function closeMenu(refocus) {
    if (menu.hidden) { return false; }
    menu.hidden = true;
    menu.innerHTML = "";
    if (opener) {
      opener.setAttribute("aria-expanded", "false");
      if (refocus) { opener.focus(); }
    }
    opener = null;
    return true;
  }

  function sheet() { return window.matchMedia("(max-width: 600px)").matches; }

  // place puts the menu under its button, inside the window; on a phone
  // the stylesheet makes it a sheet at the bottom instead.
  function place() {
    if (menu.hidden || !opener) { return; }
    if (sheet()) {
      menu.style.left = "";
      menu.style.top = "";
      return;
    }
    var r = opener.getBoundingClientRect();
    var w = menu.offsetWidth;
    var h = menu.offsetHeight;
    var left = Math.min(Math.max(8, r.right - w), window.innerWidth - w - 8);
    var top = r.bottom + 4;
    if (top + h > window.innerHeight - 8) { top = Math.max(8, window.innerHeight - h - 8); }
    menu.style.left = left + "px";
    menu.style.top = top + "px";
  }

  function items() {
    return Array.prototype.slice.call(menu.querySelectorAll(".menu-item, .column-menu-section > summary"));
  }

  // A second click on the open menu's button closes it.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var elt = ev.detail && ev.detail.elt;
    if (!(elt instanceof Element) || !elt.matches(".col-menu-btn")) { return; }
    if (opener === elt && !menu.hidden) {
      ev.preventDefault();
      closeMenu(true);
      return;
    }
    if (opener && opener !== elt) { opener.setAttribute("aria-expanded", "false"); }
    opener = elt;
  });

  document.addEventListener("htmx:afterSwap", function (ev) {
    var t = ev.detail && ev.detail.target;
    if (!(t instanceof Element) || !menu.contains(t)) { return; }
    if (t === menu) {
      menu.hidden = false;
      if (opener) { opener.setAttribute("aria-expanded", "true"); }
      place();
      var first = items()[0];
      if (first) { first.focus(); }
      return;
    }
    // The type preview came: the menu grew; show the preview's verdict
    // and its confirm button.
    place();
    var confirm = t.querySelector('[data-testid="type-confirm"]') || t.firstElementChild;
    if (confirm) { confirm.scrollIntoView({ block: "nearest" }); }
  });

  document.addEventListener("toggle", function (ev) {
    if (ev.target instanceof Element && menu.contains(ev.target)) { place(); }
  }, true);
  window.addEventListener("resize", place);

  // fillFilter puts the column's expression in the filter box with the
  // part to type selected; Enter then filters.
  function fillFilter(btn) {
    var input = document.getElementById("grid-filter");
    if (!input) { return; }
    var before = btn.dataset.filterBefore || "";
    var value = btn.dataset.filterValue || "";
    input.value = before + value + (btn.dataset.filterAfter || "");
    closeMenu(false);
    input.focus();
    input.setSelectionRange(before.length, before.length + value.length);
    input.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) { return; }
    if (!menu.hidden && !menu.contains(t) && !t.closest(".col-menu-btn")) {
      closeMenu(false);
    }
    if (t.closest("[data-close-column-menu]")) {
      closeMenu(true);
      return;
    }
    var f = t.closest("#column-menu [data-filter-before]");
    if (f) {
      fillFilter(f);
      return;
    }
    var rm = t.closest("#column-menu [data-remove-option]");
    if (rm) {
      var li = rm.closest("li");
      var next = li.nextElementSibling && li.nextElementSibling.querySelector("input:not([type=hidden])");
      if (next) { next.focus(); }
      li.remove();
      return;
    }
    var chipX = t.closest(".chip-editor .chip-remove");
    if (chipX) {
      ev.preventDefault();
      removeChip(chipX.closest(".chip"));
    }
  });

  // Keys inside the menu: Escape closes it (back to its button), arrows
  // move between its items. Capture phase, before the grid's own keys.
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) { return; }
    if (t.classList.contains("chip-input")) {
      chipKey(ev, t);
      return;
    }
    // Alt+↓ on a cell opens its column's menu, as in a spreadsheet.
    if (ev.altKey && ev.key === "ArrowDown" && t.matches("#grid-body td.cell")) {
      var btn = document.querySelector('.col-menu-btn[data-column-id="' + CSS.escape(t.dataset.columnId || "") + '"]');
      if (btn) {
        ev.preventDefault();
        ev.stopPropagation();
        btn.click();
      }
      return;
    }
    if (menu.hidden || !menu.contains(t)) { return; }
    if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      closeMenu(true);
      return;
    }
    if ((ev.key === "ArrowDown" || ev.key === "ArrowUp") && t.matches(".menu-item, summary")) {
      var list = items();
      var i = list.indexOf(t);
      var n = list[(i + (ev.key === "ArrowDown" ? 1 : -1) + list.length) % list.length];
      if (n) {
        ev.preventDefault();
        ev.stopPropagation();
        n.focus();
      }
    }
  }, true);

  // ---- Chip editor -----------------------------------------------------

  function editorOf(el) { return el.closest(".chip-editor"); }

  function datalist(editor) { return editor.querySelector("datalist"); }

  // optionFor returns the option text names, ignoring case, or text.
  function optionFor(editor, text) {
    var opts = Array.prototype.slice.call(datalist(editor).querySelectorAll("option"));
    for (var i = 0; i < opts.length; i++) {
      if (opts[i].value.toLowerCase() === text.toLowerCase()) { return opts[i].value; }
    }
    return text;
  }

  function addChip(editor, text) {
    text = optionFor(editor, text.trim());
    if (!text) { return; }
    var chips = editor.querySelector(".chips");
    var exists = Array.prototype.some.call(chips.querySelectorAll(".chip"), function (c) { return c.dataset.value === text; });
    if (!exists) {
      var li = document.createElement("li");
      li.className = "chip";
      li.dataset.testid = "chip";
      li.setAttribute("data-testid", "chip");
      li.dataset.value = text;
      var span = document.createElement("span");
      span.textContent = text;
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "value";
      hidden.value = text;
      var x = document.createElement("button");
      x.type = "button";
      x.className = "chip-remove";
      x.tabIndex = -1;
      x.setAttribute("aria-label", "Remove " + text);
      x.setAttribute("data-testid", "chip-remove");
      x.textContent = "×";
      li.append(span, hidden, x);
      chips.appendChild(li);
    }
    datalist(editor).querySelectorAll("option").forEach(function (o) {
      if (o.value === text) { o.remove(); }
    });
  }

  function removeChip(li) {
    if (!li) { return; }
    var editor = editorOf(li);
    var input = editor.querySelector(".chip-input");
    // Focus stays in the cell, so leaving the editor does not save it.
    input.focus();
    var o = document.createElement("option");
    o.value = li.dataset.value;
    datalist(editor).appendChild(o);
    li.remove();
  }

  // chipKey: Enter or a comma turns the typed text into a chip, Backspace
  // in the empty input removes the last chip. Enter with nothing typed is
  // the grid's: it saves.
  function chipKey(ev, input) {
    var editor = editorOf(input);
    if (!editor) { return; }
    if ((ev.key === "Enter" || ev.key === ",") && input.value.trim() !== "") {
      ev.preventDefault();
      ev.stopPropagation();
      addChip(editor, input.value);
      input.value = "";
      return;
    }
    if (ev.key === "Backspace" && input.value === "") {
      var chips = editor.querySelectorAll(".chip");
      if (chips.length) {
        ev.preventDefault();
        ev.stopPropagation();
        removeChip(chips[chips.length - 1]);
      }
    }
  }

  // Enter in the chip input never submits the form by itself (the
  // browser's implicit submission, on keypress): adding a chip is not
  // saving, and the grid saves on Enter with nothing typed.
  document.addEventListener("keypress", function (ev) {
    if (ev.key === "Enter" && ev.target instanceof Element && ev.target.classList.contains("chip-input")) {
      ev.preventDefault();
    }
  }, true);

  // Choosing an option from the input's list adds it at once.
  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (!(t instanceof HTMLInputElement) || !t.classList.contains("chip-input")) { return; }
    if (ev.inputType && ev.inputType !== "insertReplacementText") { return; }
    var editor = editorOf(t);
    var match = Array.prototype.some.call(datalist(editor).querySelectorAll("option"), function (o) { return o.value === t.value; });
    if (match) {
      addChip(editor, t.value);
      t.value = "";
    }
  });
})();
