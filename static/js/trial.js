// Trial page: draw one chart per plot the model defined, then poll the live endpoint with an
// "after" cursor: new log messages are appended, new metric points extend the charts, plots
// defined later get a new chart, and the status block is refreshed. Stops when the trial ends.
(function () {
  var state = JSON.parse(document.getElementById("trial-live").textContent);
  var figures = JSON.parse(document.getElementById("plot-figures").textContent);
  var charts = document.getElementById("charts");
  var drawn = 0;

  function addChart(figure) {
    var el = document.getElementById("plot-" + drawn);
    if (!el) {
      var card = document.createElement("div");
      card.className = "card chart-card";
      el = document.createElement("div");
      el.className = "chart plot-chart";
      el.id = "plot-" + drawn;
      card.appendChild(el);
      charts.appendChild(card);
      var none = document.getElementById("no-plots");
      if (none) none.remove();
    }
    RafikiCharts.draw(el, figure);
    drawn += 1;
  }
  figures.forEach(addChart);

  var logBox = document.getElementById("log");
  var rows = document.getElementById("log-rows");

  function appendMessages(html) {
    if (!html) return;
    var atBottom = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 40;
    rows.insertAdjacentHTML("beforeend", html);
    var empty = document.getElementById("log-empty");
    if (empty) empty.remove();
    if (atBottom) logBox.scrollTop = logBox.scrollHeight;
  }

  function extend(extensions) {
    extensions.forEach(function (ext, i) {
      var el = document.getElementById("plot-" + i);
      if (!el) return;
      var xs = [], ys = [], traces = [];
      ext.x.forEach(function (x, t) {
        if (x.length) { xs.push(x); ys.push(ext.y[t]); traces.push(t); }
      });
      if (traces.length) Plotly.extendTraces(el, { x: xs, y: ys }, traces);
    });
  }

  function poll() {
    var url = state.live_url + "?after=" + state.cursor + "&plots=" + drawn + "&attempt=" + state.attempt;
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        if (data.reload) { window.location.reload(); return; }
        appendMessages(data.messages_html);
        extend(data.extend || []);
        (data.new_figures || []).forEach(addChart);
        document.getElementById("trial-status-box").innerHTML = data.status_html;
        state.cursor = data.cursor;
        if (data.more) { poll(); return; }
        if (data.final) {
          var note = document.getElementById("live-note");
          if (note) note.remove();
          return;
        }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  if (!state.final) setTimeout(poll, 1500);

  var older = document.getElementById("log-older");
  if (older) {
    older.addEventListener("click", function () {
      older.disabled = true;
      fetch(state.older_url + "?before=" + state.oldest, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var height = logBox.scrollHeight;
          rows.insertAdjacentHTML("afterbegin", data.html);
          logBox.scrollTop += logBox.scrollHeight - height;
          state.oldest = data.oldest;
          older.disabled = false;
          if (!data.has_older) older.parentNode.remove();
        });
    });
  }
  logBox.scrollTop = logBox.scrollHeight;
})();
