#include "web/assets.hpp"

#include <array>

namespace acctlab::web {
namespace {

constexpr std::string_view style_css = R"css(
:root { --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa; --accent: #2459a6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #102a43; }
header a { color: #d9e2ec; text-decoration: none; }
header .brand { font-weight: 700; font-size: 18px; color: #fff; }
header nav { display: flex; gap: 4px; flex-wrap: wrap; }
header nav a { padding: 6px 10px; border-radius: 4px; }
header nav a.active, header nav a:hover { background: #334e68; color: #fff; }
main { padding: 16px 24px 32px; max-width: 1400px; }
h1 { font-size: 22px; margin: 4px 0 12px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 22px 0 8px; }
h3 { font-size: 14px; margin: 12px 0 6px; overflow-wrap: anywhere; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
thead th { background: #eef2f7; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.empty { color: var(--muted); text-align: center; padding: 16px; }
table.compact { width: auto; min-width: 260px; }
table.attrs th { width: 260px; background: #fafbfc; font-weight: 500; }
table.attrs td { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.stats { display: flex; gap: 12px; flex-wrap: wrap; }
.stat { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px;
        min-width: 140px; }
.stat .value { display: block; font-size: 24px; font-weight: 700; }
.stat .label { color: var(--muted); }
.columns { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.columns > section, .columns > figure { flex: 1 1 300px; }
.muted, .api { color: var(--muted); }
.live { color: #2f8132; margin-left: 8px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px;
         background: #e4e7eb; }
.badge.open { background: #d7f5dd; color: #1e6b2a; }
.badge.closed { background: #e4e7eb; color: #323f4b; }
.badge.stale { background: #fde8c8; color: #8a4b08; }
.badge.sev-error { background: #fbd5d5; color: #9b1c1c; }
.badge.sev-warning { background: #fde8c8; color: #8a4b08; }
.badge.sev-info { background: #dbeafe; color: #1e429f; }
.badge.sev-pass { background: #d7f5dd; color: #1e6b2a; }
.flags { color: #9b1c1c; font-size: 12px; }
td.pass { color: #1e6b2a; } td.fail { color: #9b1c1c; }
form.filters { display: flex; gap: 10px; flex-wrap: wrap; align-items: end; background: #fff;
               padding: 10px; border: 1px solid var(--line); border-radius: 6px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
form.filters input, form.filters select { font: inherit; padding: 4px 6px; min-width: 120px; }
button { font: inherit; padding: 5px 14px; background: var(--accent); color: #fff; border: 0;
         border-radius: 4px; }
.sort a { margin-right: 6px; } .sort a.active { font-weight: 700; }
.pager { margin: 12px 0; display: flex; gap: 6px; flex-wrap: wrap; }
.pager a, .pager span { padding: 2px 8px; border: 1px solid var(--line); background: #fff; }
.pager .current { background: var(--accent); color: #fff; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff;
           border: 1px solid var(--line); padding: 10px 14px; border-radius: 6px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #fff; border: 1px solid var(--line); padding: 8px; overflow-x: auto;
      font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
pre.report { max-height: 480px; }
section.record { margin-bottom: 14px; }
details summary { cursor: pointer; color: var(--accent); margin: 6px 0; }
.error { color: #9b1c1c; }
figure.chart { margin: 8px 0; background: #fff; border: 1px solid var(--line); border-radius: 6px;
               padding: 4px; }
figure.chart svg { width: 100%; height: auto; display: block; }
svg .grid { stroke: #e4e7eb; stroke-width: 1; }
svg .axis, svg .legend { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #52606d; }
svg .s0 { fill: #2459a6; } svg .s1 { fill: #e07b18; } svg .s2 { fill: #2f8132; }
svg .s3 { fill: #9b1c1c; }
svg .l0 { stroke: #2459a6; stroke-width: 2; } svg .l1 { stroke: #e07b18; stroke-width: 2; }
svg .l2 { stroke: #2f8132; stroke-width: 2; } svg .l3 { stroke: #9b1c1c; stroke-width: 2; }
footer { padding: 12px 24px; color: var(--muted); font-size: 12px; }
)css";

// Follows /events (server-sent events) and writes the counters into the elements marked
// data-live. textContent only: nothing received is ever parsed as HTML.
constexpr std::string_view live_js = R"js("use strict";
(function () {
  if (!window.EventSource) { return; }
  var status = document.getElementById("live-status");
  var updated = "";
  var source = new EventSource("/events");
  source.addEventListener("counters", function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var key = el.getAttribute("data-live");
      var value = data;
      if (key === "last_event_time") {
        value = data.last_event_time_text || null;
      } else {
        key.split(".").forEach(function (part) { value = value == null ? null : value[part]; });
      }
      if (typeof value === "number") { value = value.toLocaleString("en-US"); }
      if (value != null) { el.textContent = String(value); }
    });
    updated = "live · updated " + new Date().toISOString().substring(11, 19) + " UTC";
    if (status) { status.textContent = updated; }
  });
  // The server ends a stream now and then; EventSource reconnects by itself.
  source.onerror = function () {
    if (status) { status.textContent = updated ? updated + " (reconnecting)" : "reconnecting…"; }
  };
})();
)js";

constexpr std::array<Asset, 2> assets{{
    {"style.css", "text/css; charset=utf-8", style_css},
    {"live.js", "text/javascript; charset=utf-8", live_js},
}};

} // namespace

const Asset* find_asset(std::string_view name) {
  for (const auto& asset : assets) {
    if (asset.name == name) {
      return &asset;
    }
  }
  return nullptr;
}

} // namespace acctlab::web
