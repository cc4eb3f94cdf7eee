// Keyboard shortcuts for the screening page. Everything also works with plain buttons.
(function () {
  "use strict";
  function click(id) {
    var el = document.getElementById(id);
    if (el) { el.click(); }
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "TEXTAREA" || (tag === "INPUT" && ev.target.type !== "checkbox")) { return; }
    var key = ev.key;
    if (key === "i") { click("btn-include"); }
    else if (key === "e") { click("btn-exclude"); }
    else if (key === "s") { click("btn-skip"); }
    else if (key === "u") { click("btn-undo"); }
    else if (/^[1-9]$/.test(key)) {
      var box = document.querySelector('input[name="reasons"][data-key="' + key + '"]');
      if (box) { box.checked = !box.checked; }
    } else { return; }
    ev.preventDefault();
  });
  // Says the shortcuts are listening (deferred scripts run after the page is parsed;
  // a key pressed before that does nothing).
  document.documentElement.setAttribute("data-shortcuts", "on");
})();
