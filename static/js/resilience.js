// When the server is busy (503 with a short Retry-After: nothing was changed), send the same
// request again, waiting longer each time; after the last try, or on any other failure, say so
// in the flash region. A longer Retry-After is a fault an operator must fix (a read-only or
// full disk, a database down): the server's message is shown at once. A failed answer never
// replaces what the reader typed.
(function () {
  "use strict";

  if (!window.htmx) return;
  var RETRIES = 2;
  var LONGEST_WAIT = 5; // seconds of Retry-After still worth waiting for without a word
  var retried = new WeakMap(); // requesting element -> retries so far
  var flash = document.getElementById("flash");

  function say(message, level) {
    if (!flash) return null;
    var p = document.createElement("p");
    p.className = "flash flash-" + level;
    if (level === "error") p.setAttribute("role", "alert");
    p.textContent = message;
    // A notice holding focus (its Undo, say) stays; the message goes beside it.
    if (flash.contains(document.activeElement)) flash.appendChild(p);
    else flash.replaceChildren(p);
    return p;
  }
  var waiting = null; // the "trying again" notice, gone once the answer comes

  // The same request, with the values it carried (the selection or the form may have
  // changed since).
  function resend(config) {
    var values = {};
    config.formData.forEach(function (value, name) {
      (values[name] = values[name] || []).push(value);
    });
    htmx.ajax(config.verb, config.path, { source: config.elt, target: config.target, values: values });
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var config = detail.requestConfig;
    if (detail.xhr.status < 500 || !config) return;
    var elt = config.elt;
    var poll = elt.id === "live"; // the next poll tries again by itself
    var wait = parseFloat(detail.xhr.getResponseHeader("Retry-After"));
    var tries = retried.get(elt) || 0;
    detail.shouldSwap = false;
    if (detail.xhr.status === 503 && wait >= 0 && wait <= LONGEST_WAIT && tries < RETRIES &&
        !poll && document.body.contains(elt) && document.body.contains(config.target)) {
      retried.set(elt, tries + 1);
      waiting = say("The server is busy; trying again…", "info");
      setTimeout(resend, wait * 1000 * Math.pow(2, tries) * (1 + Math.random() / 2), config);
      return;
    }
    retried.delete(elt);
    if (poll) return;
    if (detail.xhr.getResponseHeader("HX-Retarget")) {
      detail.shouldSwap = true; // our own message, into the flash region
    } else {
      say("The server could not answer (error " + detail.xhr.status + "). " +
          "What you typed is still here: try again in a moment.", "error");
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful || !event.detail.requestConfig) return;
    if (retried.delete(event.detail.requestConfig.elt) && waiting) waiting.remove();
  });

  // A form htmx has not yet taken up (drawn in an instant ago) never falls back to a full
  // page load: htmx takes it up and sends it. htmx's own handler, on the form, has already
  // stopped every submit it sends, so only those it missed reach this one.
  var HTMX_FORM = "form[hx-post], form[hx-get], form[hx-put], form[hx-patch], form[hx-delete]";
  var takenUp = new WeakSet(); // forms handed to htmx here once (never a loop)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches(HTMX_FORM) || takenUp.has(form)) return;
    takenUp.add(form);
    event.preventDefault();
    if (!document.body.contains(form)) return; // swapped out meanwhile: its card is redrawn
    var submitter = event.submitter;
    htmx.process(form);
    // After this submit event is done (a form does not submit again from inside one).
    setTimeout(function () {
      if (document.body.contains(form)) form.requestSubmit(submitter && form.contains(submitter) ? submitter : undefined);
    }, 0);
  });

  document.body.addEventListener("htmx:sendError", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.elt.id === "live") return;
    say("The server cannot be reached. What you typed is still here: " +
        "try again when the connection is back.", "error");
  });
})();
