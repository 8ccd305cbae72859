// Keyboard shortcuts for reviewers: j/k move through the inbox, Enter opens; on a conversation,
// a approves, e edits, r rejects. Nothing here is needed for the pages to work.
(function () {
  "use strict";
  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable);
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("selected", n === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
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
        if (field) field.focus();
      } else {
        target.click();
      }
    }
  });
})();
