// Copy buttons for read-only snippets: shown only when scripts run; without them the
// text stays selectable in its field.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field || !navigator.clipboard) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      button.setAttribute("aria-live", "polite");
      button.textContent = button.textContent.replace(/ ✓$/, "") + " ✓";
    });
  });
});
