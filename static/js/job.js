// Job page: draw the charts; while the job is active, refresh the status block every few
// seconds and reload the page once when the job ends (so the table and charts are final).
(function () {
  RafikiCharts.drawAll();
  var box = document.getElementById("job-status");
  if (!box || box.getAttribute("data-final") === "1") return;
  var url = box.getAttribute("data-url");
  var seen = null;
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        box.innerHTML = data.html;
        if (data.final) { window.location.reload(); return; }
        // Reload the table and charts when the set of finished trials changes.
        var done = box.querySelector(".progress-label span:last-child");
        var text = done ? done.textContent : "";
        if (seen !== null && text !== seen && window.scrollY < 200) { window.location.reload(); return; }
        seen = text;
        setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 3000);
})();
