#include "web/pages.hpp"

#include "radius/value.hpp"
#include "storage/reports.hpp"
#include "web/svg_chart.hpp"

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace acctlab::web {

using namespace storage; // the read model: reports, ReadOnlyDatabase

namespace json = boost::json;

namespace {

const json::object& obj(const json::object& o, std::string_view key) {
  static const json::object empty;
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? v->get_object() : empty;
}

const json::array& arr(const json::object& o, std::string_view key) {
  static const json::array empty;
  const auto* v = o.if_contains(key);
  return v && v->is_array() ? v->get_array() : empty;
}

const json::object& as_obj(const json::value& v) {
  static const json::object empty;
  return v.is_object() ? v.get_object() : empty;
}

const char* dash = "—";

/** Escaped text of a field, or a dash when absent. */
std::string text(const json::object& o, std::string_view key) {
  return is_set(o, key) ? escape(get_str(o, key)) : dash;
}
std::string time_cell(const json::object& o, std::string_view key) {
  return is_set(o, key) ? escape(format_time(get_double(o, key))) : dash;
}
std::string bytes_cell(const json::object& o, std::string_view key) {
  return is_set(o, key) ? escape(format_bytes(get_int(o, key))) : dash;
}
std::string count_cell(const json::object& o, std::string_view key) {
  return is_set(o, key) ? format_count(get_int(o, key)) : dash;
}
std::string duration_cell(const json::object& o, std::string_view key) {
  return is_set(o, key) ? escape(format_duration(get_int(o, key))) : dash;
}
std::string seconds(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", v);
  return buf;
}

std::string state_badge(std::string_view state) {
  std::string cls =
      state == "open" || state == "closed" || state == "stale" ? std::string(state) : "other";
  return "<span class=\"badge " + cls + "\">" + escape(state) + "</span>";
}

// Finding severities and run verdicts share the badge colours: a failed, unreadable or
// incompletely read run reads as an error, a capture without accounting as a warning, an
// unjudged import as information.
std::string severity_badge(std::string_view severity) {
  struct Style {
    std::string_view word;
    std::string_view cls;
  };
  static constexpr Style styles[] = {
      {"error", "sev-error"},      {"fail", "sev-error"},
      {"unreadable", "sev-error"}, {"incomplete", "sev-error"},
      {"warning", "sev-warning"},  {"no accounting traffic", "sev-warning"},
      {"info", "sev-info"},        {"imported", "sev-info"},
      {"pass", "sev-pass"},        {"stopped", "sev-other"},
  };
  std::string_view cls = "sev-other";
  for (const auto& style : styles) {
    if (severity == style.word) {
      cls = style.cls;
    }
  }
  return "<span class=\"badge " + std::string(cls) + "\">" + escape(severity) + "</span>";
}

std::string session_link(std::int64_t id, std::string_view label) {
  return "<a href=\"/sessions/" + std::to_string(id) + "\">" + escape(label) + "</a>";
}
std::string packet_link(const json::object& o, std::string_view key) {
  if (!is_set(o, key)) {
    return dash;
  }
  const auto id = std::to_string(get_int(o, key));
  return "<a href=\"/packets/" + id + "\">#" + id + "</a>";
}
std::string filter_link(std::string_view key, std::string_view value, std::string_view label) {
  return "<a href=\"/sessions?" + escape(url_encode(key)) + "=" + escape(url_encode(value)) +
         "\">" + escape(label) + "</a>";
}

std::string stat(std::string_view label, std::string value, std::string_view live_key = {}) {
  std::string out = "<div class=\"stat\"><span class=\"value\"";
  if (!live_key.empty()) {
    out += " data-live=\"" + escape(live_key) + "\"";
  }
  return out + ">" + value + "</span><span class=\"label\">" + escape(label) + "</span></div>";
}

std::string api_link(std::string_view path) {
  return "<p class=\"api\">JSON: <a href=\"" + escape(path) + "\">" + escape(path) + "</a></p>";
}

/** Page links: "« 1 … 4 5 6 … 20 »", keeping the other query parameters. */
std::string pager(std::string_view base, QueryParams params, std::int64_t page,
                  std::int64_t pages) {
  if (pages <= 1) {
    return {};
  }
  std::string out = "<nav class=\"pager\">";
  auto link = [&](std::int64_t p, const std::string& label) {
    params.set("page", std::to_string(p));
    if (p == page) {
      out += "<span class=\"current\">" + label + "</span>";
    } else {
      out +=
          "<a href=\"" + escape(std::string(base) + "?" + params.encode()) + "\">" + label + "</a>";
    }
  };
  if (page > 1) {
    link(page - 1, "&laquo; prev");
  }
  for (std::int64_t p = 1; p <= pages; ++p) {
    if (p == 1 || p == pages || std::abs(p - page) <= 2) {
      link(p, std::to_string(p));
    } else if (p == 2 || p == pages - 1) {
      out += "<span>…</span>";
    }
  }
  if (page < pages) {
    link(page + 1, "next &raquo;");
  }
  return out + "</nav>";
}

std::string sessions_table(const json::array& rows, bool with_last_status = false) {
  std::string out = "<table><thead><tr><th>Session</th><th>NAS</th><th>User</th><th>Peer</th>"
                    "<th>State</th><th>Start</th><th>Last record</th><th>Time</th>"
                    "<th>Upload</th><th>Download</th><th>Records</th>";
  if (with_last_status) {
    out += "<th>Last status</th>";
  }
  out += "</tr></thead><tbody>";
  for (const auto& v : rows) {
    const auto& s = as_obj(v);
    out += "<tr><td>" + session_link(get_int(s, "id"), get_str(s, "acct_session_id")) + "</td>";
    out += "<td>" + filter_link("nas", get_str(s, "nas_key"), get_str(s, "nas_key")) + "</td>";
    out += "<td>" +
           (is_set(s, "user_name")
                ? filter_link("user", get_str(s, "user_name"), get_str(s, "user_name"))
                : std::string(dash)) +
           "</td>";
    out += "<td>" + text(s, "peer") + "</td>";
    out += "<td>" + state_badge(get_str(s, "state"));
    if (!get_str(s, "flags").empty()) {
      out += " <span class=\"flags\">" + escape(get_str(s, "flags")) + "</span>";
    }
    out +=
        "</td><td>" + time_cell(s, "start_time") + "</td><td>" + time_cell(s, "last_record_time") +
        "</td><td class=\"num\">" + duration_cell(s, "session_time") + "</td><td class=\"num\">" +
        bytes_cell(s, "input_octets") + "</td><td class=\"num\">" + bytes_cell(s, "output_octets") +
        "</td><td class=\"num\">" + count_cell(s, "record_count") + "</td>";
    if (with_last_status) {
      out += "<td>" + text(s, "last_status") + "</td>";
    }
    out += "</tr>";
  }
  if (rows.empty()) {
    out += "<tr><td colspan=\"12\" class=\"empty\">No sessions.</td></tr>";
  }
  return out + "</tbody></table>";
}

std::string counts_table(const json::array& rows, std::string_view key_label,
                         std::string_view key) {
  std::string out = "<table class=\"compact\"><thead><tr><th>" + escape(key_label) +
                    "</th><th>Count</th></tr></thead><tbody>";
  for (const auto& v : rows) {
    const auto& r = as_obj(v);
    out += "<tr><td>" + text(r, key) + "</td><td class=\"num\">" + count_cell(r, "count") +
           "</td></tr>";
  }
  if (rows.empty()) {
    out += "<tr><td colspan=\"2\" class=\"empty\">None.</td></tr>";
  }
  return out + "</tbody></table>";
}

std::string hex_dump(std::string_view hex) {
  std::string out = "<pre class=\"hex\">";
  const std::size_t bytes = hex.size() / 2;
  for (std::size_t line = 0; line < bytes; line += 16) {
    char offset[32];
    std::snprintf(offset, sizeof offset, "%04zx  ", line);
    out += offset;
    std::string ascii;
    for (std::size_t i = line; i < line + 16; ++i) {
      if (i < bytes) {
        out += hex.substr(i * 2, 2);
        out += ' ';
        const auto byte = static_cast<unsigned char>(radius::hex_digit(hex[i * 2]) * 16 +
                                                     radius::hex_digit(hex[i * 2 + 1]));
        ascii.push_back(byte >= 0x20 && byte < 0x7f ? static_cast<char>(byte) : '.');
      } else {
        out += "   ";
      }
      if (i == line + 7) {
        out += ' ';
      }
    }
    out += " " + escape(ascii) + "\n";
  }
  return out + "</pre>";
}

} // namespace

std::string overview_page(const json::object& r) {
  const auto& live = obj(r, "live");
  const auto& sessions = obj(live, "sessions");
  std::string b;
  b += "<section class=\"stats\">";
  b += stat("open sessions", format_count(get_int(sessions, "open")), "sessions.open");
  b += stat("closed sessions", format_count(get_int(sessions, "closed")), "sessions.closed");
  b += stat("stale sessions", format_count(get_int(sessions, "stale")), "sessions.stale");
  b += stat("records", format_count(get_int(live, "records")), "records");
  b += stat("packets", format_count(get_int(live, "packets")), "packets");
  b += stat("findings", format_count(get_int(live, "findings")), "findings");
  b += "</section><p class=\"muted\">Newest record: <span data-live=\"last_event_time\">" +
       time_cell(live, "last_event_time") +
       "</span> UTC <span id=\"live-status\" class=\"live\"></span></p>";

  // Activity chart.
  std::vector<std::string> labels;
  Series starts{"Start", {}};
  Series interims{"Interim-Update", {}};
  Series stops{"Stop", {}};
  for (const auto& v : arr(obj(r, "activity"), "points")) {
    const auto& p = as_obj(v);
    labels.push_back(format_time(get_double(p, "t")).substr(5, 11));
    starts.values.push_back(get_double(p, "start"));
    interims.values.push_back(get_double(p, "interim"));
    stops.values.push_back(get_double(p, "stop"));
  }
  // record_tally counts by event time: the NAS's Event-Timestamp where the record has one.
  b += "<h2>Activity (records per hour of event time: the NAS's Event-Timestamp where sent, "
       "else receive time less Acct-Delay-Time; last 48 hours of data)</h2>";
  b += bar_chart("Records per hour", labels, {starts, interims, stops});

  b += "<div class=\"columns\"><section><h2>Records by Acct-Status-Type</h2>" +
       counts_table(arr(r, "records_by_status"), "Acct-Status-Type", "status") + "</section>";
  b += "<section><h2>Packets by verdict</h2>" +
       counts_table(arr(r, "packets_by_verdict"), "Verdict", "verdict") + "</section>";
  b += "<section><h2>Findings by severity</h2>" +
       counts_table(arr(r, "findings_by_severity"), "Severity", "severity") +
       "<p><a href=\"/conformance\">Conformance by rule &raquo;</a></p></section></div>";

  b += "<h2>NASes</h2><table><thead><tr><th>NAS</th><th>Address</th><th>Requests</th>"
       "<th>Accepted</th><th>Duplicates</th><th>Bad auth.</th><th>Malformed</th>"
       "<th>Last seen</th></tr></thead><tbody>";
  for (const auto& v : arr(r, "nas")) {
    const auto& n = as_obj(v);
    b += "<tr><td>" + filter_link("nas", get_str(n, "identity"), get_str(n, "identity")) +
         "</td><td>" + text(n, "address") + "</td><td class=\"num\">" + count_cell(n, "requests") +
         "</td><td class=\"num\">" + count_cell(n, "accepted") + "</td><td class=\"num\">" +
         count_cell(n, "duplicates") + "</td><td class=\"num\">" +
         count_cell(n, "bad_authenticator") + "</td><td class=\"num\">" +
         count_cell(n, "malformed") + "</td><td>" + time_cell(n, "last_seen") + "</td></tr>";
  }
  if (arr(r, "nas").empty()) {
    b += "<tr><td colspan=\"8\" class=\"empty\">No NAS has sent anything yet.</td></tr>";
  }
  b += "</tbody></table>" + api_link("/api/overview");
  return page("Overview", "/", b, true);
}

std::string sessions_page(const json::object& r, const QueryParams& params) {
  const auto& f = obj(r, "filter");
  auto field = [&](std::string_view name, std::string_view label, std::string value,
                   std::string_view placeholder = {}) {
    return "<label>" + escape(label) + " <input name=\"" + escape(name) + "\" value=\"" +
           escape(value) + "\" placeholder=\"" + escape(placeholder) + "\"></label>";
  };
  std::string b = "<form class=\"filters\" method=\"get\" action=\"/sessions\">";
  b += field("q", "Search", get_str(f, "q"), "session id, user, peer");
  b += field("user", "User", get_str(f, "user"));
  b += field("nas", "NAS", get_str(f, "nas"));
  b += "<label>State <select name=\"state\">";
  for (const char* s : {"", "open", "closed", "stale"}) {
    b += "<option value=\"" + std::string(s) + "\"" +
         (get_str(f, "state") == s ? " selected" : "") + ">" + (*s ? s : "any") + "</option>";
  }
  b += "</select></label>";
  b += field("from", "From", is_set(f, "from") ? format_time(get_double(f, "from")) : "",
             "YYYY-MM-DD");
  b += field("to", "To", is_set(f, "to") ? format_time(get_double(f, "to")) : "", "YYYY-MM-DD");
  b += "<button type=\"submit\">Filter</button> <a href=\"/sessions\">reset</a></form>";

  QueryParams base = params;
  base.erase("page");
  b += "<p class=\"muted\">" + format_count(get_int(r, "total")) +
       " sessions · <a href=\"/sessions.csv?" + escape(base.encode()) + "\">CSV export</a>" +
       (get_int(r, "total") > max_csv_rows
            ? " (the first " + format_count(max_csv_rows) + " in this order)"
            : std::string()) +
       " · <a href=\"/api/sessions?" + escape(params.encode()) + "\">JSON</a></p>";

  // Sortable headers: clicking a column sorts by it, clicking again flips the order.
  const auto sort = get_str(r, "sort");
  const auto order = get_str(r, "order");
  std::string sort_bar = "<p class=\"sort\">Sort by: ";
  for (auto [key, label] :
       {std::pair{"last", "last record"}, std::pair{"start", "start"}, std::pair{"stop", "stop"},
        std::pair{"user", "user"}, std::pair{"nas", "NAS"}, std::pair{"state", "state"},
        std::pair{"time", "time"}, std::pair{"in", "upload"}, std::pair{"out", "download"}}) {
    QueryParams p = base;
    p.set("sort", key);
    const bool active = sort == key;
    p.set("order", active && order == "desc" ? "asc" : "desc");
    sort_bar += "<a href=\"/sessions?" + escape(p.encode()) + "\"" +
                (active ? " class=\"active\"" : "") + ">" + label +
                (active ? (order == "desc" ? " ▼" : " ▲") : "") + "</a> ";
  }
  b += sort_bar + "</p>";
  b += sessions_table(arr(r, "sessions"));
  b += pager("/sessions", base, get_int(r, "page"), get_int(r, "pages"));
  return page("Sessions", "/sessions", b);
}

std::string session_page(const json::object& r) {
  const auto& s = obj(r, "session");
  const auto& records = arr(r, "records");
  std::string b;
  b += "<dl class=\"facts\">";
  auto fact = [&](std::string_view label, std::string value) {
    b += "<dt>" + escape(label) + "</dt><dd>" + value + "</dd>";
  };
  fact("Acct-Session-Id", text(s, "acct_session_id"));
  fact("Unique id", text(s, "unique_id"));
  fact("NAS", filter_link("nas", get_str(s, "nas_key"), get_str(s, "nas_key")));
  fact("User", is_set(s, "user_name")
                   ? filter_link("user", get_str(s, "user_name"), get_str(s, "user_name"))
                   : std::string(dash));
  fact("State", state_badge(get_str(s, "state")) +
                    (get_str(s, "flags").empty()
                         ? std::string()
                         : " <span class=\"flags\">" + escape(get_str(s, "flags")) + "</span>"));
  fact("Peer", text(s, "peer"));
  fact("Framed-IP-Address", text(s, "framed_ip"));
  fact("NAS-IP-Address", text(s, "nas_ip"));
  fact("Start", time_cell(s, "start_time"));
  fact("Stop", time_cell(s, "stop_time"));
  fact("Last record", time_cell(s, "last_record_time"));
  fact("Session time", duration_cell(s, "session_time"));
  fact("Upload (input)",
       bytes_cell(s, "input_octets") + " / " + count_cell(s, "input_packets") + " packets");
  fact("Download (output)",
       bytes_cell(s, "output_octets") + " / " + count_cell(s, "output_packets") + " packets");
  fact("Terminate cause", text(s, "terminate_cause"));
  b += "</dl>";

  // Charts: cumulative counters as each record reported them, once against the records' event
  // times and once against the session's own elapsed time (Acct-Session-Time, the NAS's count),
  // which keeps the session's shape whatever the clocks did (a NAS whose records all arrive at
  // once, a replayed capture).
  struct Counted {
    std::vector<double> xs;
    Series in_octets{"input octets", {}};
    Series out_octets{"output octets", {}};
    Series in_packets{"input packets", {}};
    Series out_packets{"output packets", {}};
    void add(double x, const json::object& rec) {
      xs.push_back(x);
      in_octets.values.push_back(get_double(rec, "input_octets"));
      out_octets.values.push_back(get_double(rec, "output_octets"));
      in_packets.values.push_back(get_double(rec, "input_packets"));
      out_packets.values.push_back(get_double(rec, "output_packets"));
    }
  };
  Counted by_event;
  Counted by_session_time;
  bool nas_times = false; // some record's event time is its Event-Timestamp
  for (const auto& v : records) {
    const auto& rec = as_obj(v);
    nas_times = nas_times || get_str(rec, "event_time_source") == "Event-Timestamp";
    if (!is_set(rec, "input_octets") && !is_set(rec, "output_octets")) {
      continue;
    }
    by_event.add(get_double(rec, "event_time"), rec);
    if (is_set(rec, "session_time")) {
      by_session_time.add(get_double(rec, "session_time"), rec);
    }
  }
  b += "<h2>Counters over the session's own time (Acct-Session-Time)</h2>"
       "<div class=\"columns\">";
  const ChartOptions elapsed_bytes{440, 220, Unit::bytes, XAxis::elapsed};
  const ChartOptions elapsed_count{440, 220, Unit::count, XAxis::elapsed};
  b += line_chart("Octets by session time", by_session_time.xs,
                  {by_session_time.in_octets, by_session_time.out_octets}, elapsed_bytes);
  b += line_chart("Packets by session time", by_session_time.xs,
                  {by_session_time.in_packets, by_session_time.out_packets}, elapsed_count);
  b += "</div>";
  b += std::string("<h2>Counters over event time (") +
       (nas_times ? "the NAS's Event-Timestamp" : "receive time less Acct-Delay-Time") +
       ", UTC)</h2><div class=\"columns\">";
  b += line_chart("Octets by event time", by_event.xs, {by_event.in_octets, by_event.out_octets},
                  {440, 220, Unit::bytes});
  b += line_chart("Packets by event time", by_event.xs, {by_event.in_packets, by_event.out_packets},
                  {440, 220, Unit::count});
  b += "</div>";

  b += "<h2>Timeline</h2><p class=\"muted\">Event time is the NAS's clock where the record "
       "carries Event-Timestamp (RFC 2869 §5.3), else the server's receive time less "
       "Acct-Delay-Time (RFC 2866 §5.2); each row says which. Received is the server's clock. "
       "Session time is the NAS's count of the session's seconds (Acct-Session-Time).</p>"
       "<table><thead><tr><th>#</th><th>Acct-Status-Type</th><th>Event time (UTC)</th>"
       "<th>Event time from</th><th>Since previous</th><th>Acct-Delay-Time</th>"
       "<th>Received (server, UTC)</th><th>Received after</th><th>Session time (NAS)"
       "</th><th>In octets</th><th>Out octets</th><th>In pkts</th><th>Out pkts</th><th>Packet"
       "</th></tr></thead><tbody>";
  for (const auto& v : records) {
    const auto& rec = as_obj(v);
    b += "<tr><td><a href=\"#record-" + std::to_string(get_int(rec, "id")) + "\">" +
         std::to_string(get_int(rec, "id")) + "</a></td><td>" + text(rec, "status") + "</td><td>" +
         time_cell(rec, "event_time") + "</td><td>" +
         (get_str(rec, "event_time_source") == "Event-Timestamp" ? "NAS (Event-Timestamp)"
                                                                 : "server (receive − delay)") +
         "</td><td class=\"num\">" +
         (is_set(rec, "since_previous") ? escape(seconds(get_double(rec, "since_previous")))
                                        : std::string(dash)) +
         "</td><td class=\"num\">" +
         (is_set(rec, "delay") ? std::to_string(get_int(rec, "delay")) + " s" : std::string(dash)) +
         "</td><td>" + time_cell(rec, "receive_time") + "</td><td class=\"num\">" +
         escape(seconds(get_double(rec, "receive_lag"))) + "</td><td class=\"num\">" +
         duration_cell(rec, "session_time") + "</td><td class=\"num\">" +
         count_cell(rec, "input_octets") + "</td><td class=\"num\">" +
         count_cell(rec, "output_octets") + "</td><td class=\"num\">" +
         count_cell(rec, "input_packets") + "</td><td class=\"num\">" +
         count_cell(rec, "output_packets") + "</td><td>" + packet_link(rec, "packet_id") +
         "</td></tr>";
  }
  if (records.empty()) {
    b += "<tr><td colspan=\"14\" class=\"empty\">No records.</td></tr>";
  }
  b += "</tbody></table>";

  b += "<h2>Records</h2>";
  for (const auto& v : records) {
    const auto& rec = as_obj(v);
    const auto id = std::to_string(get_int(rec, "id"));
    b += "<section class=\"record\" id=\"record-" + id + "\"><h3>Record " + id + " · " +
         text(rec, "status") + " · " + time_cell(rec, "event_time") + " · from " +
         text(rec, "src_addr") + " · verdict " + text(rec, "verdict") + "</h3>";
    b += "<table class=\"attrs\"><tbody>";
    for (const auto& a : arr(rec, "attribute_list")) {
      const auto& attr = as_obj(a);
      b += "<tr><th>" + escape(get_str(attr, "name")) + "</th><td>" +
           escape(get_str(attr, "value")) + "</td></tr>";
    }
    b += "</tbody></table>";
    if (is_set(rec, "raw")) {
      b += "<details><summary>Raw packet (" + std::to_string(get_str(rec, "raw").size() / 2) +
           " octets) · <a href=\"/packets/" + std::to_string(get_int(rec, "packet_id")) +
           "\">packet page</a></summary>" + hex_dump(get_str(rec, "raw")) + "</details>";
    }
    b += "</section>";
  }

  b += "<h2>Findings</h2><table><thead><tr><th>Rule</th><th>Source</th><th>Severity</th>"
       "<th>Message</th><th>Evidence</th></tr></thead><tbody>";
  for (const auto& v : arr(r, "findings")) {
    const auto& f = as_obj(v);
    b += "<tr><td><a href=\"/conformance/" + escape(url_encode(get_str(f, "rule_id"))) + "\">" +
         escape(get_str(f, "rule_id")) + "</a></td><td>" + text(f, "source") + "</td><td>" +
         severity_badge(get_str(f, "severity")) + "</td><td>" + escape(get_str(f, "message")) +
         "</td><td>" + packet_link(f, "packet_id") + "</td></tr>";
  }
  if (arr(r, "findings").empty()) {
    b += "<tr><td colspan=\"5\" class=\"empty\">No findings concern this session.</td></tr>";
  }
  b += "</tbody></table>" + api_link("/api/sessions/" + std::to_string(get_int(s, "id")));
  return page("Session " + get_str(s, "acct_session_id"), "/sessions", b);
}

std::string packet_page(const json::object& r) {
  const auto& p = obj(r, "packet");
  const auto& d = obj(r, "decoded");
  std::string b = "<dl class=\"facts\">";
  auto fact = [&](std::string_view label, std::string value) {
    b += "<dt>" + escape(label) + "</dt><dd>" + value + "</dd>";
  };
  fact("Received", time_cell(p, "receive_time"));
  fact("From", text(p, "src_addr") + " port " + text(p, "src_port"));
  fact("To", text(p, "dst_addr") + " port " + text(p, "dst_port"));
  fact("Verdict",
       text(p, "verdict") + (is_set(p, "reason") ? " (" + escape(get_str(p, "reason")) + ")" : ""));
  fact("Code / Identifier", text(p, "code") + " / " + text(p, "identifier"));
  if (is_set(p, "file")) {
    fact("Capture", text(p, "file") + " frame " + text(p, "frame"));
  }
  if (is_set(p, "run_id")) {
    fact("Run", "<a href=\"/runs/" + std::to_string(get_int(p, "run_id")) + "\">#" +
                    std::to_string(get_int(p, "run_id")) + "</a>");
  }
  b += "</dl><h2>Decoded</h2>";
  if (d.contains("ok") && d.at("ok").is_bool() && d.at("ok").get_bool()) {
    b += "<pre>" + escape(get_str(d, "text")) +
         "</pre><details><summary>As IOS debug radius"
         "</summary><pre>";
    for (const auto& line : arr(d, "ios_debug")) {
      b += escape(line.is_string() ? std::string_view(line.get_string()) : "") + "\n";
    }
    b += "</pre></details>";
  } else {
    b += "<p class=\"error\">Does not decode: " + escape(get_str(d, "error")) + " at offset " +
         std::to_string(get_int(d, "offset")) + "</p>";
  }
  b += "<h2>Raw</h2>" + hex_dump(get_str(p, "raw"));
  b += "<h2>Records</h2><ul>";
  for (const auto& v : arr(r, "records")) {
    const auto& rec = as_obj(v);
    b += "<li>record " + std::to_string(get_int(rec, "id")) + " · " + text(rec, "status") +
         (is_set(rec, "session_row")
              ? " · " + session_link(get_int(rec, "session_row"),
                                     "session " + get_str(rec, "acct_session_id"))
              : std::string()) +
         "</li>";
  }
  b += "</ul><h2>Findings</h2><ul>";
  for (const auto& v : arr(r, "findings")) {
    const auto& f = as_obj(v);
    b += "<li>" + severity_badge(get_str(f, "severity")) + " <a href=\"/conformance/" +
         escape(url_encode(get_str(f, "rule_id"))) + "\">" + escape(get_str(f, "rule_id")) +
         "</a>: " + escape(get_str(f, "message")) + "</li>";
  }
  b += "</ul>" + api_link("/api/packets/" + std::to_string(get_int(p, "id")));
  return page("Packet #" + std::to_string(get_int(p, "id")), "", b);
}

std::string conformance_page(const json::object& r) {
  std::string b = "<p class=\"muted\">Pass and fail: how many of the " +
                  format_count(get_int(r, "conform_runs")) +
                  " stored conformance runs (acctlab conform, acctlab check) and " +
                  format_count(get_int(r, "pcap_runs")) +
                  " judged capture imports passed each rule. "
                  "Findings: what the runs stored as evidence, with the packets and sessions they "
                  "concern.</p>";
  b += "<table><thead><tr><th>Rule</th><th>Source</th><th>Severity</th><th>Scope</th>"
       "<th>Runs passed</th><th>Runs failed</th><th>Findings</th><th>Packets</th>"
       "<th>Sessions</th><th>Summary</th></tr></thead><tbody>";
  for (const auto& v : arr(r, "rules")) {
    const auto& rule = as_obj(v);
    const auto id = get_str(rule, "rule_id");
    const bool has_findings = get_int(rule, "findings") > 0;
    b += "<tr><td>" +
         (has_findings
              ? "<a href=\"/conformance/" + escape(url_encode(id)) + "\">" + escape(id) + "</a>"
              : escape(id)) +
         "</td><td>" + text(rule, "source") + "</td><td>" +
         severity_badge(get_str(rule, "severity")) + "</td><td>" + text(rule, "scope") +
         "</td><td class=\"num pass\">" + count_cell(rule, "runs_passed") +
         "</td><td class=\"num fail\">" + count_cell(rule, "runs_failed") +
         "</td><td class=\"num\">" + count_cell(rule, "findings") + "</td><td class=\"num\">" +
         count_cell(rule, "packets") + "</td><td class=\"num\">" + count_cell(rule, "sessions") +
         "</td><td>" + (is_set(rule, "summary") ? text(rule, "summary") : text(rule, "example")) +
         "</td></tr>";
  }
  if (arr(r, "rules").empty()) {
    b += "<tr><td colspan=\"10\" class=\"empty\">No conformance run or finding stored yet "
         "(acctlab conform, acctlab check --db).</td></tr>";
  }
  b += "</tbody></table>" + api_link("/api/conformance");
  return page("Conformance", "/conformance", b);
}

std::string rule_page(const json::object& r, const QueryParams& params) {
  const auto rule = get_str(r, "rule_id");
  std::string b;
  const auto& catalog = obj(r, "rule");
  if (!catalog.empty()) {
    b += "<p>" + text(catalog, "summary") + " <span class=\"muted\">(" + text(catalog, "source") +
         ", " + text(catalog, "scope") + " rule)</span></p>";
  }
  b += "<p class=\"muted\">" + format_count(get_int(r, "total")) +
       " findings. <a href=\"/conformance\">All rules</a></p>";
  b += "<table><thead><tr><th>#</th><th>Severity</th><th>Message</th><th>Packet</th>"
       "<th>Received</th><th>From</th><th>Session</th><th>Capture frame</th><th>Run</th></tr>"
       "</thead><tbody>";
  for (const auto& v : arr(r, "findings")) {
    const auto& f = as_obj(v);
    b += "<tr><td>" + std::to_string(get_int(f, "id")) + "</td><td>" +
         severity_badge(get_str(f, "severity")) + "</td><td>" + escape(get_str(f, "message")) +
         "</td><td>" + packet_link(f, "packet_id") + "</td><td>" + time_cell(f, "receive_time") +
         "</td><td>" + text(f, "src_addr") + "</td><td>" +
         (is_set(f, "session_id") ? session_link(get_int(f, "session_id"),
                                                 "#" + std::to_string(get_int(f, "session_id")))
                                  : std::string(dash)) +
         "</td><td>" +
         (is_set(f, "file") ? escape(get_str(f, "file")) + " #" + text(f, "frame")
                            : std::string(dash)) +
         "</td><td>" + text(f, "run_id") + "</td></tr>";
  }
  b += "</tbody></table>";
  QueryParams base = params;
  base.erase("page");
  b += pager("/conformance/" + url_encode(rule), base, get_int(r, "page"), get_int(r, "pages"));
  b += api_link("/api/conformance/" + url_encode(rule));
  return page("Rule " + rule, "/conformance", b);
}

std::string usage_page(const json::object& r, const QueryParams& params) {
  const auto& f = obj(r, "filter");
  std::string b = "<form class=\"filters\" method=\"get\" action=\"/usage\">";
  auto field = [&](std::string_view name, std::string_view label, std::string value,
                   std::string_view placeholder = {}) {
    b += "<label>" + escape(label) + " <input name=\"" + escape(name) + "\" value=\"" +
         escape(value) + "\" placeholder=\"" + escape(placeholder) + "\"></label>";
  };
  field("from", "From", is_set(f, "from") ? format_time(get_double(f, "from")) : "", "YYYY-MM-DD");
  field("to", "To", is_set(f, "to") ? format_time(get_double(f, "to")) : "", "YYYY-MM-DD");
  field("user", "User", get_str(f, "user"));
  field("nas", "NAS", get_str(f, "nas"));
  field("peer", "Peer", get_str(f, "peer"));
  auto select = [&](std::string_view name, std::string_view label, std::string_view current,
                    std::initializer_list<const char*> options) {
    b += "<label>" + escape(label) + " <select name=\"" + escape(name) + "\">";
    for (const char* o : options) {
      b += "<option" + std::string(current == o ? " selected" : "") + ">" + o + "</option>";
    }
    b += "</select></label>";
  };
  select("group", "Group by", get_str(r, "group"), {"user", "nas", "peer"});
  select("period", "Period", get_str(r, "period"), {"hour", "day", "month"});
  b += "<button type=\"submit\">Show</button> <a href=\"/usage\">reset</a></form>";
  if (f.contains("default_range")) {
    b += "<p class=\"muted\">Sessions started since " + time_cell(f, "from") + " UTC: the newest " +
         std::string(get_str(r, "period") == "hour"    ? "2 days"
                     : get_str(r, "period") == "month" ? "12 months"
                                                       : "7 days") +
         " of data. Set From and To for another range.</p>";
  }

  b += "<h2>Online now: " + format_count(get_int(r, "online_count")) + "</h2>";
  b += sessions_table(arr(r, "online"));

  std::vector<std::string> labels;
  Series sessions{"sessions", {}};
  Series upload{"upload", {}};
  Series download{"download", {}};
  for (const auto& v : arr(r, "series")) {
    const auto& p = as_obj(v);
    labels.push_back(get_str(p, "bucket"));
    sessions.values.push_back(get_double(p, "sessions"));
    upload.values.push_back(get_double(p, "upload"));
    download.values.push_back(get_double(p, "download"));
  }
  const auto period = get_str(r, "period");
  b += "<h2>Per " + escape(period) + "</h2>";
  b += bar_chart("Traffic per " + period, labels, {upload, download}, {900, 240, Unit::bytes});
  b += bar_chart("Sessions per " + period, labels, {sessions}, {900, 200, Unit::count});

  b += "<h2>Top users</h2><div class=\"columns\">";
  for (auto [key, label, unit] :
       {std::tuple{"time", "By time", 0}, std::tuple{"download", "By download", 1},
        std::tuple{"upload", "By upload", 1}}) {
    b += "<section><h3>" + std::string(label) +
         "</h3><table class=\"compact\"><thead><tr><th>User</th><th>Total</th><th>Sessions</th>"
         "</tr></thead><tbody>";
    for (const auto& v : arr(obj(r, "top_users"), key)) {
      const auto& u = as_obj(v);
      b += "<tr><td>" + filter_link("user", get_str(u, "user"), get_str(u, "user")) +
           "</td><td class=\"num\">" +
           (unit == 0 ? duration_cell(u, "value") : bytes_cell(u, "value")) +
           "</td><td class=\"num\">" + count_cell(u, "sessions") + "</td></tr>";
    }
    b += "</tbody></table></section>";
  }
  b += "</div>";

  const auto group = get_str(r, "group");
  b += "<h2>Accounting by " + escape(group) + "</h2><table><thead><tr><th>" + escape(group) +
       "</th><th>Sessions</th><th>Time</th><th>Upload</th><th>Download</th></tr></thead><tbody>";
  for (const auto& v : arr(r, "by_group")) {
    const auto& g = as_obj(v);
    const auto key = get_str(g, "key");
    b += "<tr><td>" + (is_set(g, "key") ? filter_link(group, key, key) : std::string(dash)) +
         "</td><td class=\"num\">" + count_cell(g, "sessions") + "</td><td class=\"num\">" +
         duration_cell(g, "time") + "</td><td class=\"num\">" + bytes_cell(g, "upload") +
         "</td><td class=\"num\">" + bytes_cell(g, "download") + "</td></tr>";
  }
  b += "</tbody></table>";
  b += "<h2>Stale sessions</h2>" + sessions_table(arr(r, "stale"), true);
  b += api_link("/api/usage" + (params.encode().empty() ? "" : "?" + params.encode()));
  return page("Usage", "/usage", b);
}

std::string runs_page(const json::object& r) {
  std::string b = "<table><thead><tr><th>Run</th><th>Kind</th><th>Started</th><th>Finished</th>"
                  "<th>Verdict</th><th>Packets</th><th>Findings</th></tr></thead><tbody>";
  for (const auto& v : arr(r, "runs")) {
    const auto& run = as_obj(v);
    const auto id = std::to_string(get_int(run, "id"));
    b += "<tr><td><a href=\"/runs/" + id + "\">#" + id + "</a></td><td>" + text(run, "kind") +
         "</td><td>" + time_cell(run, "started") + "</td><td>" + time_cell(run, "finished") +
         "</td><td>" + severity_badge(get_str(run, "verdict")) + "</td><td class=\"num\">" +
         count_cell(run, "packets") + "</td><td class=\"num\">" + count_cell(run, "findings") +
         "</td></tr>";
  }
  if (arr(r, "runs").empty()) {
    b += "<tr><td colspan=\"7\" class=\"empty\">No runs recorded.</td></tr>";
  }
  b += "</tbody></table><h2>Capture imports</h2><table><thead><tr><th>File</th><th>Run</th>"
       "<th>Packets</th><th>Accepted</th><th>Frames</th></tr></thead><tbody>";
  for (const auto& v : arr(r, "pcap_files")) {
    const auto& p = as_obj(v);
    b += "<tr><td>" + text(p, "file") + "</td><td>" + text(p, "run_id") +
         "</td><td class=\"num\">" + count_cell(p, "packets") + "</td><td class=\"num\">" +
         count_cell(p, "ok") + "</td><td>" + text(p, "first_frame") + "–" + text(p, "last_frame") +
         "</td></tr>";
  }
  if (arr(r, "pcap_files").empty()) {
    b += "<tr><td colspan=\"5\" class=\"empty\">No captures imported.</td></tr>";
  }
  b += "</tbody></table>" + api_link("/api/runs");
  return page("Runs", "/runs", b);
}

namespace {

/** True when every value is a number, string, boolean or null: a list of counters. */
bool is_flat(const json::object& o) {
  for (const auto& [key, value] : o) {
    if (value.is_object() || value.is_array()) {
      return false;
    }
  }
  return !o.empty();
}

/** The server's counters (server/server_counters.hpp) by name; other keys are shown as named. */
std::string counter_label(std::string_view key) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 18> labels{{
      {"received", "Requests received"},
      {"accepted", "Accepted (valid Accounting-Requests)"},
      {"answered", "Answered after commit"},
      {"duplicates", "Duplicates (RFC 5080 retransmissions)"},
      {"bad_authenticator", "Bad Request Authenticator"},
      {"bad_message_authenticator", "Bad Message-Authenticator"},
      {"unknown_client", "Unknown client"},
      {"malformed", "Malformed"},
      {"status_server", "Status-Server answered"},
      {"overload_drops", "Dropped for overload"},
      {"commit_batches", "Commit batches"},
      {"committed", "Items committed"},
      {"commit_ms_avg", "Commit time, average"},
      {"commit_ms_max", "Commit time, longest"},
      {"max_batch", "Largest batch"},
      {"in_flight", "Awaiting commit"},
      {"open_sessions", "Open sessions"},
      {"database", "Database"},
  }};
  for (const auto& [name, label] : labels) {
    if (name == key) {
      return std::string(label);
    }
  }
  std::string label(key);
  for (auto& c : label) {
    c = c == '_' ? ' ' : c;
  }
  return label;
}

std::string counter_value(std::string_view key, const json::value& value) {
  if (value.is_int64() || value.is_uint64()) {
    return format_count(value.is_int64() ? value.get_int64()
                                         : static_cast<std::int64_t>(value.get_uint64()));
  }
  if (value.is_double()) {
    char buf[48];
    const bool ms = key.size() > 3 && key.find("_ms") != std::string_view::npos;
    std::snprintf(buf, sizeof buf, ms ? "%.2f ms" : "%.3f", value.get_double());
    return buf;
  }
  if (value.is_string()) {
    return escape(value.get_string());
  }
  return value.is_null() ? dash : escape(json::serialize(value));
}

std::string counters_table(const json::object& counters) {
  std::string b = "<table class=\"compact counters\"><tbody>";
  for (const auto& [key, value] : counters) {
    b += "<tr><th>" + escape(counter_label(key)) + "</th><td class=\"num\">" +
         counter_value(key, value) + "</td></tr>";
  }
  return b + "</tbody></table>";
}

} // namespace

std::string run_page(const json::object& r) {
  const auto& run = obj(r, "run");
  const auto id = std::to_string(get_int(run, "id"));
  std::string b =
      "<dl class=\"facts\"><dt>Kind</dt><dd>" + text(run, "kind") + "</dd><dt>Started</dt><dd>" +
      time_cell(run, "started") + "</dd><dt>Finished</dt><dd>" + time_cell(run, "finished") +
      "</dd><dt>Verdict</dt><dd>" + severity_badge(get_str(run, "verdict")) + "</dd></dl>";
  b += "<div class=\"columns\"><section><h2>Packets by verdict</h2>" +
       counts_table(arr(r, "packets_by_verdict"), "Verdict", "verdict") + "</section>";
  b += "<section><h2>Findings by rule</h2><table class=\"compact\"><thead><tr><th>Rule</th>"
       "<th>Severity</th><th>Count</th></tr></thead><tbody>";
  for (const auto& v : arr(r, "findings_by_rule")) {
    const auto& f = as_obj(v);
    b += "<tr><td><a href=\"/conformance/" + escape(url_encode(get_str(f, "rule_id"))) + "\">" +
         escape(get_str(f, "rule_id")) + "</a></td><td>" + severity_badge(get_str(f, "severity")) +
         "</td><td class=\"num\">" + count_cell(f, "count") + "</td></tr>";
  }
  b += "</tbody></table></section></div>";
  if (is_set(run, "report_withheld")) {
    b += "<p class=\"muted\" id=\"report-withheld\">The counts above are of your NASes only. The "
         "run's stored report covers every NAS it saw, so it is shown to admins only.</p>";
  }
  if (is_set(run, "report")) {
    const auto* report = run.if_contains("report");
    std::string omitted_note;
    if (const auto* omitted = run.if_contains("report_omitted"); omitted && omitted->is_array()) {
      // A report too large to show whole (web/reports.hpp, whole_report_limit), flat or not.
      std::string keys;
      for (const auto& key : omitted->get_array()) {
        keys += (keys.empty() ? "" : ", ") +
                escape(key.is_string() ? std::string_view(key.get_string()) : std::string_view());
      }
      if (is_set(run, "report_omitted_unnamed")) {
        keys += (keys.empty() ? "" : " and ") + count_cell(run, "report_omitted_unnamed") + " more";
      }
      omitted_note = "<p>The report is " + count_cell(run, "report_bytes") +
                     " bytes: shown without its largest members (" + keys +
                     "). The findings are under <a href=\"/conformance\">Conformance</a>.</p>";
    }
    if (report->is_object() && is_flat(report->get_object())) {
      b += get_str(run, "kind") == "serve"
               ? std::string("<h2>Server counters</h2>") +
                     (is_set(run, "finished") ? ""
                                              : "<p>As of the server's last report (it "
                                                "writes them every few seconds).</p>")
               : std::string("<h2>Report</h2>");
      b += omitted_note;
      b += counters_table(report->get_object());
    } else {
      b += "<h2>Report</h2>" + omitted_note;
      b += "<pre class=\"report\">" +
           escape(report->is_string() ? std::string(report->get_string())
                                      : json::serialize(*report)) +
           "</pre>";
    }
  }
  b += api_link("/api/runs/" + id);
  return page("Run #" + id, "/runs", b);
}

std::string nas_page(const json::object& r) {
  std::string b = "<table><thead><tr><th>NAS</th><th>Address</th><th>First seen</th>"
                  "<th>Last seen</th><th>Requests</th><th>Accepted</th><th>Duplicates</th>"
                  "<th>Bad authenticator</th><th>Bad Message-Authenticator</th><th>Malformed</th>"
                  "<th>Unknown client</th><th>Sessions</th><th>Open</th></tr></thead><tbody>";
  for (const auto& v : arr(r, "nas")) {
    const auto& n = as_obj(v);
    b += "<tr><td>" + filter_link("nas", get_str(n, "identity"), get_str(n, "identity")) +
         "</td><td>" + text(n, "address") + "</td><td>" + time_cell(n, "first_seen") + "</td><td>" +
         time_cell(n, "last_seen") + "</td>";
    for (const char* key :
         {"requests", "accepted", "duplicates", "bad_authenticator", "bad_message_authenticator",
          "malformed", "unknown_client", "sessions", "open_sessions"}) {
      b += "<td class=\"num\">" + count_cell(n, key) + "</td>";
    }
    b += "</tr>";
  }
  if (arr(r, "nas").empty()) {
    b += "<tr><td colspan=\"13\" class=\"empty\">No NAS has sent anything yet.</td></tr>";
  }
  b += "</tbody></table>" + api_link("/api/nas");
  return page("NASes", "/nas", b);
}

std::string error_page(unsigned status, std::string_view message) {
  return page("Error " + std::to_string(status), "",
              "<p class=\"error\">" + escape(message) + "</p><p><a href=\"/\">Overview</a></p>");
}

std::string sessions_csv(const json::object& r) {
  static constexpr std::array<const char*, 18> columns{"id",
                                                       "nas_key",
                                                       "acct_session_id",
                                                       "state",
                                                       "flags",
                                                       "user_name",
                                                       "peer",
                                                       "framed_ip",
                                                       "start_time",
                                                       "stop_time",
                                                       "last_record_time",
                                                       "session_time",
                                                       "input_octets",
                                                       "output_octets",
                                                       "input_packets",
                                                       "output_packets",
                                                       "terminate_cause",
                                                       "record_count"};
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    out += (i ? "," : "") + std::string(columns[i]);
  }
  out += "\r\n";
  for (const auto& v : arr(r, "sessions")) {
    const auto& s = as_obj(v);
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) {
        out += ',';
      }
      const auto* value = s.if_contains(columns[i]);
      if (!value || value->is_null()) {
        continue;
      }
      if (std::string_view(columns[i]).ends_with("_time") && value->is_number()) {
        out += format_time(get_double(s, columns[i]));
        continue;
      }
      if (!value->is_string()) {
        out += json::serialize(*value);
        continue;
      }
      // RFC 4180 quoting; a leading = + - @ would make a spreadsheet evaluate packet text as a
      // formula (OWASP "CSV injection"), so such values get a leading apostrophe.
      std::string field(value->get_string());
      if (!field.empty() && (field[0] == '=' || field[0] == '+' || field[0] == '-' ||
                             field[0] == '@' || field[0] == '\t' || field[0] == '\r')) {
        field.insert(0, 1, '\'');
      }
      out += '"';
      for (char c : field) {
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
      }
      out += '"';
    }
    out += "\r\n";
  }
  return out;
}

} // namespace acctlab::web
