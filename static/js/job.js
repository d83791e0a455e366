// Job page: draw the charts; while the job is active, refresh the status block every few
// seconds. When trials are created, start or end, reload (the table and charts come from the
// server) unless the reader has scrolled down, who gets a "refresh" link instead.
(function () {
  RafikiCharts.drawAll();
  var box = document.getElementById("job-status");
  if (!box || box.getAttribute("data-final") === "1") return;
  var url = box.getAttribute("data-url");
  var signature = box.getAttribute("data-signature");
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        box.innerHTML = data.html;
        if (data.signature !== signature || data.final) {
          if (window.scrollY < 300) { window.location.reload(); return; }
          var link = document.getElementById("trials-changed");
          if (link) link.hidden = false;
        }
        if (!data.final) setTimeout(poll, 2500);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 2500);
})();
