/* Workbench chart: visible employees per first-level unit (ECharts, canvas; data from json_script). */
(function () {
  "use strict";

  function draw() {
    var element = document.getElementById("employees-by-unit");
    if (!element || !window.echarts) return;
    var labels = JSON.parse(document.getElementById("employees-by-unit-labels").textContent);
    var values = JSON.parse(document.getElementById("employees-by-unit-values").textContent);
    // Tabler's colour variables are oklch()/light-dark() expressions ECharts cannot parse: plain hex.
    var primary = "#066fd1";
    var muted = "#6b7280";
    // A bar per unit: the height follows the number of units (CSSOM, which the CSP allows).
    element.style.height = Math.max(180, 36 * labels.length + 48) + "px";
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      // richText tooltips are drawn on the canvas: HTML tooltips would carry style="" attributes,
      // which the CSP blocks.
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1, axisLabel: { color: muted }, splitLine: { lineStyle: { type: "dashed" } } },
      yAxis: { type: "category", data: labels, inverse: true, axisLabel: { color: muted }, axisTick: { show: false } },
      series: [{
        name: element.dataset.seriesName,
        type: "bar",
        data: values,
        barMaxWidth: 18,
        itemStyle: { color: primary, borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: "right", color: muted },
      }],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
