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
  var pending = null; // {start, end, exact, rect} captured before a click can clear it

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

  // Offset of (text node, UTF-16 index) in the canonical text.
  function offsetOf(node, index) {
    var span = spanOf(node);
    var offset = parseInt(span.getAttribute("data-o"), 10);
    var nodes = textNodes(span);
    for (var i = 0; i < nodes.length && nodes[i] !== node; i++) offset += codePoints(nodes[i].data);
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
    var all = textNodes(body);
    if (!all.length) return null;
    function position(container, index, isEnd) {
      if (container.nodeType === 3 && spanOf(container) && body.contains(container)) {
        return { node: container, index: index };
      }
      var probe = document.createRange();
      probe.setStart(container, index);
      if (isEnd) {
        for (var i = all.length - 1; i >= 0; i--) {
          if (probe.comparePoint(all[i], all[i].data.length) <= 0) {
            return { node: all[i], index: all[i].data.length };
          }
        }
        return null;
      }
      for (var j = 0; j < all.length; j++) {
        if (probe.comparePoint(all[j], 0) >= 0) return { node: all[j], index: 0 };
      }
      return null;
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
    var out = "";
    var at = start;
    textNodes(body).forEach(function (node) {
      var from = offsetOf(node, 0);
      var chars = Array.from(node.data);
      var to = from + chars.length;
      if (to <= start || from >= end) return;
      var a = Math.max(start, from);
      var b = Math.min(end, to);
      if (a > at) out += "\n".repeat(a - at);
      out += chars.slice(a - from, b - from).join("");
      at = b;
    });
    return out;
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
    if (!commentBox || commentBox.hidden) resetNote();
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
  // marked with the CSS Custom Highlight API where the browser has it.
  function showPending(range) {
    if (!window.CSS || !CSS.highlights || typeof Highlight === "undefined") return;
    if (range) CSS.highlights.set("pending", new Highlight(range));
    else CSS.highlights.delete("pending");
  }

  function openComment() {
    if (!pending || !commentBox) return;
    var selection = window.getSelection();
    if (selection.rangeCount) showPending(selection.getRangeAt(0).cloneRange());
    commentBox.hidden = false;
    place(pending.rect);
    textarea.focus();
  }

  var timer = null;
  document.addEventListener("selectionchange", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  });
  document.addEventListener("mouseup", function (event) {
    if (!form.contains(event.target)) setTimeout(update, 0);
  });
  // Keep the selection when a toolbar button is pressed.
  form.addEventListener("mousedown", function (event) {
    if (event.target.closest("button, .swatch")) event.preventDefault();
  });
  form.addEventListener("click", function (event) {
    var action = event.target.closest("[data-action]");
    if (!action) return;
    if (action.dataset.action === "comment") openComment();
    if (action.dataset.action === "cancel") hideToolbar();
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hideToolbar();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === textarea) {
      event.preventDefault();
      form.requestSubmit(form.querySelector("button[value=comment]"));
    }
  });
  // Keyboard: the article body takes focus (Tab, or a click) and keeps a caret; arrows
  // move it, shift+arrows extend the selection (ctrl for words), as caret browsing would.
  var ARROWS = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "backward", ArrowDown: "forward" };
  body.setAttribute("tabindex", "0");
  body.addEventListener("focus", function () {
    var selection = window.getSelection();
    if (selection.rangeCount && body.contains(selection.anchorNode)) return;
    var first = textNodes(body)[0];
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

  // With a selection, h highlights and c opens the comment box.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "Escape") { hideToolbar(); return; }
    if (event.key !== "h" && event.key !== "c") return;
    var selection = capture();
    if (!selection) return;
    event.preventDefault();
    offer(selection);
    if (event.key === "h") form.requestSubmit(form.querySelector("button[value=highlight]"));
    else openComment();
  });

  // A message goes away when clicked.
  document.getElementById("flash").addEventListener("click", function (event) {
    var message = event.target.closest(".flash");
    if (message && !event.target.closest("button, a")) message.remove();
  });

  if (audience) audience.addEventListener("change", describeAudience);

  document.body.addEventListener("annotation-saved", function (event) {
    hideToolbar();
    resetNote();
    var selection = window.getSelection();
    if (selection) selection.removeAllRanges();
    var card = document.getElementById("annotation-" + event.detail.id);
    if (card) focusCard(card, false);
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

  // A mark says where it starts (data-at); a note covers the marks starting in its range.
  function marksOf(id) {
    var card = document.getElementById("annotation-" + id);
    if (!card) return [];
    var start = Number(card.dataset.start), end = Number(card.dataset.end);
    return Array.prototype.filter.call(body.querySelectorAll("mark[data-at]"), function (m) {
      var at = Number(m.dataset.at);
      return at >= start && at < end;
    });
  }

  // The notes at a spot come from the server, all together, into the sidebar's #spot; a
  // spot of one note also focuses its card.
  var spot = document.getElementById("spot");
  function openSpot(mark) {
    if (!spot || !window.htmx) return;
    var url = spot.dataset.url + "&at=" + encodeURIComponent(mark.dataset.at);
    body.querySelectorAll("mark.spotted").forEach(function (m) { m.classList.remove("spotted"); });
    mark.classList.add("spotted");
    htmx.ajax("GET", url, { target: spot, swap: "innerHTML" }).then(function () {
      var notes = spot.querySelectorAll("[data-spot-note]");
      if (notes.length === 1) {
        withCard(notes[0].dataset.spotNote, function (card) { focusCard(card, true); });
        return;
      }
      var title = spot.querySelector(".spot-title");
      if (title) {
        title.scrollIntoView({ block: "nearest", behavior: "smooth" });
        title.focus({ preventScroll: true });
      }
    });
  }

  body.addEventListener("click", function (event) {
    var mark = event.target.closest("mark[data-at]");
    if (!mark || !window.getSelection().isCollapsed) return;
    openSpot(mark);
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
    openSpot(mark);
  });
  if (spot) {
    spot.addEventListener("click", function (event) {
      if (event.target.closest("[data-action=close-spot]")) {
        var spotted = body.querySelector("mark.spotted");
        spot.innerHTML = "";
        if (spotted) spotted.classList.remove("spotted");
        body.focus({ preventScroll: true });
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

  document.addEventListener("click", function (event) {
    var jump = event.target.closest("[data-jump]");
    if (!jump) return;
    event.preventDefault();
    var marks = marksOf(jump.dataset.jump);
    if (!marks.length) return;
    marks[0].scrollIntoView({ block: "center", behavior: "smooth" });
    var card = jump.closest(".card");
    if (card) focusCard(card, false);
  });
})();
