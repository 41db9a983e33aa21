// Import progress: asks the server once a second how far the import is and updates the
// bar and the counts; when it is done (or stopped) it loads the page with the report.
// Without JavaScript the page refreshes itself (<noscript> meta refresh).
(function () {
  "use strict";
  var card = document.getElementById("import-run");
  if (!card) { return; }
  var bar = document.getElementById("import-bar");
  var label = document.querySelector('label[for="import-bar"]');
  var count = document.getElementById("import-count");
  function update(run) {
    bar.max = run.total_rows || 1;
    bar.value = run.done_rows;
    bar.textContent = run.percent + "%";
    count.textContent = run.percent + "%";
    label.textContent = label.textContent.replace(/\d+/, String(run.done_rows));
    Object.keys(run).forEach(function (key) {
      var cell = card.querySelector('[data-count="' + key + '"]');
      if (cell) { cell.textContent = run[key]; }
    });
    if (run.status === "done" || run.status === "failed") {
      window.location.reload();
      return;
    }
    window.setTimeout(poll, 1000);
  }
  function poll() {
    fetch(card.dataset.poll, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) { if (run) { update(run); } })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());
