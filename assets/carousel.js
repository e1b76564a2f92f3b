/* Carousel and big-screen behaviour that runs in the browser (no server round trip).
 *
 * carousel.rotate      the carousel's clientside callback: ticks, previous / next, dots.
 *                      A tick is skipped while the pointer is over the carousel, a control in
 *                      it has keyboard focus, the tab is hidden, or the user turned a slide
 *                      just now.
 * carousel.openDetail  a click on a bar of a slide's chart opens the metric's detail page.
 * bigscreen.*          the big screen's clock, staleness indicator and time-based rotation.
 */
(function () {
  "use strict";

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  function triggeredIds() {
    var ctx = window.dash_clientside.callback_context;
    return (ctx && ctx.triggered ? ctx.triggered : []).map(function (t) {
      var id = t.prop_id.slice(0, t.prop_id.lastIndexOf("."));
      try {
        return JSON.parse(id);
      } catch (e) {
        return { type: id };
      }
    });
  }

  function isPaused(root) {
    if (!root) return false;
    if (document.hidden) return true;
    if (root.matches(":hover")) return true;
    /* Keyboard focus inside (not the focus a mouse click leaves on a button) also pauses. */
    var focused = document.activeElement;
    if (focused && focused !== document.body && root.contains(focused)) {
      try {
        return focused.matches(":focus-visible");
      } catch (e) {
        return false;
      }
    }
    return false;
  }

  function classes(count, index, base) {
    var out = [];
    for (var i = 0; i < count; i++) out.push(base + (i === index ? " active" : ""));
    return out;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    carousel: {
      rotate: function (ticks, prev, next, dots, state) {
        state = state || { index: 0, count: (dots || []).length };
        var count = (dots || []).length || state.count || 0;
        if (!count) return [noUpdate(), noUpdate(), noUpdate()];
        var root = document.getElementById("carousel-" + state.id);
        var index = state.index || 0;
        var manual = false;
        triggeredIds().forEach(function (id) {
          if (id.type === "carousel-tick") {
            var quiet = Date.now() - (state.manualAt || 0) < 4000;
            if (!isPaused(root) && !quiet) index = index + 1;
          } else if (id.type === "carousel-prev") {
            index = index - 1;
            manual = true;
          } else if (id.type === "carousel-next") {
            index = index + 1;
            manual = true;
          } else if (id.type === "carousel-dot") {
            index = id.index;
            manual = true;
          }
        });
        index = ((index % count) + count) % count;
        if (index === state.index && !manual) return [noUpdate(), noUpdate(), noUpdate()];
        var newState = Object.assign({}, state, { index: index, count: count });
        if (manual) newState.manualAt = Date.now();
        if (root) root.setAttribute("data-index", String(index));
        return [newState, classes(count, index, "carousel-slide"), classes(count, index, "carousel-dot")];
      },

      openDetail: function (clickData) {
        var ids = triggeredIds();
        var id = ids.length ? ids[0] : null;
        if (!id || !id.metric) return noUpdate();
        var url = "/metrics/" + encodeURIComponent(id.metric);
        var params = [];
        if (id.breakdown) params.push("by=" + encodeURIComponent(id.breakdown));
        var point = clickData && clickData.points && clickData.points[0];
        if (point && point.customdata !== undefined && point.customdata !== null) {
          params.push("focus=" + encodeURIComponent(point.customdata));
        }
        window.location.assign(url + (params.length ? "?" + params.join("&") : ""));
        return noUpdate();
      },
    },

    bigscreen: {
      /* Every second: the clock, the freshness line, and the slide to show (time-based, so
       * every wall display of a set shows the same slide and a redraw keeps the position). */
      tick: function (n, last, texts, slides, dots) {
        var now = new Date();
        var pad = function (v) { return (v < 10 ? "0" : "") + v; };
        var clock = pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
        var bs = (window.portalBigscreen = window.portalBigscreen || { online: true });
        texts = texts || {};
        var status = "";
        var statusClass = "bigscreen-status";
        if (last && last.at) {
          var at = new Date(last.at);
          var hhmm = pad(at.getHours()) + ":" + pad(at.getMinutes());
          var age = now.getTime() - at.getTime();
          var stale = age > (last.refresh_s * 1000 + 60000);
          var offline = bs.online === false || navigator.onLine === false;
          if (offline || stale) {
            status = (offline ? texts.lost || "" : texts.stale || "").replace("%(time)s", hhmm);
            statusClass += " stale";
          } else {
            status = (texts.live || "").replace("%(time)s", hhmm);
          }
        }
        var count = (slides || []).length;
        var interval = ((last && last.interval_s) || 8) * 1000;
        var index = count ? Math.floor(now.getTime() / interval) % count : 0;
        return [
          clock,
          status,
          statusClass,
          classes(count, index, "bigscreen-slide"),
          classes((dots || []).length, index, "bigscreen-dot"),
        ];
      },

      /* Every 20 s: is the portal reachable? (the public health check, no session needed) */
      heartbeat: function (n) {
        var bs = (window.portalBigscreen = window.portalBigscreen || { online: true });
        var controller = window.AbortController ? new AbortController() : null;
        var timer = setTimeout(function () { if (controller) controller.abort(); }, 8000);
        fetch("/healthz", { cache: "no-store", signal: controller ? controller.signal : undefined })
          .then(function (r) { bs.online = r.status < 500 || r.status === 503; })
          .catch(function () { bs.online = false; })
          .finally(function () { clearTimeout(timer); });
        return noUpdate();
      },
    },
  });
})();
