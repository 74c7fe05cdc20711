// The reader on phones and tablets, and on paper: the notes as a bottom sheet (a tapped
// highlight opens its notes there; closing it returns to the same place in the text),
// the selection kept clear of the bottom toolbar, a saved note confirmed on the screen
// where the notices are, and numbered notes for print. The layout itself is CSS
// (static/css/app.css).
(function () {
  "use strict";

  var body = document.getElementById("article-body");
  var sheet = document.getElementById("notes-sheet");
  var form = document.getElementById("annotate-form");
  if (!body || !sheet) return;
  var opener = document.querySelector(".notes-open");
  var toast = document.getElementById("saved-toast");
  var title = document.getElementById("notes-sheet-title");
  // The same width as the "Phone and tablet" section of app.css.
  var narrow = window.matchMedia("screen and (max-width: 55.99rem)");
  var flash = document.getElementById("flash");
  var returnTo = null;
  var returnScroll = null;
  var place = null; // the passage the sheet was opened from: { start, end } in the text
  var lastRange = null; // the last selection in the article, to place things near it

  sheet.classList.add("sheet-ready");
  if (opener) opener.hidden = false;

  function isOpen() { return sheet.classList.contains("open"); }

  function openSheet(from) {
    if (!narrow.matches) return false;
    if (!isOpen()) {
      returnTo = from || document.activeElement;
      returnScroll = { x: window.scrollX, y: window.scrollY };
      place = null;
      if (returnTo && returnTo.matches && returnTo.matches("mark[data-at]")) {
        var start = Number(returnTo.getAttribute("data-at"));
        place = { start: start, end: start + Array.from(returnTo.textContent).length };
      }
      sheet.classList.add("open");
      sheet.setAttribute("role", "dialog");
      sheet.setAttribute("aria-modal", "true");
      sheet.setAttribute("aria-labelledby", "notes-sheet-title");
      if (opener) opener.setAttribute("aria-expanded", "true");
    }
    title.focus({ preventScroll: true });
    return true;
  }

  function closeSheet() {
    if (!isOpen()) return;
    sheet.classList.remove("open");
    sheet.removeAttribute("role");
    sheet.removeAttribute("aria-modal");
    sheet.removeAttribute("aria-labelledby");
    if (opener) opener.setAttribute("aria-expanded", "false");
    var target = returnTo;
    var R = window.Marginalia && window.Marginalia.reader;
    if (target && !document.body.contains(target) && target.dataset && target.dataset.at && R) {
      // The passage was redrawn meanwhile (a note saved or changed): its new mark.
      target = R.markAt(Number(target.dataset.at));
    }
    if (!target || !document.body.contains(target)) target = opener;
    if (target) {
      if (target.matches("mark") && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
    if (returnScroll) window.scrollTo(returnScroll.x, returnScroll.y);
    returnTo = null;
    returnScroll = null;
    keepClearOfNotice();
    place = null; // later notices keep clear of the selection only
  }

  // A notice (flash region) sits at the bottom of a narrow screen: the passage acted on (the
  // selection, or the place the sheet was opened from, even if its highlight is gone)
  // scrolls up clear of it, as it does for the toolbar.
  function keepClearOfNotice() {
    if (!flash || !narrow.matches || isOpen() || !flash.querySelector(".flash")) return;
    var selection = window.getSelection();
    var range = selection && selection.rangeCount && !selection.isCollapsed && body.contains(selection.anchorNode)
      ? selection.getRangeAt(0) : null;
    var R = window.Marginalia && window.Marginalia.reader;
    if (!range && place && R) range = R.rangeOf(place.start, place.end);
    if (!range) return;
    var rect = range.getBoundingClientRect();
    if (!rect.height) return;
    var overlap = rect.bottom + 12 - flash.getBoundingClientRect().top;
    if (overlap > 0) window.scrollBy(0, Math.min(overlap, Math.max(0, rect.top - 60)));
  }
  if (flash && window.MutationObserver) {
    new MutationObserver(function () { window.requestAnimationFrame(keepClearOfNotice); })
      .observe(flash, { childList: true });
  }

  // A tap on a highlight: the sheet opens first, then the reader script finds the note
  // in it (this listener runs in the capture phase, before the reader script's).
  document.addEventListener("click", function (event) {
    var mark = event.target.closest && event.target.closest("#article-body mark.hl");
    if (!mark || !narrow.matches) return;
    var selection = window.getSelection();
    if (selection && !selection.isCollapsed) return;
    openSheet(mark);
  }, true);

  sheet.addEventListener("click", function (event) {
    if (event.target === sheet || event.target.closest("[data-sheet-close]")) closeSheet();
  });
  if (opener) opener.addEventListener("click", function () { openSheet(opener); });

  // A modal sheet: Escape closes it; Tab goes round inside it, and focus that leaves it
  // (or is dropped, when the live poll redraws a card) comes back to it.
  document.addEventListener("focusin", function (event) {
    // A notice (its Undo) is over the sheet and takes focus too.
    if (isOpen() && !sheet.contains(event.target) && !(flash && flash.contains(event.target))) {
      title.focus({ preventScroll: true });
    }
  });
  document.addEventListener("keydown", function (event) {
    if (!isOpen()) return;
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeSheet();
      return;
    }
    if (event.key !== "Tab") return;
    var focusable = Array.prototype.filter.call(
      sheet.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex='0']"),
      function (el) { return !el.disabled && el.getClientRects().length; }
    );
    if (!focusable.length) return;
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (!sheet.contains(document.activeElement)) {
      event.preventDefault();
      first.focus();
    } else if (event.shiftKey && (document.activeElement === first || document.activeElement === title)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });

  narrow.addEventListener("change", function () { if (!narrow.matches) closeSheet(); });

  // --- the selection stays above the bottom toolbar ----------------------------------

  document.addEventListener("selectionchange", function () {
    var selection = window.getSelection();
    if (!selection || !selection.rangeCount || selection.isCollapsed) return;
    var range = selection.getRangeAt(0);
    if (body.contains(range.commonAncestorContainer)) lastRange = range.cloneRange();
  });

  function keepSelectionClear() {
    if (!form || form.hidden || !narrow.matches || !lastRange) return;
    var bar = form.getBoundingClientRect();
    var rect = lastRange.getBoundingClientRect();
    if (!rect.height) return;
    var overlap = rect.bottom + 12 - bar.top;
    if (overlap > 0) window.scrollBy(0, Math.min(overlap, Math.max(0, rect.top - 60)));
  }

  if (form && window.MutationObserver) {
    new MutationObserver(function () { window.requestAnimationFrame(keepSelectionClear); })
      .observe(form, { attributes: true, attributeFilter: ["hidden", "style"], subtree: true });
  }

  // --- a saved note is confirmed where the reader is -------------------------------------

  var toastTimer = null;
  function hideToast() {
    if (!toast) return;
    if (toast.contains(document.activeElement)) { toastTimer = setTimeout(hideToast, 4000); return; }
    toast.classList.remove("shown");
    toast.textContent = "";
  }

  function confirmSaved(id, comment) {
    if (!toast) return;
    var card = document.getElementById("annotation-" + id);
    toast.textContent = "";
    toast.appendChild(document.createTextNode(comment ? "Comment saved. " : "Highlight saved. "));
    if (card) {
      var show = document.createElement("button");
      show.type = "button";
      show.className = "link-button";
      show.textContent = "Show note";
      show.addEventListener("click", function () { showCard(card); });
      toast.appendChild(show);
    }
    toast.classList.add("shown");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(hideToast, 8000);
    // Beside the text, the card itself comes into view in the sidebar.
    if (card && !narrow.matches) revealInSidebar(card);
  }

  // Scroll the sidebar alone (never the page, which the reader is reading) to a card.
  function revealInSidebar(card) {
    var side = document.getElementById("sidebar");
    if (!side) return;
    var c = card.getBoundingClientRect();
    var s = side.getBoundingClientRect();
    var top = Math.max(s.top, 0);
    var bottom = Math.min(s.bottom, window.innerHeight);
    if (c.top < top) side.scrollTop -= top - c.top + 8;
    else if (c.bottom > bottom) side.scrollTop += Math.min(c.bottom - bottom + 8, c.top - top - 8);
  }

  function showCard(card) {
    hideToast();
    openSheet(returnTo || firstMarkOf(card));
    document.querySelectorAll(".card.active").forEach(function (c) { c.classList.remove("active"); });
    card.classList.add("active");
    card.focus({ preventScroll: true });
    if (isOpen()) card.scrollIntoView({ block: "nearest" });
    else revealInSidebar(card);
  }

  // The event comes with the answer, before its parts are swapped in (in the same task):
  // confirm right after, with the card if the list holds it (a card past the loaded pages
  // comes with a later one). Not a wait frame by frame for a card that may never come: that
  // drew frames for two seconds after each note saved on a busy page, under the next one
  // being typed.
  document.body.addEventListener("annotation-saved", function (event) {
    var detail = event.detail;
    setTimeout(function () { confirmSaved(detail.id, detail.comment); }, 0);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hideToast();
  });

  // The first highlight of a card's note: the mark where the note starts.
  function firstMarkOf(card) {
    var R = window.Marginalia && window.Marginalia.reader;
    return R ? R.markAt(Number(card.dataset.start)) : null;
  }

  // --- print: numbered notes, the numbers beside their highlights ------------------------

  // One pass over the marks for all the cards (not a search of the text per card): a page
  // may hold thousands of both. A note's number follows the mark its passage starts with;
  // for print, a mark that runs on from before it is cut there first (static/js/reader.js:
  // not on screen, where it would only cut runs that look alike in two).
  function numberNotes(printing) {
    body.querySelectorAll("mark[data-note]").forEach(function (m) { m.removeAttribute("data-note"); });
    var cards = document.querySelectorAll("#cards > .card");
    var wanted = {};
    var R = window.Marginalia && window.Marginalia.reader;
    cards.forEach(function (card) {
      wanted[card.dataset.start] = null;
      if (printing && R) R.cutMarkAt(Number(card.dataset.start));
    });
    body.querySelectorAll("mark[data-at]").forEach(function (mark) {
      var at = mark.getAttribute("data-at");
      if (wanted[at] === null) wanted[at] = mark;
    });
    var n = 0;
    cards.forEach(function (card) {
      n += 1;
      card.setAttribute("data-note", String(n));
      var mark = wanted[card.dataset.start];
      if (!mark) return;
      var had = mark.getAttribute("data-note");
      mark.setAttribute("data-note", had ? had + "," + n : String(n));
    });
  }

  // The numbers only print: they are drawn when the page is idle after a change, and at
  // once when it is printed (or shown as printed).
  var numbering = false;
  function numberWhenIdle() {
    if (numbering) return;
    numbering = true;
    var later = function () { numbering = false; numberNotes(); };
    if (window.requestIdleCallback) window.requestIdleCallback(later);
    else setTimeout(later, 1);
  }
  // Not before the page has loaded (idle time until then still holds up its load event).
  if (document.readyState === "complete") numberWhenIdle();
  else window.addEventListener("load", numberWhenIdle, { once: true });
  document.body.addEventListener("htmx:afterSettle", numberWhenIdle);
  window.addEventListener("beforeprint", function () { closeSheet(); numberNotes(true); });
  window.matchMedia("print").addEventListener("change", function (event) {
    if (event.matches) numberNotes(true);
  });
})();
