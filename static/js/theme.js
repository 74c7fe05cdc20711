// The colour theme: the system's (the default), light or dark, remembered in localStorage.
// This script loads in <head> without defer, so the theme is set before the first paint
// (no flash of the other theme). The header's button shows the theme in use and moves to
// the next one; every colour comes from light-dark() custom properties in app.css.
(function () {
  "use strict";

  var KEY = "marginalia-theme";
  var THEMES = ["system", "light", "dark"];
  var NAMES = { system: "System", light: "Light", dark: "Dark" };
  var root = document.documentElement;

  function stored() {
    try {
      var theme = localStorage.getItem(KEY);
      return THEMES.indexOf(theme) > 0 ? theme : "system";
    } catch (error) {
      return "system"; // storage refused: follow the system
    }
  }

  function apply(theme) {
    if (theme === "system") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", theme);
  }

  var current = stored();
  apply(current);
  root.classList.add("theme-ready"); // the toggle shows only where this script runs

  function setUp() {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    var state = button.querySelector(".theme-state");
    var announcer = document.getElementById("announcer");

    function show(theme) {
      state.textContent = NAMES[theme];
      button.setAttribute("data-theme", theme);
    }

    show(current);
    button.addEventListener("click", function () {
      current = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
      try {
        localStorage.setItem(KEY, current);
      } catch (error) {
        // not remembered, still applied to this page
      }
      apply(current);
      show(current);
      if (announcer) announcer.textContent = "Theme: " + NAMES[current];
    });
    // Another tab changed it.
    window.addEventListener("storage", function (event) {
      if (event.key !== KEY) return;
      current = stored();
      apply(current);
      show(current);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
