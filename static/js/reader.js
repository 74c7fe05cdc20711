// The reader script: turns a selection into code-point offsets and a quote, shows the
// toolbar, and hands the form to htmx. All state lives on the server.
(function () {
  "use strict";

  var body = document.getElementById("article-body");
  var form = document.getElementById("annotate-form");
  if (!body || !form) return;
  var commentBox = form.querySelector(".comment-box");
  var textarea = form.querySelector("textarea[name=body]");
  var audience = form.querySelector("select[name=audience]");
  var hint = document.getElementById("toolbar-hint");
  var pending = null; // {start, end, exact, rect, range} captured before a click can clear it
  var announce = (window.Marginalia && window.Marginalia.announce) || function () {};
  var COLOUR = "marginalia:colour"; // the colour chosen last: h highlights in it

  // --- offsets: the server counts code points, JavaScript counts UTF-16 units ----------

  function codePoints(str) {
    var n = 0;
    for (var i = 0; i < str.length; i++) {
      var c = str.charCodeAt(i);
      if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
        var p = str.charCodeAt(i - 1);
        if (p >= 0xd800 && p <= 0xdbff) continue; // second half of a pair
      }
      n++;
    }
    return n;
  }

  function spanOf(node) {
    var el = node.nodeType === 1 ? node : node.parentElement;
    return el && el.closest("[data-o]");
  }

  function textNodes(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        return spanOf(n) && body.contains(n) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
      },
    });
    var out = [];
    while (walker.nextNode()) out.push(walker.currentNode);
    return out;
  }

  // The article's text, indexed once per change of the article (a swapped block, a new
  // mark), not at every selection: its text nodes in order, and the code-point offsets
  // where each starts and ends. The marks of a busy page cut the text into thousands of
  // nodes; walking them all, per node, made pressing Highlight take a tenth of a second.
  var index = null;
  var changes = window.MutationObserver ? new MutationObserver(function () { index = null; }) : null;
  if (changes) changes.observe(body, { childList: true, subtree: true, characterData: true });
  function textIndex() {
    // A change not yet delivered to the observer (the same task) counts too.
    if (index && !changes.takeRecords().length) return index;
    var nodes = [], starts = [], ends = [], at = new Map();
    var spans = body.querySelectorAll("[data-o]");
    for (var i = 0; i < spans.length; i++) {
      var offset = parseInt(spans[i].getAttribute("data-o"), 10);
      var walker = document.createTreeWalker(spans[i], NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        var node = walker.currentNode;
        at.set(node, nodes.length);
        nodes.push(node);
        starts.push(offset);
        offset += codePoints(node.data);
        ends.push(offset);
      }
    }
    var built = { nodes: nodes, starts: starts, ends: ends, at: at };
    if (changes) {
      changes.takeRecords();
      index = built;
    }
    return built;
  }

  // The first position in [0, length) where `past(i)` holds (false then true), else length.
  function firstWhere(length, past) {
    var low = 0, high = length;
    while (low < high) {
      var mid = (low + high) >> 1;
      if (past(mid)) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  // Offset of (text node, UTF-16 index) in the canonical text.
  function offsetOf(node, index) {
    var indexed = textIndex();
    var i = indexed.at.get(node);
    var offset;
    if (i === undefined) {
      var span = spanOf(node);
      offset = parseInt(span.getAttribute("data-o"), 10);
      var nodes = textNodes(span);
      for (var j = 0; j < nodes.length && nodes[j] !== node; j++) offset += codePoints(nodes[j].data);
    } else {
      offset = indexed.starts[i];
    }
    var data = node.data;
    // Never split a surrogate pair.
    if (index > 0 && index < data.length) {
      var c = data.charCodeAt(index - 1);
      if (c >= 0xd800 && c <= 0xdbff) index += 1;
    }
    return offset + codePoints(data.slice(0, index));
  }

  // A boundary may sit on an element (across blocks, next to marks) or outside the
  // article: move it to the nearest text position inside the article, in its direction.
  function normalise(range) {
    var all = textIndex().nodes;
    if (!all.length) return null;
    function position(container, index, isEnd) {
      if (container.nodeType === 3 && spanOf(container) && body.contains(container)) {
        return { node: container, index: index };
      }
      var probe = document.createRange();
      probe.setStart(container, index);
      if (isEnd) {
        // The last text that ends at or before the point.
        var after = firstWhere(all.length, function (i) {
          return probe.comparePoint(all[i], all[i].data.length) > 0;
        });
        return after > 0 ? { node: all[after - 1], index: all[after - 1].data.length } : null;
      }
      // The first text that starts at or after the point.
      var first = firstWhere(all.length, function (i) { return probe.comparePoint(all[i], 0) >= 0; });
      return first < all.length ? { node: all[first], index: 0 } : null;
    }
    var start = position(range.startContainer, range.startOffset, false);
    var end = position(range.endContainer, range.endOffset, true);
    if (!start || !end) return null;
    var s = offsetOf(start.node, start.index);
    var e = offsetOf(end.node, end.index);
    return e > s ? { start: s, end: e } : null;
  }

  // The quote: the text of the spans between the offsets. What lies between spans
  // (block separators, line breaks) is newlines in the canonical text.
  function quote(start, end) {
    var indexed = textIndex();
    var out = "";
    var at = start;
    var i = firstWhere(indexed.nodes.length, function (k) { return indexed.ends[k] > start; });
    for (; i < indexed.nodes.length && indexed.starts[i] < end; i++) {
      var from = indexed.starts[i];
      var chars = Array.from(indexed.nodes[i].data);
      var a = Math.max(start, from);
      var b = Math.min(end, from + chars.length);
      if (b <= a) continue;
      if (a > at) out += "\n".repeat(a - at);
      out += chars.slice(a - from, b - from).join("");
      at = b;
    }
    return out;
  }

  // The DOM range of code-point offsets [start, end) (a kept draft's passage).
  function rangeOf(start, end) {
    var indexed = textIndex();
    var range = document.createRange();
    var begun = false;
    var i = firstWhere(indexed.nodes.length, function (k) { return indexed.ends[k] > start; });
    for (; i < indexed.nodes.length; i++) {
      var node = indexed.nodes[i];
      var from = indexed.starts[i];
      var to = indexed.ends[i];
      if (!begun && start >= from && start < to) {
        range.setStart(node, Array.from(node.data).slice(0, start - from).join("").length);
        begun = true;
      }
      if (begun && end > from && end <= to) {
        range.setEnd(node, Array.from(node.data).slice(0, end - from).join("").length);
        return range;
      }
    }
    return null;
  }

  function capture() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    var range = selection.getRangeAt(0);
    if (!range.intersectsNode(body)) return null;
    var offsets = normalise(range);
    if (!offsets) return null;
    offsets.exact = quote(offsets.start, offsets.end);
    if (!offsets.exact.trim()) return null;
    offsets.rect = range.getBoundingClientRect();
    offsets.range = range.cloneRange();
    return offsets;
  }

  // --- toolbar ------------------------------------------------------------------------

  function place(rect) {
    form.hidden = false;
    var top = window.scrollY + rect.bottom + 8;
    var left = window.scrollX + rect.left + rect.width / 2 - form.offsetWidth / 2;
    left = Math.max(window.scrollX + 8, Math.min(left, window.scrollX + document.documentElement.clientWidth - form.offsetWidth - 8));
    form.style.top = top + "px";
    form.style.left = left + "px";
  }

  function fill(selection) {
    ["start", "end", "exact"].forEach(function (name) {
      var input = form.elements[name];
      if (input) input.value = selection[name];
    });
  }

  // Each note starts afresh: no comment, tags or question carried over from the last one,
  // and the audience the page offers (a question ticked once must not follow a highlight).
  function resetNote() {
    if (textarea) textarea.value = "";
    if (form.elements.idempotency_key) form.elements.idempotency_key.value = "";
    if (form.elements.tags) form.elements.tags.value = "";
    if (form.elements.question) form.elements.question.checked = false;
    if (audience) {
      Array.prototype.forEach.call(audience.options, function (option) {
        option.selected = option.defaultSelected;
      });
      describeAudience();
    }
  }

  function describeAudience() {
    if (!hint || !audience) return;
    var option = audience.options[audience.selectedIndex];
    hint.textContent = option.value === "private"
      ? "Highlights and comments are private."
      : "Highlights are private; comments go to " + option.textContent + ".";
  }

  // A new passage: the toolbar answers it, with a fresh note unless one is being typed.
  function offer(selection) {
    if (!commentBox || commentBox.hidden) {
      resetNote();
      // Its draft is kept under the passage's offsets (static/js/drafts.js).
      if (textarea) textarea.setAttribute("data-draft", "note:" + selection.start + "-" + selection.end);
    }
    pending = selection;
    fill(selection);
    place(selection.rect);
  }

  function hideToolbar() {
    showPending(null);
    form.hidden = true;
    if (commentBox) commentBox.hidden = true;
    pending = null;
  }

  // Back from the toolbar to the article, the passage selected again as it was.
  function backToText() {
    var range = pending && pending.range;
    hideToolbar();
    var selection = window.getSelection();
    if (range) {
      selection.removeAllRanges();
      selection.addRange(range);
    }
    body.focus({ preventScroll: true });
  }

  function update() {
    if (commentBox && !commentBox.hidden) return; // typing a comment: keep what was captured
    var selection = capture();
    if (!selection) {
      if (!form.contains(document.activeElement)) hideToolbar();
      return;
    }
    offer(selection);
  }

  // While the comment box has focus the selection is gone: keep the passage visibly
  // marked, by boxes laid over its lines (a layer of their own). Not a CSS custom
  // highlight: the browser repaints the whole page for one at every keystroke in the box,
  // a cost that grows with the marks on the page.
  var pendingBoxes = null;
  var pendingRange = null;
  function drawPending() {
    if (pendingBoxes) pendingBoxes.remove();
    pendingBoxes = null;
    if (!pendingRange) return;
    pendingBoxes = document.createElement("div");
    pendingBoxes.className = "pending-passage";
    pendingBoxes.setAttribute("aria-hidden", "true");
    Array.prototype.forEach.call(pendingRange.getClientRects(), function (rect) {
      if (!rect.width || !rect.height) return;
      var box = document.createElement("span");
      box.style.left = (rect.left + window.scrollX) + "px";
      box.style.top = (rect.top + window.scrollY) + "px";
      box.style.width = rect.width + "px";
      box.style.height = rect.height + "px";
      pendingBoxes.appendChild(box);
    });
    document.body.appendChild(pendingBoxes);
  }
  function showPending(range) {
    pendingRange = range || null;
    drawPending();
  }
  window.addEventListener("resize", function () { if (pendingRange) drawPending(); });

  function openComment() {
    if (!pending || !commentBox) return;
    showPending(pending.range);
    if (commentBox.hidden) {
      commentBox.hidden = false;
      // A comment typed on this passage and not sent comes back.
      document.dispatchEvent(new CustomEvent("marginalia:draft-box", { detail: textarea }));
    }
    place(pending.rect);
    textarea.focus();
  }

  // Highlight the captured passage (h, or the Highlight button).
  function highlightIt() {
    form.requestSubmit(form.querySelector("button[value=highlight]"));
  }

  var timer = null;
  document.addEventListener("selectionchange", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  });
  document.addEventListener("mouseup", function (event) {
    if (!form.contains(event.target)) setTimeout(update, 0);
  });
  // Keep the selection when a toolbar button is pressed, and take the passage as it is at
  // that moment: the toolbar may have been offered for an earlier point of a drag whose
  // last move it has not answered yet (the toolbar stays where it is, under the pointer).
  form.addEventListener("mousedown", function (event) {
    if (!event.target.closest("button, .swatch")) return;
    event.preventDefault();
    if (commentBox && !commentBox.hidden) return;
    var live = capture();
    if (live && (!pending || live.start !== pending.start || live.end !== pending.end)) {
      if (textarea) textarea.setAttribute("data-draft", "note:" + live.start + "-" + live.end);
      pending = live;
      fill(live);
    }
  });
  form.addEventListener("click", function (event) {
    var action = event.target.closest("[data-action]");
    if (!action) return;
    if (action.dataset.action === "comment") openComment();
    if (action.dataset.action === "cancel") {
      document.dispatchEvent(new CustomEvent("marginalia:draft-discard", { detail: textarea }));
      backToText();
    }
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      backToText();
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === textarea) {
      event.preventDefault();
      form.requestSubmit(form.querySelector("button[value=comment]"));
    }
    // Shift+Tab from the toolbar's first control goes back to the passage.
    if (event.key === "Tab" && event.shiftKey && event.target === firstTool()) {
      event.preventDefault();
      backToText();
    }
  });

  // The toolbar's first control: the chosen colour.
  function firstTool() {
    return form.querySelector("input[name=colour]:checked") || form.querySelector("button, input:not([type=hidden])");
  }

  // Tab from a selected passage goes on to the toolbar (it sits elsewhere in the page),
  // the passage kept marked while focus is there.
  body.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || event.shiftKey || event.ctrlKey || event.altKey) return;
    var selection = capture();
    if (selection) offer(selection);
    if (form.hidden || !pending || !firstTool()) return;
    event.preventDefault();
    showPending(pending.range);
    firstTool().focus();
  });

  // The colour chosen last is the one h uses next time.
  form.addEventListener("change", function (event) {
    if (event.target.name !== "colour") return;
    try { localStorage.setItem(COLOUR, event.target.value); } catch (e) { /* private mode */ }
  });
  try {
    var remembered = form.querySelector("input[name=colour][value='" + localStorage.getItem(COLOUR) + "']");
    if (remembered) remembered.checked = true;
  } catch (e) { /* private mode */ }
  // Keyboard: the article body takes focus (Tab, or a click) and keeps a caret; arrows
  // move it, shift+arrows extend the selection (ctrl for words), as caret browsing would.
  var ARROWS = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "backward", ArrowDown: "forward" };
  body.setAttribute("tabindex", "0");
  body.addEventListener("focus", function () {
    var selection = window.getSelection();
    if (selection.rangeCount && body.contains(selection.anchorNode)) return;
    var first = textIndex().nodes[0];
    if (first) selection.collapse(first, 0);
  });
  body.addEventListener("keydown", function (event) {
    var direction = ARROWS[event.key];
    var selection = window.getSelection();
    if (!direction || event.altKey || event.metaKey || !selection.rangeCount) return;
    if (!body.contains(selection.focusNode)) return;
    var vertical = event.key === "ArrowUp" || event.key === "ArrowDown";
    var granularity = vertical ? "line" : event.ctrlKey ? "word" : "character";
    event.preventDefault();
    selection.modify(event.shiftKey ? "extend" : "move", direction, granularity);
  });


  // A message goes away when clicked.
  document.getElementById("flash").addEventListener("click", function (event) {
    var message = event.target.closest(".flash");
    if (message && !event.target.closest("button, a")) message.remove();
  });

  if (audience) audience.addEventListener("change", describeAudience);

  // Saved: the toolbar goes; focus goes to the new card (static/js/focus.js).
  document.body.addEventListener("annotation-saved", function (event) {
    document.dispatchEvent(new CustomEvent("marginalia:draft-sent", { detail: textarea }));
    hideToolbar();
    resetNote();
    var selection = window.getSelection();
    if (selection) selection.removeAllRanges();
    announce(event.detail.comment ? "Comment saved." : "Highlight saved.");
    setTimeout(function () { lightMarks(event.detail.id); }, 0); // once its marks are in
  });

  // --- the new highlight, drawn at once ------------------------------------------------
  // Pressing Highlight draws the passage in its colour at once, as pending pieces
  // (mark.pending-mark, striped: static/css/app.css), while the note is written; the
  // server's answer replaces their blocks with its own marks. They carry no data-at, so
  // nothing that reads the notes' marks (n and p, the notes at a spot, their descriptions,
  // the printed numbers) takes them for one, and role=none: a screen reader reads their
  // text as before and hears "Highlight saved." once it is. If nothing was saved (an error,
  // no connection) they go, the error is said as for any write (resilience.js, or the
  // server's message), and the passage is selected again, its toolbar back.
  var drawn = new WeakMap(); // xhr -> {pieces, start, end}

  function drawPieces(start, end, colour) {
    var indexed = textIndex();
    var cuts = [];
    var i = firstWhere(indexed.nodes.length, function (k) { return indexed.ends[k] > start; });
    for (; i < indexed.nodes.length && indexed.starts[i] < end; i++) {
      var node = indexed.nodes[i];
      var from = indexed.starts[i];
      var a = Math.max(start, from) - from, b = Math.min(end, indexed.ends[i]) - from;
      if (b <= a) continue;
      var chars = Array.from(node.data);
      cuts.push([node, chars.slice(0, a).join("").length, chars.slice(0, b).join("").length]);
    }
    return cuts.map(function (cut) {
      var text = cut[0];
      if (cut[2] < text.data.length) text.splitText(cut[2]);
      if (cut[1] > 0) text = text.splitText(cut[1]);
      var piece = document.createElement("mark");
      piece.className = "pending-mark hl-" + colour;
      piece.setAttribute("role", "none");
      text.parentNode.insertBefore(piece, text);
      piece.appendChild(text);
      return piece;
    });
  }

  function removePieces(pieces) {
    pieces.forEach(function (piece) {
      var parent = piece.parentNode;
      if (!parent || !body.contains(piece)) return; // its block was redrawn
      piece.replaceWith.apply(piece, Array.prototype.slice.call(piece.childNodes));
      parent.normalize();
    });
  }

  form.addEventListener("htmx:beforeSend", function (event) {
    var detail = event.detail;
    var values = detail.requestConfig && detail.requestConfig.formData;
    if (!values || values.get("intent") !== "highlight") return;
    var start = Number(values.get("start")), end = Number(values.get("end"));
    var colour = String(values.get("colour") || "");
    if (!(end > start) || !/^[a-z]+$/.test(colour)) return;
    // Just after the request has left, in the same task: before the next frame.
    queueMicrotask(function () {
      var selection = window.getSelection();
      // The selection would hide the passage's colour; it comes back if nothing is saved.
      if (selection && selection.rangeCount && body.contains(selection.getRangeAt(0).commonAncestorContainer)) {
        selection.removeAllRanges();
      }
      drawn.set(detail.xhr, { pieces: drawPieces(start, end, colour), start: start, end: end });
    });
  });

  form.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var was = xhr && drawn.get(xhr);
    if (!was) return;
    drawn.delete(xhr);
    removePieces(was.pieces);
    var saved = xhr.status >= 200 && xhr.status < 300 &&
      (xhr.getResponseHeader("HX-Trigger") || "").indexOf("annotation-saved") !== -1;
    if (saved) return;
    // Not saved: the passage selected again (unless another has been selected meanwhile),
    // and the toolbar offered for it as before the press.
    var selection = window.getSelection();
    var range = rangeOf(was.start, was.end);
    if (!range || !selection || (selection.rangeCount && !selection.isCollapsed)) return;
    selection.removeAllRanges();
    selection.addRange(range);
    if (pending && pending.start === was.start && pending.end === was.end) pending.range = range.cloneRange();
  });

  // --- marks and cards ----------------------------------------------------------------

  function focusCard(card, scroll) {
    document.querySelectorAll(".card.active").forEach(function (c) { c.classList.remove("active"); });
    card.classList.add("active");
    card.focus({ preventScroll: !scroll });
    if (scroll !== false) card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    lightMarks(card.dataset.annotation);
  }

  function lightMarks(id) {
    body.querySelectorAll("mark.active").forEach(function (m) { m.classList.remove("active"); });
    marksOf(id).forEach(function (m) { m.classList.add("active"); });
  }

  // How many notes a mark has (its depth, capped at 4 in the page), said when it takes
  // focus (n/p) or is read. Thousands of marks are described in idle time, a batch at a
  // time, not before the page may show; one that takes focus first is described then.
  function describeMark(m) {
    if (m.hasAttribute("aria-description")) return;
    var found = /\bdepth-(\d+)/.exec(m.className);
    var count = found ? Number(found[1]) : 1;
    var words = count === 1 ? "1 note" : count >= 4 ? "4 or more notes" : count + " notes";
    m.setAttribute("aria-description", words + " here; Enter opens them");
  }
  function whenIdle(work) {
    if (window.requestIdleCallback) return window.requestIdleCallback(work);
    return setTimeout(function () { work({ timeRemaining: function () { return 8; } }); }, 1);
  }
  function describeMarks(root) {
    var marks = (root || body).querySelectorAll("mark[data-at]");
    var next = 0;
    function batch(deadline) {
      do {
        for (var stop = Math.min(marks.length, next + 200); next < stop; next++) describeMark(marks[next]);
      } while (next < marks.length && deadline.timeRemaining() > 1);
      if (next < marks.length) whenIdle(batch);
    }
    if (marks.length) whenIdle(batch);
  }
  body.addEventListener("focusin", function (event) {
    if (event.target.matches("mark[data-at]")) describeMark(event.target);
  });
  // The page's own marks once it has loaded: idle time before its load event is still
  // part of loading it, and a busy page's thousands of marks held that event up.
  if (document.readyState === "complete") describeMarks();
  else window.addEventListener("load", function () { describeMarks(); }, { once: true });
  document.body.addEventListener("htmx:load", function (event) {
    if (body.contains(event.detail.elt)) describeMarks(event.detail.elt.parentElement || body);
  });

  // A mark is a run of text drawn alike (webapp/text/marks.py): it says where it starts
  // (data-at), not which notes cover it, and may begin before a note or end after it. Where
  // one note's own passage matters (its marks lit, the first one focused, a printed
  // number), its marks are cut at its start and end: two marks of the same look, each
  // saying where it starts, so that its passage is the marks starting in its range.
  function markAt(offset) {
    var indexed = textIndex();
    var i = firstWhere(indexed.nodes.length, function (k) { return indexed.ends[k] > offset; });
    if (i === indexed.nodes.length || indexed.starts[i] > offset) return null;
    var mark = indexed.nodes[i].parentElement.closest("mark[data-at]");
    return mark && body.contains(mark) ? { mark: mark, node: indexed.nodes[i], from: indexed.starts[i] } : null;
  }
  function cutMarkAt(offset) {
    var found = markAt(offset);
    if (!found || Number(found.mark.dataset.at) >= offset) return found && found.mark;
    var mark = found.mark;
    var range = document.createRange();
    range.setStart(found.node, Array.from(found.node.data).slice(0, offset - found.from).join("").length);
    range.setEndAfter(mark.lastChild);
    var rest = mark.cloneNode(false);
    rest.setAttribute("data-at", String(offset));
    rest.removeAttribute("data-note");
    rest.removeAttribute("tabindex");
    rest.appendChild(range.extractContents());
    mark.after(rest);
    return rest;
  }
  function marksOf(id) {
    var card = document.getElementById("annotation-" + id);
    if (!card) return [];
    var start = Number(card.dataset.start), end = Number(card.dataset.end);
    cutMarkAt(start);
    cutMarkAt(end);
    return Array.prototype.filter.call(body.querySelectorAll("mark[data-at]"), function (m) {
      var at = Number(m.dataset.at);
      return at >= start && at < end;
    });
  }

  // The notes at a spot are those covering the character clicked (or after the caret),
  // kept inside the mark: a caret at the mark's far edge, or on a neighbour's first
  // character when the click was on the mark's last one, still means this mark.
  function spotIn(mark, node, index, x) {
    var start = Number(mark.dataset.at);
    var last = start + codePoints(mark.textContent) - 1;
    if (!node || node.nodeType !== 3 || !spanOf(node) || !body.contains(node)) return start;
    var at = offsetOf(node, index);
    if (x !== undefined) {
      // A click puts the caret at the nearer edge of the character: after it, or before.
      var units = index < node.data.length ? Array.from(node.data.slice(index, index + 2))[0].length : 0;
      var box = null;
      if (units) {
        var range = document.createRange();
        range.setStart(node, index);
        range.setEnd(node, index + units);
        box = range.getBoundingClientRect();
      }
      if (!box || x < box.left || x > box.right) at -= 1;
    }
    return Math.max(start, Math.min(last, at));
  }
  function caretAt(x, y) {
    if (document.caretPositionFromPoint) {
      var position = document.caretPositionFromPoint(x, y);
      return position && { node: position.offsetNode, index: position.offset };
    }
    var range = document.caretRangeFromPoint && document.caretRangeFromPoint(x, y);
    return range && { node: range.startContainer, index: range.startOffset };
  }

  // The notes at a spot come from the server, all together, into the sidebar's #spot; a
  // spot of one note also focuses its card.
  var spot = document.getElementById("spot");
  // `at`: the character asked about (else the one after the caret, in the mark).
  function openSpot(mark, at) {
    if (!spot || !window.htmx) return;
    if (at === undefined) {
      var selection = window.getSelection();
      var inside = selection.rangeCount && selection.isCollapsed && mark.contains(selection.focusNode);
      at = inside ? spotIn(mark, selection.focusNode, selection.focusOffset) : Number(mark.dataset.at);
    }
    var url = spot.dataset.url + "&at=" + encodeURIComponent(at);
    body.querySelectorAll("mark.spotted").forEach(function (m) { m.classList.remove("spotted"); });
    mark.classList.add("spotted");
    htmx.ajax("GET", url, { target: spot, swap: "innerHTML" }).then(function () {
      var notes = spot.querySelectorAll("[data-spot-note]");
      var title = spot.querySelector(".spot-title");
      if (title) announce(title.textContent + ".");
      if (notes.length === 1) {
        withCard(notes[0].dataset.spotNote, function (card) { focusCard(card, true); });
        return;
      }
      if (title) {
        title.scrollIntoView({ block: "nearest", behavior: "smooth" });
        title.focus({ preventScroll: true });
      }
    });
  }

  // The open notes at a spot follow every change: after a write (a delete, Undo, an edit,
  // hiding, a vote, a new note) or a poll that brought others' changes, they are asked for
  // again. Focus stays where it is; if it was in the panel, it goes back to the same note
  // (or the panel's title). A changed count is said.
  var refreshing = null;
  function refreshSpot() {
    var section = spot && spot.querySelector(".spot[data-at]");
    if (!section || !window.htmx) return;
    if (refreshing) { refreshing.again = true; return; }
    var title = section.querySelector(".spot-title");
    var said = title ? title.textContent : "";
    var inside = spot.contains(document.activeElement);
    var note = inside && document.activeElement.closest("[data-spot-note]");
    var keep = note ? note.dataset.spotNote : null;
    var url = spot.dataset.url + "&at=" + encodeURIComponent(section.dataset.at);
    var ask = refreshing = { again: false };
    htmx.ajax("GET", url, { target: spot, swap: "innerHTML" }).then(function () {
      refreshing = null;
      var now = spot.querySelector(".spot-title");
      if (inside && !spot.contains(document.activeElement)) {
        var same = keep && spot.querySelector('[data-spot-note="' + keep + '"] [data-card]');
        var to = same || now;
        if (to) to.focus({ preventScroll: true });
      }
      if (now && now.textContent !== said) announce(now.textContent + ".");
      if (ask.again) refreshSpot();
    }, function () { refreshing = null; });
  }
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    var config = detail.requestConfig;
    if (!detail.successful || !config || !detail.xhr) return;
    var polled = config.elt && config.elt.id === "live";
    if (polled ? detail.xhr.status === 200 : String(config.verb).toLowerCase() !== "get") refreshSpot();
  });

  body.addEventListener("click", function (event) {
    var mark = event.target.closest("mark[data-at]");
    if (!mark || !window.getSelection().isCollapsed) return;
    var caret = caretAt(event.clientX, event.clientY);
    openSpot(mark, caret ? spotIn(mark, caret.node, caret.index, event.clientX) : undefined);
  });
  // Enter with the caret on a mark asks for its notes, as a click does.
  body.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.ctrlKey || event.metaKey || event.altKey) return;
    var selection = window.getSelection();
    if (!selection.rangeCount || !selection.isCollapsed) return;
    var node = selection.focusNode;
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    var mark = element && element.closest("mark[data-at]");
    if (!mark || !body.contains(mark)) return;
    event.preventDefault();
    openSpot(mark, spotIn(mark, node, selection.focusOffset));
  });
  // A spot's notes come a page at a time: "More notes at this spot" brings the next page
  // in its place, focus goes to the first note it brought, and what came is said.
  function moreAtSpot(link) {
    var item = link.closest("[data-spot-more]");
    var before = spot.querySelectorAll("[data-spot-note]").length;
    htmx.ajax("GET", link.dataset.next, { target: item, swap: "outerHTML" }).then(function () {
      var notes = spot.querySelectorAll("[data-spot-note]");
      var first = notes[before];
      if (!first) return;
      var added = notes.length - before;
      first.scrollIntoView({ block: "nearest", behavior: "smooth" });
      first.focus({ preventScroll: true });
      announce((added === 1 ? "1 more note" : added + " more notes") + ", " + (before + 1) +
        " to " + notes.length + " of " + link.dataset.total + ".");
    });
  }

  if (spot) {
    spot.addEventListener("click", function (event) {
      var more = event.target.closest("[data-spot-more] a");
      if (more && window.htmx) {
        event.preventDefault();
        moreAtSpot(more);
        return;
      }
      if (event.target.closest("[data-action=close-spot]")) {
        var spotted = body.querySelector("mark.spotted");
        spot.innerHTML = "";
        if (spotted) {
          spotted.classList.remove("spotted");
          focusMark(spotted); // back to the same place in the text
        } else {
          body.focus({ preventScroll: true });
        }
        return;
      }
      var open = event.target.closest("[data-card]");
      if (!open) return;
      event.preventDefault();
      withCard(open.dataset.card, function (card) { focusCard(card, true); });
    });
  }

  // A switch hides every highlight (to read the text plain); the choice is remembered.
  var toggle = document.getElementById("toggle-highlights");
  function showHighlights(on) {
    document.documentElement.classList.toggle("highlights-off", !on);
    if (toggle) toggle.setAttribute("aria-pressed", on ? "false" : "true");
  }
  if (toggle) {
    var stored = null;
    try { stored = window.localStorage.getItem("marginalia.highlights"); } catch (e) { stored = null; }
    showHighlights(stored !== "off");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var on = document.documentElement.classList.contains("highlights-off");
      showHighlights(on);
      try { window.localStorage.setItem("marginalia.highlights", on ? "on" : "off"); } catch (e) { /* private mode */ }
    });
  }

  // Cards load lazily as the sidebar scrolls; a click on a mark whose card is not loaded
  // yet loads the pages up to it.
  function withCard(id, then) {
    var card = document.getElementById("annotation-" + id);
    if (card) return then(card);
    var more = document.querySelector(".cards-more");
    if (!more || !window.htmx) return;
    var url = more.getAttribute("hx-get") + "&through=" + encodeURIComponent(id);
    htmx.ajax("GET", url, { target: more, swap: "outerHTML" }).then(function () {
      var loaded = document.getElementById("annotation-" + id);
      if (loaded) then(loaded);
    });
  }

  // A card created while later pages were still unloaded can arrive twice: keep the first.
  document.body.addEventListener("htmx:afterSettle", function () {
    var seen = {};
    document.querySelectorAll("#cards > .card").forEach(function (card) {
      if (seen[card.id]) card.remove();
      seen[card.id] = true;
    });
  });

  // A card's quote leads to its passage: the first mark takes focus (Escape or Enter
  // there come back to the notes).
  function focusMark(mark, id) {
    mark.setAttribute("tabindex", "-1");
    mark.focus({ preventScroll: true });
    mark.scrollIntoView({ block: "center", behavior: "smooth" });
    var selection = window.getSelection();
    var first = textNodes(mark)[0];
    if (first) selection.collapse(first, 0);
    if (id) lightMarks(id);
  }

  // Whether a note (its card's range) covers a mark.
  function covers(id, mark) {
    return marksOf(id).indexOf(mark) !== -1;
  }

  document.addEventListener("click", function (event) {
    var jump = event.target.closest("[data-jump]");
    if (!jump) return;
    event.preventDefault();
    var marks = marksOf(jump.dataset.jump);
    if (!marks.length) return;
    var card = jump.closest(".card");
    if (card) {
      document.querySelectorAll(".card.active").forEach(function (c) { c.classList.remove("active"); });
      card.classList.add("active");
    }
    focusMark(marks[0], jump.dataset.jump);
  });

  window.Marginalia = window.Marginalia || {};
  window.Marginalia.reader = {
    body: body,
    capture: capture,
    offer: offer,
    openComment: openComment,
    highlight: highlightIt,
    backToText: backToText,
    rangeOf: rangeOf,
    covers: covers,
    marksOf: marksOf,
    markAt: function (offset) { var found = markAt(offset); return found && found.mark; },
    cutMarkAt: cutMarkAt,
    focusMark: focusMark,
    openSpot: openSpot,
  };
})();
