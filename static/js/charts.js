// Draws the Plotly figures that the server built in Python (analysis/figures.py).
//
// plotly.js (its cartesian bundle, ~1.5 MB, served compressed) is fetched only when the
// page holds a chart: a run page loads it once the run is done and its comparison
// appears, without a reload.
// Charts inside a closed <details> are drawn when it is opened.
(function () {
  "use strict";

  var loading = null;

  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (loading) return loading;
    var holder = document.querySelector("[data-plotly-src]");
    // plotly.js adds its styles as an inline <style> unless it finds an element of this id
    // and class: the same rules as a stylesheet, which the Content-Security-Policy allows.
    if (!document.getElementById("plotly.js-style-global")) {
      var styles = document.createElement("link");
      styles.id = "plotly.js-style-global";
      styles.className = "no-inline-styles";
      styles.rel = "stylesheet";
      styles.href = holder.getAttribute("data-plotly-css");
      document.head.appendChild(styles);
    }
    loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = holder.getAttribute("data-plotly-src");
      script.onload = function () { resolve(window.Plotly); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
    return loading;
  }

  function visible(el) {
    var details = el.closest("details");
    return !details || details.open;
  }

  function draw(root) {
    var plots = Array.prototype.filter.call(
      (root || document).querySelectorAll("[data-figure]:not([data-drawn])"), visible);
    if (!plots.length) return;
    loadPlotly().then(function (Plotly) {
      plots.forEach(function (el) {
        var source = document.getElementById(el.getAttribute("data-figure"));
        if (!source || el.hasAttribute("data-drawn")) return;
        var figure = JSON.parse(source.textContent);
        el.setAttribute("data-drawn", "");
        // Every link out of the page that plotly.js offers stays off: the logo, "edit in
        // Chart Studio", the send-to-cloud button and the server it would post to.
        Plotly.newPlot(el, figure.data, figure.layout, {
          responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"],
          showLink: false, showSendToCloud: false, showEditInChartStudio: false,
          plotlyServerURL: "",
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
  document.addEventListener("toggle", function (event) {
    if (event.target.tagName === "DETAILS" && event.target.open) draw(event.target);
  }, true);
})();
