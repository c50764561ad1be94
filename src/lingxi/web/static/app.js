// Draws the console's charts with ECharts from JSON the server put in <script type="application/json">.
(function () {
  "use strict";
  var palette = ["#1f5eff", "#14b8a6", "#f59e0b", "#8b5cf6", "#ef4444", "#64748b", "#22c55e"];
  var font = getComputedStyle(document.body).fontFamily;

  function option(spec) {
    var base = { color: palette, textStyle: { fontFamily: font }, tooltip: { trigger: spec.type === "pie" ? "item" : "axis" },
                 grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true } };
    if (spec.type === "pie") {
      base.legend = { bottom: 0, icon: "circle", textStyle: { fontFamily: font } };
      base.series = [{ type: "pie", radius: ["42%", "68%"], center: ["50%", "44%"], avoidLabelOverlap: true,
                       label: { formatter: "{d}%" }, data: spec.labels.map(function (l, i) { return { name: l, value: spec.values[i] }; }) }];
    } else if (spec.type === "hbar") {
      base.xAxis = { type: "value" }; base.yAxis = { type: "category", data: spec.labels };
      base.series = [{ type: "bar", data: spec.values, barMaxWidth: 14, itemStyle: { borderRadius: [0, 4, 4, 0] } }];
    } else {
      base.xAxis = { type: "category", data: spec.labels, axisLabel: { interval: 0 } }; base.yAxis = { type: "value" };
      base.series = [{ type: spec.type === "line" ? "line" : "bar", data: spec.values, smooth: true, barMaxWidth: 28, showSymbol: true, symbolSize: 8,
                       areaStyle: spec.type === "line" ? { opacity: 0.12 } : undefined, itemStyle: { borderRadius: spec.type === "bar" ? [4, 4, 0, 0] : 0 } }];
    }
    return base;
  }

  function draw(root) {
    if (typeof echarts === "undefined") { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source || el.getAttribute("data-drawn")) { return; }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(JSON.parse(source.textContent)));
      el.setAttribute("data-drawn", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:after:swap", function () { draw(document); });
})();
