// Upload forms marked data-progress: send with XHR to show a progress bar. Without JS the
// form posts normally. On success the server redirects (we follow it); on a validation
// error it answers the page again, and we swap in its card so the errors show on the form.
(function () {
  function bind(form) {
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) return;
      event.preventDefault();
      var box = document.getElementById("upload-progress");
      var bar = document.getElementById("upload-bar");
      var percent = document.getElementById("upload-percent");
      var status = document.getElementById("upload-status");
      var button = form.querySelector("button[type=submit]");
      box.classList.add("visible");
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        var p = Math.round((100 * e.loaded) / e.total);
        bar.style.width = p + "%";
        percent.textContent = p + " %";
        if (p >= 100) status.textContent = "Validating…";
      };
      xhr.onload = function () {
        var sent = new URL(form.action || window.location.href, window.location.href).href;
        if (xhr.responseURL && xhr.responseURL !== sent) {
          window.location.href = xhr.responseURL;
          return;
        }
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var fresh = doc.getElementById("upload-card");
        var card = document.getElementById("upload-card");
        if (fresh && card) {
          card.innerHTML = fresh.innerHTML;
          var again = card.querySelector("form[data-progress]");
          if (again) bind(again);
        } else {
          document.open(); document.write(xhr.responseText); document.close();
        }
      };
      xhr.onerror = function () {
        status.textContent = "The upload failed (connection lost). Try again.";
        button.disabled = false;
      };
      xhr.send(new FormData(form));
    });
  }
  document.querySelectorAll("form[data-progress]").forEach(bind);
})();
