// Keyboard shortcuts and the hide-the-machine toggle of the screening page.
// Everything also works with plain buttons; the toggle only hides, the server decides
// whether the suggestion may be sent at all (protocol option hide_suggestions).
(function () {
  "use strict";
  var HIDE_KEY = "livescreen.hideMachine";
  var screen = document.getElementById("screen");
  var toggle = document.getElementById("toggle-machine");

  function click(id) {
    var el = document.getElementById(id);
    if (el) { el.click(); }
  }
  function setHidden(hidden) {
    if (!screen || !toggle) { return; }
    screen.classList.toggle("suggestions-hidden", hidden);
    toggle.setAttribute("aria-pressed", hidden ? "true" : "false");
    toggle.lastChild.textContent = hidden ? " Show machine suggestion" : " Hide machine suggestion";
    try { window.localStorage.setItem(HIDE_KEY, hidden ? "1" : "0"); } catch (e) { /* private mode */ }
  }
  function stored() {
    try { return window.localStorage.getItem(HIDE_KEY) === "1"; } catch (e) { return false; }
  }
  if (toggle) {
    setHidden(stored());
    toggle.addEventListener("click", function () {
      setHidden(!screen.classList.contains("suggestions-hidden"));
    });
  }

  document.addEventListener("keydown", function (ev) {
    var target = ev.target || {};
    var tag = target.tagName || "";
    var typing = tag === "TEXTAREA" || (tag === "INPUT" && target.type !== "checkbox");
    if (typing) {
      // From the note box: Escape hands the keys back to the shortcuts, Ctrl+Enter decides
      // (exclude when a reason is ticked, else include).
      if (ev.key === "Escape") {
        target.blur();
        ev.preventDefault();
      } else if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        var ticked = document.querySelector('input[name="reasons"]:checked');
        click(ticked ? "btn-exclude" : "btn-include");
        ev.preventDefault();
      }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var key = ev.key;
    if (key === "i") { click("btn-include"); }
    else if (key === "e") { click("btn-exclude"); }
    else if (key === "m") { click("btn-maybe"); }
    else if (key === "s") { click("btn-skip"); }
    else if (key === "u") { click("btn-undo"); }
    else if (key === "h") { click("toggle-machine"); }
    else if (key === "n") { var note = document.getElementById("note"); if (note) { note.focus(); } }
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
