// Draw every element with data-figure="<id of a json_script holding a plotly figure>".
window.RafikiCharts = {
  config: { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] },
  draw: function (el, figure) {
    Plotly.newPlot(el, figure.data, figure.layout, this.config);
  },
  drawAll: function (root) {
    var self = this;
    (root || document).querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (source) self.draw(el, JSON.parse(source.textContent));
    });
  },
};
