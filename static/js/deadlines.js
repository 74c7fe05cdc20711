// Due dates in the reader's own time zone. The server writes each due instant in UTC in a
// <time datetime="...Z" data-due> (its text: the same time in the class's zone, for pages
// where this script does not run); here the text becomes the browser's local time, as
// "Tue 1 Dec, 23:59", and a [data-due-left] beside it says how long is left.
(function () {
  "use strict";

  var DAY = 86400000, HOUR = 3600000, MINUTE = 60000;

  function parts(date, options) {
    var found = {};
    new Intl.DateTimeFormat("en-GB", options).formatToParts(date).forEach(function (p) {
      found[p.type] = p.value;
    });
    return found;
  }

  function format(date) {
    var p = parts(date, {
      weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    var thisYear = parts(new Date(), { year: "numeric" }).year;
    var text = p.weekday + " " + p.day + " " + p.month + (p.year !== thisYear ? " " + p.year : "");
    return text + ", " + p.hour + ":" + p.minute;
  }

  function left(date) {
    var remaining = date.getTime() - Date.now();
    if (remaining <= 0) return "past due";
    var units = [["day", DAY], ["hour", HOUR], ["minute", MINUTE]];
    for (var i = 0; i < units.length; i++) {
      var count = Math.floor(remaining / units[i][1]);
      if (count >= 1) return count + " " + units[i][0] + (count === 1 ? "" : "s") + " left";
    }
    return "less than a minute left";
  }

  function localise(root) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    root.querySelectorAll("time[data-due]").forEach(function (element) {
      var date = new Date(element.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      element.textContent = format(date);
      element.setAttribute("title", "Your time (" + zone + ")");
      element.dataset.localised = zone;
    });
    root.querySelectorAll("[data-due-left]").forEach(function (element) {
      var date = new Date(element.getAttribute("data-due-left"));
      if (!isNaN(date.getTime())) element.textContent = left(date);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  document.addEventListener("htmx:afterSettle", function (event) { localise(event.target); });
})();
