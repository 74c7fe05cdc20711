// The sidebar's live side: cards that arrive out of band (a new note, a poll's changes) are
// put in their place; the card a reader is typing in is never replaced; a small "N new"
// notice points at new notes that arrived out of sight. What arrives is said in the live
// region ("2 new notes from ann and ben."), as is what a filter shows.
(function () {
  "use strict";

  var cards = document.getElementById("cards");
  if (!cards || !window.htmx) return;
  var notice = document.getElementById("live-notice");
  var sortSelect = document.getElementById("filter-sort");
  var polling = false;
  var unseen = [];
  var arrived = []; // authors of the notes the last poll brought
  var announce = (window.Marginalia && window.Marginalia.announce) || function () {};

  function names(list) {
    var unique = list.filter(function (name, i) { return list.indexOf(name) === i; });
    if (unique.length < 2) return unique.join("");
    return unique.slice(0, -1).join(", ") + " and " + unique[unique.length - 1];
  }

  function num(card, name) { return parseFloat(card.getAttribute("data-" + name)) || 0; }

  // Negative when card a comes before card b in the current order (pinned notes first).
  function compare(a, b) {
    var byPin = num(b, "pinned") - num(a, "pinned");
    if (byPin) return byPin;
    var sort = cards.getAttribute("data-sort");
    var keys = sort === "newest" ? [["created", -1], ["annotation", -1]]
      : sort === "votes" ? [["votes", -1], ["start", 1], ["end", 1], ["annotation", 1]]
      : [["start", 1], ["end", 1], ["annotation", 1]];
    for (var i = 0; i < keys.length; i++) {
      var d = (num(a, keys[i][0]) - num(b, keys[i][0])) * keys[i][1];
      if (d) return d;
    }
    return 0;
  }

  // Insert a card in order among the loaded ones; past the loaded range a later page
  // brings it, so it is left out.
  function insert(card) {
    var loaded = cards.querySelectorAll(":scope > .card");
    for (var i = 0; i < loaded.length; i++) {
      if (compare(card, loaded[i]) < 0) {
        loaded[i].before(card);
        return true;
      }
    }
    if (cards.querySelector(".cards-more")) return false;
    cards.appendChild(card);
    return true;
  }

  function outOfSight(card) {
    var box = card.getBoundingClientRect();
    var sidebar = document.getElementById("sidebar").getBoundingClientRect();
    var top = Math.max(0, sidebar.top);
    var bottom = Math.min(window.innerHeight, sidebar.bottom);
    return box.bottom < top || box.top > bottom;
  }

  function showNotice() {
    if (!notice) return;
    unseen = unseen.filter(function (card) { return document.body.contains(card); });
    notice.hidden = unseen.length === 0;
    notice.textContent = unseen.length === 1 ? "1 new note" : unseen.length + " new notes";
  }

  // Cards with a request of their own under way (a vote, an edit form opening): their
  // answer redraws them, and a poll's copy must not pull the target from under it.
  var asking = {};
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var card = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest(".card");
    if (card && card.id) asking[card.id] = (asking[card.id] || 0) + 1;
    event.detail.xhr.__card = card ? card.id : null;
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var id = event.detail.xhr && event.detail.xhr.__card;
    if (id && asking[id] && !--asking[id]) delete asking[id];
  });

  function busy(card) {
    if (asking[card.id]) return true;
    // A card with a form open (an edit, a reply) is the reader's until they save or cancel.
    if (card.querySelector("form textarea")) return true;
    var active = document.activeElement;
    if (active && card.contains(active) && active.matches("textarea, input, select")) return true;
    return Array.prototype.some.call(card.querySelectorAll("textarea, input[type=text], input:not([type])"),
      function (field) { return field.value !== field.defaultValue; });
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    polling = event.detail.elt && event.detail.elt.id === "live";
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    polling = false;
    if (event.detail.elt && event.detail.elt.id === "live" && arrived.length) {
      var count = arrived.length;
      announce((count === 1 ? "1 new note" : count + " new notes") + " from " + names(arrived) + ".");
      arrived = [];
    }
  });

  // A filter or a sort redrew the list: say what it shows (focus stays on the control).
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig;
    if (!config || !config.elt || config.elt.id !== "sidebar-filters" || event.detail.xhr.status !== 200) return;
    var shown = cards.querySelectorAll(":scope > .card").length;
    var more = cards.querySelector(".cards-more") ? ", more as you scroll" : "";
    announce(shown === 0 ? "No notes match." : (shown === 1 ? "1 note" : shown + " notes") + " shown" + more + ".");
  });

  // An out-of-band element swaps into the element of its id. A card new to this page (a
  // note just saved, one a poll brings) has none yet: before the swap, an empty copy of it
  // is put in its place in the order, and the swap fills it in. One past the loaded cards
  // is left to a later page, and one already gone (a note deleted here, whose deletion a
  // poll then brings too) needs nothing: both are dropped from the answer, as htmx would
  // find no element for them.
  var fresh = []; // ids of the cards a poll brought, to mark once they are in
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var response = event.detail.serverResponse;
    if (!event.detail.shouldSwap || typeof response !== "string" || response.indexOf("hx-swap-oob") < 0) return;
    var parsed = document.createElement("template");
    parsed.innerHTML = response;
    var dropped = false;
    Array.prototype.forEach.call(parsed.content.querySelectorAll("[hx-swap-oob]"), function (element) {
      var how = element.getAttribute("hx-swap-oob");
      if (!element.id || how.indexOf(":") >= 0 || document.getElementById(element.id)) return;
      if (how !== "delete" && element.classList.contains("card")) {
        var place = element.cloneNode(false);
        place.removeAttribute("hx-swap-oob");
        if (insert(place)) {
          if (polling) {
            var author = element.querySelector(".author");
            arrived.push(author ? author.textContent.trim() : "someone");
            fresh.push(element.id);
          }
          return;
        }
      }
      element.remove();
      dropped = true;
    });
    if (dropped) event.detail.serverResponse = parsed.innerHTML;
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    if (!fresh.length) return;
    fresh.forEach(function (id) {
      var card = document.getElementById(id);
      if (!card) return;
      card.classList.add("fresh");
      if (outOfSight(card)) unseen.push(card);
    });
    fresh = [];
    showNotice();
  });

  // Never replace a card the reader is typing in; the next change brings it up to date.
  document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.classList && target.classList.contains("card") && busy(target)) {
      event.detail.shouldSwap = false;
    }
  });

  // The article's blocks a poll redraws wait while the reader selects or has the toolbar
  // (or its comment box) open: redrawing them would drop the selection, and the passage
  // the toolbar would go back to. They are put in once the selection is gone and the
  // toolbar closed; a block the reader's own action redraws meanwhile needs them no more.
  var article = document.getElementById("article-body");
  var toolbar = document.getElementById("annotate-form");
  var held = {}; // block id -> the newest copy a poll brought, as HTML
  var holding = 0;

  function selecting() {
    if (toolbar && !toolbar.hidden) return true;
    var selection = window.getSelection();
    if (!selection || !selection.rangeCount || selection.isCollapsed) return false;
    return selection.getRangeAt(0).intersectsNode(article);
  }

  document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!article || !target || !target.id || !article.contains(target)) return;
    if (!polling || !selecting()) {
      if (held[target.id]) { delete held[target.id]; holding -= 1; }
      return;
    }
    var copy = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!copy) return;
    copy = copy.cloneNode(true);
    copy.removeAttribute("hx-swap-oob");
    if (!held[target.id]) holding += 1;
    held[target.id] = copy.outerHTML;
    event.detail.shouldSwap = false;
  });

  function release() {
    if (!holding || selecting()) return;
    var waiting = held;
    held = {};
    holding = 0;
    Object.keys(waiting).forEach(function (id) {
      var block = document.getElementById(id);
      if (block && article.contains(block)) htmx.swap(block, waiting[id], { swapStyle: "outerHTML" });
    });
  }
  document.addEventListener("selectionchange", release);
  if (toolbar && window.MutationObserver) {
    new MutationObserver(release).observe(toolbar, { attributes: true, attributeFilter: ["hidden"] });
  }

  if (notice) {
    notice.addEventListener("click", function () {
      var first = unseen[0];
      unseen = [];
      showNotice();
      if (first && document.body.contains(first)) {
        first.scrollIntoView({ block: "nearest", behavior: "smooth" });
        first.focus({ preventScroll: true });
      }
    });
  }
  document.getElementById("sidebar").addEventListener("scroll", function () {
    unseen = unseen.filter(outOfSight);
    showNotice();
  }, { passive: true });

  if (sortSelect) {
    sortSelect.addEventListener("change", function () {
      cards.setAttribute("data-sort", sortSelect.value);
    });
  }
})();
