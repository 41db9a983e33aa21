// Copy buttons for read-only fields (the person page's links, the signup snippets). Without
// JavaScript the buttons stay hidden and the field's text can be selected and copied by hand.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field || !navigator.clipboard) { return; }
  var label = button.textContent;
  button.hidden = false;
  button.setAttribute("aria-live", "polite");
  button.addEventListener("click", function () {
    field.select();
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = button.getAttribute("data-done") || label + " ✓";
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
});
document.querySelectorAll(".copy-row input[readonly]").forEach(function (field) {
  field.addEventListener("focus", function () { field.select(); });
});
