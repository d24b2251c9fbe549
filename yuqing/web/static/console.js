/* yuqing console: countdowns, live updates (Server-Sent Events), action dialogs, charts.
   No framework and no build step; everything is served by the console itself. */
(function () {
  "use strict";
  var body = document.body;
  // The server's clock may differ from the browser's (or be a test clock): count from the server's.
  var offset = Date.parse(body.dataset.now || "") - Date.now();
  if (isNaN(offset)) offset = 0;
  function serverNow() { return Date.now() + offset; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = serverNow();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var ms = Date.parse(el.dataset.due) - now;
      var s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
      if (ms >= 0) {
        el.textContent = "剩 " + (h ? h + ":" + pad(m) : m) + ":" + pad(s % 60);
      } else {
        el.textContent = "超时 " + (h ? h + "小时" : "") + m + "分";
      }
      el.classList.toggle("over", ms < 0);
      el.classList.toggle("red", ms >= 0 && ms < 10 * 60 * 1000);
      el.classList.toggle("warn", ms >= 10 * 60 * 1000 && ms < 30 * 60 * 1000);
    });
    var clock = document.querySelector(".server-clock");
    if (clock) {
      var d = new Date(now + 8 * 3600 * 1000);  // Beijing time, whatever the browser's zone
      clock.textContent = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
        pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    }
  }

  // ---- live updates: the server says "changed", the page fetches itself and swaps its live regions
  // A region is left alone while the person is writing in it: a field with focus and a value, or
  // text typed into a field and not yet sent. A focused button or link (a dialog just cancelled,
  // a row's title just clicked) is not writing: such a region is refreshed.
  function dirty(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && active.matches("input, textarea, select") && active.value) return true;
    return Array.prototype.some.call(region.querySelectorAll("textarea, input[type=text], input:not([type])"),
      function (f) { return f.value !== f.defaultValue; });
  }
  // A region skipped as dirty is behind: it is refreshed once it is clean again (the change that
  // was skipped will not be announced a second time).
  var behind = false;
  function catchUp() { if (behind) refresh(body.dataset.version); }
  document.addEventListener("focusout", function () { setTimeout(catchUp, 0); });
  setInterval(catchUp, 3000);
  var refreshing = false;
  function refresh(version) {
    if (refreshing) return;
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Live": "1" } }).then(function (r) {
      if (r.redirected && r.url.indexOf("/login") >= 0) { location.href = r.url; return null; }
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var skipped = false;
      document.querySelectorAll("[data-live][id]").forEach(function (region) {
        var fresh = doc.getElementById(region.id);
        if (!fresh) return;
        if (dirty(region)) { skipped = true; return; }
        var before = {};
        region.querySelectorAll("tr[data-alert]").forEach(function (tr) { before[tr.dataset.alert] = tr.dataset.updated; });
        region.innerHTML = fresh.innerHTML;
        region.querySelectorAll("tr[data-alert]").forEach(function (tr) {
          if (before[tr.dataset.alert] !== tr.dataset.updated && Object.keys(before).length) tr.classList.add("fresh");
        });
      });
      var count = document.getElementById("queue-count");
      if (count) count.textContent = document.querySelectorAll("#queue-rows tr[data-alert]").length;
      body.dataset.version = version;
      behind = skipped;
      body.dataset.behind = skipped ? "1" : "";
      tick();
    }).catch(function () {}).then(function () { refreshing = false; });
  }
  function listen() {
    if (!body.dataset.live || !window.EventSource) return;
    var dot = document.querySelector(".live-dot");
    var source = new EventSource("/api/events");
    function sync(e) {
      var data = JSON.parse(e.data);
      var at = Date.parse(data.now);
      if (!isNaN(at)) offset = at - Date.now();
      return data;
    }
    // every hello after the first is a reconnection: changes made while the stream was down were
    // announced to no one, so the page fetches itself once
    var hellos = 0;
    source.addEventListener("hello", function (e) {
      sync(e);
      if (dot) dot.classList.add("on");
      body.dataset.stream = "open";
      if (hellos++) refresh(body.dataset.version);
    });
    source.addEventListener("queue", function (e) { refresh(sync(e).version); });
    source.onerror = function () { if (dot) dot.classList.remove("on"); };
    // regions fed by another process's files (the crawler's health) are not in the change feed:
    // they refresh on their own clock
    var every = document.querySelector("[data-live-every]");
    if (every) setInterval(function () { refresh(body.dataset.version); }, 1000 * Number(every.dataset.liveEvery));
  }

  // ---- one click: an action button opens its dialog for that alert
  document.addEventListener("click", function (e) {
    var button = e.target.closest("button.act");
    if (button) {
      var dialog = document.getElementById("dlg-" + button.dataset.action);
      if (!dialog) return;
      var form = dialog.querySelector("form");
      form.reset();
      form.action = "/alerts/" + encodeURIComponent(button.dataset.alert) + "/act/" + button.dataset.action +
        "?next=" + encodeURIComponent(form.dataset.next || location.pathname);
      dialog.querySelector(".dlg-title").textContent = button.dataset.alert + " " + (button.dataset.title || "");
      dialog.querySelectorAll("[data-fill]").forEach(function (field) {
        var value = button.dataset[field.dataset.fill];
        if (value) field.value = value;
      });
      dialog.showModal();
      return;
    }
    if (e.target.matches("dialog button.cancel")) e.target.closest("dialog").close();
  });
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
  });

  // ---- charts (Apache ECharts, served from /static/vendor)
  var LEVEL_COLORS = { "3": "#c62828", "2": "#e67700", "1": "#1c64b4", "0": "#9aa5b1" };
  var LEVEL_NAMES = { "3": "重大", "2": "较大", "1": "一般", "0": "无关" };
  var FONT = { fontFamily: getComputedStyle(body).fontFamily };
  function data(el) { return JSON.parse(document.getElementById(el.id + "-data").textContent); }
  var builders = {
    volume: function (d) {
      return { textStyle: FONT, tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 16, top: 30, bottom: 28 },
        xAxis: { type: "category", data: d.buckets }, yAxis: { type: "value", minInterval: 1 },
        series: ["3", "2", "1", "0"].map(function (lv) {
          return { name: LEVEL_NAMES[lv], type: "bar", stack: "all", data: d.series[lv], itemStyle: { color: LEVEL_COLORS[lv] }, barMaxWidth: 28 };
        }) };
    },
    spread: function (d) {
      return { textStyle: FONT, tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 40, top: 30, bottom: 28 },
        xAxis: { type: "category", data: d.map(function (p) { return p.at.slice(5, 16).replace("T", " "); }) },
        yAxis: [{ type: "value", minInterval: 1, name: "累计" }, { type: "value", minInterval: 1, name: "新增" }],
        series: [{ name: "累计文章", type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: d.map(function (p) { return p.total; }), itemStyle: { color: "#c62828" } },
                 { name: "新增", type: "bar", yAxisIndex: 1, data: d.map(function (p) { return p.new; }), itemStyle: { color: "#1d3557" }, barMaxWidth: 18 }] };
    },
    sources: function (d) {
      return { textStyle: FONT, tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "65%"], label: { formatter: "{b}\n{c}篇" },
                   data: d.map(function (s) { return { name: s.source_id, value: s.articles }; }) }] };
    }
  };
  function charts() {
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (!window.echarts) {
        el.innerHTML = '<div class="chart-missing">图表组件未安装：请运行 yuqing/web/fetch-assets</div>';
        return;
      }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(builders[el.dataset.chart](data(el)));
      window.addEventListener("resize", function () { chart.resize(); });
      el.dataset.ready = "1";
    });
  }

  function start() {
    tick();
    setInterval(tick, 1000);
    listen();
    if (document.querySelector(".chart[data-chart]")) {
      if (window.echarts) { charts(); return; }
      var s = document.createElement("script");
      s.src = "/static/vendor/echarts.min.js";
      s.onload = charts;
      s.onerror = charts;
      document.head.appendChild(s);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
