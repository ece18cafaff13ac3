// The console's only script (the CSP allows no inline script): countdowns to checklist
// deadlines and the ECharts charts, whose data the page carries in data-chart.
(function () {
  "use strict";

  var serverNow = Date.parse(document.body.getAttribute("data-now") || "");
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();

  function countdowns() {
    var now = Date.now() + skew;
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = Math.round((due - now) / 60000);
      var late = left < 0;
      var m = Math.abs(left), h = Math.floor(m / 60), d = Math.floor(h / 24);
      var span = d >= 1 ? d + " 天 " + (h % 24) + " 小时" : h >= 1 ? h + " 小时 " + (m % 60) + " 分" : m + " 分钟";
      el.textContent = late ? "已逾期 " + span : "剩余 " + span;
      el.classList.toggle("bad", late);
    });
  }

  function charts() {
    if (typeof echarts === "undefined") return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var data;
      try { data = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 16, top: 32, bottom: 28 },
        xAxis: { type: "category", data: data.dates },
        yAxis: { type: "value", minInterval: 1 },
        series: data.series.map(function (s) {
          return { name: s.name, type: "line", data: s.data };
        })
      });
      el.setAttribute("data-rendered", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    countdowns();
    setInterval(countdowns, 30000);
    charts();
  });
})();
