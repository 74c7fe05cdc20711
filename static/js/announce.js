// The page's one polite live region (#announcer): what a write did ("Reply posted."),
// deletions, errors, new notes from others. Focus never moves for it. Messages shown in
// the flash area are said here too (and lose role=alert, so that nothing is said twice);
// an htmx request whose element (or its form) has data-announce says that on success.
(function () {
  "use strict";

  var region = document.getElementById("announcer");
  if (!region) return;
  var queue = [];
  var timer = null;

  // Emptied first, then filled a moment later: the same words twice in a row are said
  // twice, and messages of one moment are said together.
  function announce(message) {
    message = (message || "").replace(/\s+/g, " ").trim();
    if (!message) return;
    if (queue.indexOf(message) === -1) queue.push(message);
    region.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(function () {
      region.textContent = queue.join(" ");
      queue = [];
    }, 80);
  }
  window.Marginalia = window.Marginalia || {};
  window.Marginalia.announce = announce;

  // What a message says, without its buttons' labels ("Note deleted." not "Note deleted. Undo").
  function words(element) {
    var copy = element.cloneNode(true);
    copy.querySelectorAll("button, [aria-hidden=true]").forEach(function (b) { b.remove(); });
    return copy.textContent;
  }

  var flash = document.getElementById("flash");
  if (flash) {
    var said = new WeakSet();
    var sayFlash = function () {
      flash.querySelectorAll(".flash").forEach(function (message) {
        if (said.has(message)) return;
        said.add(message);
        message.removeAttribute("role");
        announce(words(message));
      });
    };
    new MutationObserver(sayFlash).observe(flash, { childList: true, subtree: true });
  }

  if (!window.htmx) return;
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    var elt = detail.requestConfig ? detail.requestConfig.elt : detail.elt;
    if (!elt || !detail.xhr || detail.xhr.status < 200 || detail.xhr.status >= 300) return;
    var source = elt.closest("[data-announce]");
    // A form's message is for what the form sends, not for a link inside it (its Cancel).
    if (source && source !== elt && source.tagName === "FORM" && elt.form !== source) return;
    if (source) announce(source.getAttribute("data-announce"));
  });
})();
