// Notices in #flash ("Note deleted. Undo", messages after a save): each goes away on its
// own after data-dismiss-after milliseconds (long enough to act on), counted only while
// the pointer is not over it and focus is not in it; a click on its text takes it away at
// once. Its message also goes to the polite live region (#announcer), so a screen reader
// hears it wherever focus is. A notice holding focus is never taken away, neither by its
// timer nor by an answer that clears the region. Errors (.flash-error) stay until clicked.
(function () {
  "use strict";

  var region = document.getElementById("flash");
  if (!region) return;
  var announcer = document.getElementById("announcer");
  var TICK = 250;
  var left = new WeakMap(); // notice -> milliseconds before it goes
  var last = Date.now();

  function lifetime() {
    return parseInt(region.getAttribute("data-dismiss-after"), 10) || 12000;
  }

  function held(notice) {
    return notice.contains(document.activeElement) || notice.matches(":hover");
  }

  function notices() {
    return Array.prototype.slice.call(region.querySelectorAll(".flash"));
  }

  function tick() {
    var now = Date.now();
    var elapsed = now - last;
    last = now;
    notices().forEach(function (notice) {
      if (notice.classList.contains("flash-error")) return;
      if (!left.has(notice)) left.set(notice, lifetime());
      var paused = held(notice);
      notice.toggleAttribute("data-paused", paused);
      if (paused) return;
      var remaining = left.get(notice) - elapsed;
      left.set(notice, remaining);
      if (remaining <= 0) notice.remove();
    });
  }
  setInterval(tick, TICK);

  // Where the page has its own announcer of the notices (announce.js), it says them.
  var spoken = window.Marginalia && window.Marginalia.announce;
  var said = null;
  function announce() {
    if (!announcer || spoken) return;
    var text = notices()
      .filter(function (n) { return !n.classList.contains("flash-error"); })
      .map(function (n) { return n.textContent.replace(/\s+/g, " ").trim(); })
      .join(" ");
    if (!text || text === said) return;
    said = text;
    // Emptied first, so the same message said twice is announced twice.
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = text; }, 50);
  }
  new MutationObserver(function () {
    said = null;
    announce();
  }).observe(region, { childList: true, subtree: true, characterData: true });
  // Messages that came with the page (after a redirect) are announced too.
  setTimeout(announce, 100);

  region.addEventListener("click", function (event) {
    var notice = event.target.closest(".flash");
    if (notice && !event.target.closest("button, a, input")) notice.remove();
  });

  // An answer that clears the region leaves a notice holding focus where it is, unless the
  // notice itself sent the request (its Undo was pressed: its work is done).
  var fromNotice = false; // the answer being swapped in was asked for by a notice
  document.addEventListener("htmx:beforeSwap", function (event) {
    fromNotice = region.contains(event.detail.elt);
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.target || detail.target.id !== "flash") return;
    if (!region.contains(document.activeElement)) return;
    if (fromNotice) return;
    if (detail.fragment && !detail.fragment.textContent.trim()) detail.shouldSwap = false;
  });
})();
