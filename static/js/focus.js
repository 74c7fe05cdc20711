// Focus after every htmx action: a swap never drops it on the page. The element that sent
// the request may say where focus goes next (data-then):
//   field      the new card's first text box (Reply, Edit open a form there)
//   opener     back to what opened the form (Cancel, Escape)
//   new-reply  the reply just posted
//   card       the card
//   undo       the Undo button of the message (after a delete)
//   saved      the card of the note just saved (the toolbar), else back to the article
//   <id>       the element with that id (e.g. a restored card)
// Without data-then focus stays on the same control in the redrawn card (a vote, a pin),
// or on the card. A swap that replaces what has focus (another reader's change arriving)
// puts focus back on the same control.
(function () {
  "use strict";

  if (!window.htmx) return;
  var pending = new WeakMap(); // xhr -> what was focused and where focus should go
  var openers = {}; // card id -> the control that opened its form

  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";

  // Enough to find "the same control" again in a redrawn card.
  function describe(el) {
    if (!el || el === document.body || !el.parentElement) return null;
    var scope = el.parentElement.closest("[id]");
    var form = el.closest("form");
    return {
      id: el.id || null,
      scope: scope ? scope.id : null,
      tag: el.tagName,
      action: form ? form.getAttribute("action") : null,
      href: el.getAttribute("href"),
      at: el.getAttribute("data-at"),
      text: el.tagName === "MARK" ? el.textContent : null,
      name: el.getAttribute("name"),
      summary: el.tagName === "SUMMARY",
    };
  }

  function locate(d) {
    if (!d) return null;
    if (d.id && document.getElementById(d.id)) return document.getElementById(d.id);
    var scope = d.scope && document.getElementById(d.scope);
    if (!scope) return null;
    var found = Array.prototype.filter.call(scope.querySelectorAll(d.tag), function (el) {
      var form = el.closest("form");
      if (d.href !== null) return el.getAttribute("href") === d.href;
      if (d.text !== null) return el.getAttribute("data-at") === d.at && el.textContent === d.text;
      if (d.action !== null) return form && form.getAttribute("action") === d.action && el.getAttribute("name") === d.name;
      return d.summary;
    });
    // Else the same form, redrawn with other fields (Hide became Unhide): its button.
    var form = d.action && scope.querySelector('form[action="' + d.action + '"]');
    var el = found[0] || (form ? form.querySelector("button") : null);
    // In a closed disclosure (Unhide became the Hide box): its summary.
    var closed = el && el.closest("details:not([open])");
    return closed ? closed.querySelector("summary") : el;
  }

  function focus(el) {
    if (!el || !document.body.contains(el)) return false;
    if (!el.matches(FOCUSABLE)) el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
    return document.activeElement === el;
  }

  function lost() {
    var active = document.activeElement;
    return !active || active === document.body || !document.body.contains(active);
  }

  function replyIds(card) {
    return card ? Array.prototype.map.call(card.querySelectorAll(".reply[id]"), function (r) { return r.id; }) : [];
  }

  // A card being redrawn takes no second action: a key pressed on its old controls would act
  // on what is about to go. Stopped before any other listener counts the request as sent.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var card = elt && elt.id !== "live" && elt.closest && elt.closest(".card");
    if (card && card.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig || {};
    var elt = config.elt || event.detail.elt;
    if (!elt || elt.id === "live") return;
    var card = elt.closest(".card");
    // A card says it is busy while an answer that redraws it is out.
    var target = event.detail.target;
    if (card && target && (target === card || target.contains(card))) card.setAttribute("aria-busy", "true");
    var then = elt.closest("[data-then]");
    var active = document.activeElement;
    var record = {
      active: active,
      control: describe(active && active !== document.body ? active : elt),
      then: then ? then.getAttribute("data-then") : null,
      card: card ? card.id : null,
      replies: replyIds(card),
    };
    if (record.then === "field" && card) openers[card.id] = describe(elt);
    pending.set(event.detail.xhr, record);
  });

  function land(record, xhr) {
    var card = record.card && document.getElementById(record.card);
    var then = record.then;
    if (xhr.status < 200 || (xhr.status >= 300 && xhr.status !== 304)) {
      // Refused or failed: nothing was redrawn; focus stays where it was, or comes back.
      if (lost()) focus(locate(record.control) || card);
      return;
    }
    // The reader moved on while the request was out: leave focus where they put it.
    if (!lost() && document.activeElement !== record.active && document.body.contains(record.active)) return;
    if (then === "field" && card) {
      if (focus(card.querySelector("form textarea") || card.querySelector("form input:not([type=hidden])"))) return;
    } else if (then === "opener" && card) {
      var opener = locate(openers[record.card]);
      delete openers[record.card];
      if (focus(opener)) return;
    } else if (then === "new-reply" && card) {
      var fresh = replyIds(card).filter(function (id) { return record.replies.indexOf(id) === -1; });
      if (fresh.length && focus(document.getElementById(fresh[fresh.length - 1]))) return;
    } else if (then === "saved") {
      var saved = savedId(xhr);
      if (saved && focus(document.getElementById("annotation-" + saved))) return;
      if (focus(document.getElementById("article-body"))) return;
    } else if (then === "undo") {
      if (focus(document.querySelector("#flash .undo"))) return;
    } else if (then && then !== "card") {
      if (focus(document.getElementById(then))) return;
    }
    if (then !== "card" && !lost() && document.activeElement !== document.body) return;
    if (then !== "card" && focus(locate(record.control))) return;
    if (!focus(card) && lost()) {
      // The card left the view (deleted, filtered out): the sidebar's list takes focus.
      focus(document.getElementById("cards"));
    }
  }

  function savedId(xhr) {
    try {
      return JSON.parse(xhr.getResponseHeader("HX-Trigger") || "{}")["annotation-saved"].id;
    } catch (e) {
      return null;
    }
  }

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var record = pending.get(event.detail.xhr);
    if (!record) return;
    var old = record.card && document.getElementById(record.card);
    if (old) old.removeAttribute("aria-busy"); // not redrawn (refused, failed): usable again
    pending.delete(event.detail.xhr);
    land(record, event.detail.xhr);
  });

  // Another reader's change (the poll) may redraw the card that has focus: same control.
  var kept = null;
  document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (target && active && active !== document.body && target.contains(active)) kept = describe(active);
  });
  document.body.addEventListener("htmx:oobAfterSwap", function () {
    if (kept && lost()) focus(locate(kept));
    kept = null;
  });

  window.Marginalia = window.Marginalia || {};
  window.Marginalia.focus = focus;
})();
