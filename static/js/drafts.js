// Drafts: what is typed in a comment, reply or edit box (textarea[data-draft]) is kept in
// this browser, per article and passage or per note, until it is sent or cancelled: a
// reload, a crash or a dropped connection loses nothing, and the boxes open again with it.
// Each draft carries the idempotency key its form sends (made when it is first typed or
// sent), so a send retried after a failure is saved once. Leaving the page with unsent
// text asks first.
(function () {
  "use strict";

  var PREFIX = "marginalia:draft:" + location.pathname + ":";
  var MAX_AGE = 30 * 24 * 3600 * 1000;
  var announce = (window.Marginalia && window.Marginalia.announce) || function () {};

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function read(name) {
    try { return JSON.parse(storage().getItem(PREFIX + name)); } catch (e) { return null; }
  }
  function write(name, draft) {
    try { storage().setItem(PREFIX + name, JSON.stringify(draft)); } catch (e) { /* full or private */ }
  }
  function forget(name) {
    try { storage().removeItem(PREFIX + name); } catch (e) { /* private mode */ }
  }
  function stored() {
    var out = [];
    var store = storage();
    if (!store) return out;
    for (var i = 0; i < store.length; i++) {
      var full = store.key(i);
      if (full.indexOf(PREFIX) !== 0) continue;
      var draft = read(full.slice(PREFIX.length));
      if (!draft || Date.now() - draft.at > MAX_AGE) continue;
      out.push({ name: full.slice(PREFIX.length), draft: draft });
    }
    return out.sort(function (a, b) { return b.draft.at - a.draft.at; });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function keyField(form) {
    return form && form.querySelector("input[name=idempotency_key]");
  }

  // The form's key: the draft's, else a new one (kept with the draft from now on).
  function keyOf(form) {
    var field = keyField(form);
    if (!field) return null;
    if (!field.value) field.value = newKey();
    return field.value;
  }

  function unsent(box) {
    return box.value.trim() !== "" && box.value !== box.defaultValue && !box.closest("[hidden]");
  }

  function save(box) {
    var name = box.getAttribute("data-draft");
    if (!name) return;
    if (!unsent(box)) {
      forget(name);
      return;
    }
    write(name, { text: box.value, key: keyOf(box.form), at: Date.now() });
  }

  // A box just shown takes its draft back (text and key).
  function restore(box) {
    var draft = read(box.getAttribute("data-draft"));
    var field = keyField(box.form);
    if (field) field.value = draft && draft.key ? draft.key : "";
    if (!draft || !draft.text || box.value === draft.text) return false;
    box.value = draft.text;
    return true;
  }

  function sent(box) {
    if (!box) return;
    forget(box.getAttribute("data-draft"));
    var field = keyField(box.form);
    if (field) field.value = "";
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-draft]")) save(event.target);
  });
  document.addEventListener("marginalia:draft-box", function (event) { restore(event.detail); });
  document.addEventListener("marginalia:draft-discard", function (event) { sent(event.detail); });
  document.addEventListener("marginalia:draft-sent", function (event) { sent(event.detail); });

  // Every new note or reply is sent with a key, typed or not (a bare highlight too).
  document.addEventListener("submit", function (event) {
    var box = event.target.querySelector("textarea[data-draft]");
    keyOf(event.target);
    if (box && unsent(box)) save(box);
  }, true);

  if (!window.htmx) return;

  // Sent and answered: the draft is done. A refusal or a failure keeps it (the flash
  // area says why, and that the text is still here).
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    var elt = detail.requestConfig ? detail.requestConfig.elt : detail.elt;
    var status = detail.xhr ? detail.xhr.status : 0;
    if (!elt || !elt.matches || !elt.matches("form") || status < 200 || status >= 300) return;
    var box = elt.querySelector("textarea[data-draft]");
    if (box && elt.id !== "annotate-form") sent(box);
  });
  // Cancel discards what was typed in that form.
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-cancel]");
    var form = cancel && cancel.closest("form");
    if (form) sent(form.querySelector("textarea[data-draft]"));
  }, true);

  // Boxes that arrive (a reply or edit form) take their drafts back.
  document.body.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root.querySelectorAll) return;
    var boxes = root.matches("textarea[data-draft]") ? [root] : root.querySelectorAll("textarea[data-draft]");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.closest("#annotate-form")) return;
      if (restore(box)) announce("Your unsent text is back.");
    });
  });

  // After a reload: forms with a draft open again, their text in them.
  function reopen() {
    var reader = window.Marginalia && window.Marginalia.reader;
    var noteShown = false;
    stored().forEach(function (entry) {
      var name = entry.name;
      if (name.indexOf("note:") === 0) {
        if (noteShown || !reader) return;
        var offsets = name.slice(5).split("-").map(Number);
        var range = reader.rangeOf(offsets[0], offsets[1]);
        if (!range) return;
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        var captured = reader.capture();
        if (!captured) return;
        noteShown = true;
        reader.offer(captured);
        reader.openComment();
        announce("Your unsent comment is back.");
        return;
      }
      var opener = document.querySelector('[data-draft-opens="' + name + '"]');
      var card = opener && opener.closest(".card");
      if (!card || card.querySelector('textarea[data-draft="' + name + '"]')) return;
      htmx.ajax("GET", opener.getAttribute("hx-get"), { source: opener, target: card, swap: "outerHTML" });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", reopen);
  else reopen();

  // Leaving with unsent text asks first.
  window.addEventListener("beforeunload", function (event) {
    var waiting = Array.prototype.some.call(document.querySelectorAll("textarea[data-draft]"), unsent);
    if (!waiting) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
