// Inference job page: while the job is not final, refresh the status card every few seconds
// and reload the page once when the status changes (the predict form appears when RUNNING).
(function () {
  var box = document.getElementById("job-status");
  if (!box || box.getAttribute("data-final") === "1") return;
  var url = box.getAttribute("data-url");
  var status = box.getAttribute("data-status");
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        box.innerHTML = html;
        var now = box.querySelector("#inference-status");
        if (now && now.textContent.trim() !== status) { window.location.reload(); return; }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 2000);
})();
