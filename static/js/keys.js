// The reader's keys. Single-key shortcuts act only while focus is in the article (on a
// passage or a highlight), and can be turned off in the list of keys (remembered in this
// browser): h highlights the selection, c comments on it, n / p go to the next / previous
// highlight, ? shows the list. Everywhere: Enter on a highlight opens its notes; Escape in
// a note's form closes it (focus back to what opened it), on a note goes back to its place
// in the text; Ctrl+Enter sends the form being typed in.
(function () {
  "use strict";

  var M = window.Marginalia || {};
  var R = M.reader;
  var announce = M.announce || function () {};
  var STORE = "marginalia:shortcuts";
  var dialog = document.getElementById("keys-dialog");
  var toggle = document.getElementById("shortcuts-on");

  function enabled() {
    try { return localStorage.getItem(STORE) !== "off"; } catch (e) { return true; }
  }

  if (toggle) {
    toggle.checked = enabled();
    toggle.addEventListener("change", function () {
      try { localStorage.setItem(STORE, toggle.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      announce(toggle.checked ? "Single-key shortcuts on." : "Single-key shortcuts off.");
    });
  }

  // --- the list of keys: a modal dialog; focus goes back to what opened it -----------
  var opener = null;
  function showKeys() {
    if (!dialog || dialog.open) return;
    opener = document.activeElement;
    dialog.showModal();
  }
  if (dialog) {
    dialog.addEventListener("close", function () {
      if (opener && document.body.contains(opener)) opener.focus();
      opener = null;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-opens-dialog]");
    if (button && button.getAttribute("data-opens-dialog") === "keys-dialog") showKeys();
  });

  // A note whose answer is out is about to be redrawn: its old controls take no keys (the
  // key would act on what is going; focus.js puts focus on the new card's same control).
  function redrawing(el) {
    var card = el.closest(".card");
    return !document.body.contains(el) || (card !== null && card.getAttribute("aria-busy") === "true");
  }

  // --- forms in the sidebar: Ctrl+Enter sends, Escape cancels ------------------------
  document.addEventListener("keydown", function (event) {
    var form = event.target.closest && event.target.closest("#sidebar form, .card form");
    if (!form) return;
    if (redrawing(form)) {
      var sends = event.key === "Enter" && (event.ctrlKey || event.metaKey || !event.target.matches("textarea"));
      if (event.key === "Escape" || sends) event.preventDefault();
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("textarea, input")) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      var cancel = form.querySelector("[data-cancel]");
      if (!cancel) return;
      event.preventDefault();
      cancel.click();
    }
  });

  // A Flag or Hide box's form is built when the box first opens, from the HTML its
  // <noscript> holds (the form itself without JavaScript: partials/_flag_form.html). Built
  // on the summary's click, before the box opens, so that the form is there as soon as
  // it shows (the toggle event comes a task later: a quick Tab or an Escape would miss it);
  // the toggle builds it for a box opened otherwise.
  function buildLater(box) {
    var later = box.querySelector(":scope > noscript.form-later");
    if (!later) return;
    // Parsed here, it holds its HTML as text; parsed by htmx (a card swapped in), elements.
    var made = document.createElement("template");
    made.innerHTML = later.innerHTML;
    later.replaceWith(made.content);
    if (window.htmx) window.htmx.process(box);
  }
  document.addEventListener("click", function (event) {
    var summary = event.target.closest && event.target.closest("details > summary");
    if (summary && !summary.parentElement.open) buildLater(summary.parentElement);
  }, true);
  document.addEventListener("toggle", function (event) {
    var box = event.target;
    if (box.open && box.tagName === "DETAILS") buildLater(box);
  }, true);

  if (!R) return;
  var body = R.body;
  var lastMark = null; // the highlight a reader came to the notes from
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("mark[data-at]")) lastMark = event.target;
  });

  // Highlights in document order; pieces that continue each other alike (a highlight cut
  // by a link or bold text) are one stop.
  function stops() {
    var out = [];
    var previous = null;
    body.querySelectorAll("mark[data-at]").forEach(function (mark) {
      var ids = mark.className.replace(/\b(active|spotted)\b/g, "").trim();
      if (previous && ids === previous.ids) {
        var between = document.createRange();
        between.setStartAfter(previous.mark);
        between.setEndBefore(mark);
        if (!between.toString().trim()) {
          previous.mark = mark;
          return;
        }
      }
      out.push(mark);
      previous = { ids: ids, mark: mark };
    });
    return out;
  }

  function step(forward) {
    var all = stops();
    if (!all.length) {
      announce("No highlights yet.");
      return;
    }
    var here = document.activeElement.closest && document.activeElement.closest("mark[data-at]");
    var candidates = all.filter(function (mark) {
      if (mark === here) return false;
      if (here) {
        var position = here.compareDocumentPosition(mark);
        return forward ? position & Node.DOCUMENT_POSITION_FOLLOWING : position & Node.DOCUMENT_POSITION_PRECEDING;
      }
      var selection = window.getSelection();
      var point = document.createRange();
      if (selection.rangeCount && body.contains(selection.focusNode)) point.setStart(selection.focusNode, selection.focusOffset);
      else point.setStart(body, 0);
      return point.comparePoint(mark, 0) === (forward ? 1 : -1);
    });
    var target = forward ? candidates[0] : candidates[candidates.length - 1];
    if (!target) {
      announce(forward ? "No more highlights after this one." : "No highlights before this one.");
      return;
    }
    R.focusMark(target);
  }

  // Single keys, only in the article and only when turned on.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var target = event.target;
    if (!body.contains(target) || target.closest("input, textarea, select, [contenteditable]")) return;
    var mark = target.closest("mark[data-at]");
    if (event.key === "Enter" && mark) {
      event.preventDefault();
      R.openSpot(mark);
      return;
    }
    if (!enabled() || event.key.length !== 1) return;
    if (event.key === "?") {
      event.preventDefault();
      showKeys();
    } else if (event.key === "n" || event.key === "p") {
      event.preventDefault();
      step(event.key === "n");
    } else if (event.key === "h" || event.key === "c") {
      var selection = R.capture();
      if (!selection) {
        announce("Select a passage first (Shift and the arrow keys).");
        return;
      }
      event.preventDefault();
      R.offer(selection);
      if (event.key === "h") R.highlight();
      else R.openComment();
    }
  });

  // Escape in an open disclosure (an instructor's Hide box) closes it, back on its summary.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var open = event.target.closest && event.target.closest("details[open]");
    if (!open) return;
    event.preventDefault();
    open.open = false;
    open.querySelector("summary").focus();
  });

  // Escape in the notes at a spot closes them, back on the highlight.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var region = event.target.closest && event.target.closest("#spot");
    var close = region && region.querySelector("[data-action=close-spot]");
    if (!close) return;
    event.preventDefault();
    close.click();
  });

  // Escape on a note (not in a form) goes back to its place in the text.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var card = event.target.closest && event.target.closest(".card");
    if (!card || event.target.closest("form, details[open]") || redrawing(card)) return;
    var id = card.getAttribute("data-annotation");
    var mark = lastMark && document.body.contains(lastMark) && R.covers(id, lastMark)
      ? lastMark : R.marksOf(id)[0];
    if (!mark) return;
    event.preventDefault();
    R.focusMark(mark);
  });
})();
