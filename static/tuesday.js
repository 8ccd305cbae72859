// Keyboard shortcuts for reviewers. In a list: j/k move, Enter opens. On a conversation:
// a approves, e edits (Ctrl+Enter sends the edit), r rejects, c claims. ? shows the help
// everywhere. Nothing here is needed for the pages to work.
(function () {
  "use strict";
  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("selected", n === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }
  rows.forEach(function (row, n) {
    row.addEventListener("click", function (event) {
      if (event.target.closest("a, button, input, select")) return;
      select(n);
      window.location = row.dataset.href;
    });
  });
  var help = document.getElementById("help");
  function showHelp() {
    if (help && typeof help.showModal === "function" && !help.open) help.showModal();
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-help]"), function (b) {
    b.addEventListener("click", showHelp);
  });
  // Ctrl+Enter (or Cmd+Enter) in a textarea submits its form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
      var form = event.target.form;
      if (form) { event.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
    }
  });
  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?") { event.preventDefault(); showHelp(); return; }
    if (event.key === "j") select(current + 1);
    else if (event.key === "k") select(current - 1);
    else if (event.key === "Enter" && current >= 0) window.location = rows[current].dataset.href;
    else {
      var target = document.querySelector('[data-key="' + event.key + '"]');
      if (!target) return;
      event.preventDefault();
      if (target.tagName === "SUMMARY") {
        target.parentElement.open = true;
        var field = target.parentElement.querySelector("textarea, input:not([type=hidden])");
        if (field) {
          field.focus();
          if (field.tagName === "TEXTAREA") field.setSelectionRange(field.value.length, field.value.length);
        }
      } else {
        target.click();
      }
    }
  });
})();
