// Copy buttons for read-only fields (the console's person page). Without JavaScript the
// buttons stay hidden and the field's text can be selected and copied by hand.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) { return; }
  var label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", function () {
    field.select();
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = button.dataset.done;
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
});
document.querySelectorAll(".copy-row input[readonly]").forEach(function (field) {
  field.addEventListener("focus", function () { field.select(); });
});
