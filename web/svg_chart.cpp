#include "web/svg_chart.hpp"

#include "web/html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace acctlab::web {
namespace {

constexpr int margin_left = 70;
constexpr int margin_right = 16;
constexpr int margin_top = 28;
constexpr int margin_bottom = 44;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string axis_value(double v, Unit unit) {
  if (unit == Unit::bytes) {
    return format_bytes(static_cast<std::int64_t>(v));
  }
  if (v >= 1e6) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
    return buf;
  }
  if (v >= 1e4) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0fk", v / 1e3);
    return buf;
  }
  return format_count(static_cast<std::int64_t>(std::llround(v)));
}

/** A "nice" top for the y axis: four grid steps of 1, 2 or 5 times a power of ten. */
double nice_max(double v, Unit unit) {
  if (!(v > 0)) {
    return 4;
  }
  double step = v / 4;
  double scale = 1;
  while (scale * 10 <= step) {
    scale *= 10;
  }
  while (scale > step) {
    scale /= 10;
  }
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (scale * m >= step) {
      step = scale * m;
      break;
    }
  }
  // Counts are whole numbers: a step below one would label the grid 0, 0, 1, 1.
  if (unit == Unit::count) {
    step = std::max(step, 1.0);
  }
  return step * 4;
}

/** The top of the y axis for the largest value of any series. */
double axis_max(const std::vector<Series>& series, Unit unit) {
  double max_value = 0;
  for (const auto& s : series) {
    for (double v : s.values) {
      max_value = std::max(max_value, v);
    }
  }
  return nice_max(max_value, unit);
}

/** What an empty chart shows in the middle of its plot. */
std::string no_data(const ChartOptions& o) {
  return "<text class=\"axis\" x=\"" + std::to_string(o.width / 2) + "\" y=\"" +
         std::to_string(o.height / 2) + "\" text-anchor=\"middle\">no data</text>";
}

std::string frame(std::string_view title, const ChartOptions& o, double y_max,
                  const std::vector<Series>& series) {
  std::string out;
  out += "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ";
  out += std::to_string(o.width) + " " + std::to_string(o.height);
  out += "\" role=\"img\" aria-label=\"";
  out += escape(title);
  out += "\"><title>";
  out += escape(title);
  out += "</title>";
  const int plot_h = o.height - margin_top - margin_bottom;
  for (int i = 0; i <= 4; ++i) {
    const double y = margin_top + plot_h - plot_h * i / 4.0;
    out += "<line class=\"grid\" x1=\"" + std::to_string(margin_left) + "\" x2=\"" +
           std::to_string(o.width - margin_right) + "\" y1=\"" + num(y) + "\" y2=\"" + num(y) +
           "\"/>";
    out += "<text class=\"axis\" text-anchor=\"end\" x=\"" + std::to_string(margin_left - 6) +
           "\" y=\"" + num(y + 4) + "\">" + escape(axis_value(y_max * i / 4.0, o.unit)) + "</text>";
  }
  // Legend, top right.
  int x = o.width - margin_right;
  for (std::size_t s = series.size(); s-- > 0;) {
    const auto label = escape(series[s].name);
    x -= static_cast<int>(series[s].name.size()) * 7 + 26;
    out += "<rect class=\"s" + std::to_string(s % 4) + "\" x=\"" + std::to_string(x) +
           "\" y=\"8\" width=\"10\" height=\"10\"/>";
    out +=
        "<text class=\"legend\" x=\"" + std::to_string(x + 14) + "\" y=\"17\">" + label + "</text>";
  }
  return out;
}

} // namespace

std::string bar_chart(std::string_view title, const std::vector<std::string>& labels,
                      const std::vector<Series>& series, ChartOptions o) {
  const double y_max = axis_max(series, o.unit);
  std::string out = frame(title, o, y_max, series);
  const int plot_w = o.width - margin_left - margin_right;
  const int plot_h = o.height - margin_top - margin_bottom;
  const std::size_t n = std::max<std::size_t>(labels.size(), 1);
  const double group_w = static_cast<double>(plot_w) / static_cast<double>(n);
  const auto bars = static_cast<double>(std::max<std::size_t>(series.size(), 1));
  // At most 48 px a bar: a chart of one or two periods should not be a wall of colour.
  const double bar_w = std::clamp(group_w * 0.8 / bars, 1.0, 48.0);
  // Label only as many groups as fit side by side (about 7 px per character).
  std::size_t longest = 1;
  for (const auto& label : labels) {
    longest = std::max(longest, label.size());
  }
  const std::size_t fit =
      std::max<std::size_t>(1, static_cast<std::size_t>(plot_w) / (longest * 7 + 12));
  const std::size_t label_every = std::max<std::size_t>(1, (labels.size() + fit - 1) / fit);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double centre = margin_left + group_w * (static_cast<double>(i) + 0.5);
    const double gx = centre - bar_w * bars / 2;
    for (std::size_t s = 0; s < series.size(); ++s) {
      const double v = i < series[s].values.size() ? series[s].values[i] : 0;
      const double h = plot_h * (v / y_max);
      out += "<rect class=\"s" + std::to_string(s % 4) + "\" x=\"" +
             num(gx + bar_w * static_cast<double>(s)) + "\" y=\"" + num(margin_top + plot_h - h) +
             "\" width=\"" + num(bar_w) + "\" height=\"" + num(h) + "\"><title>" +
             escape(labels[i]) + " · " + escape(series[s].name) + ": " +
             escape(axis_value(v, o.unit)) + "</title></rect>";
    }
    if (i % label_every == 0) {
      out += "<text class=\"axis\" text-anchor=\"middle\" x=\"" + num(centre) + "\" y=\"" +
             std::to_string(o.height - margin_bottom + 16) + "\">" + escape(labels[i]) + "</text>";
    }
  }
  if (labels.empty()) {
    out += no_data(o);
  }
  out += "</svg></figure>";
  return out;
}

std::string line_chart(std::string_view title, const std::vector<double>& xs,
                       const std::vector<Series>& series, ChartOptions o) {
  const double y_max = axis_max(series, o.unit);
  std::string out = frame(title, o, y_max, series);
  const int plot_w = o.width - margin_left - margin_right;
  const int plot_h = o.height - margin_top - margin_bottom;
  if (xs.empty()) {
    out += no_data(o) + "</svg></figure>";
    return out;
  }
  const auto [lo_it, hi_it] = std::minmax_element(xs.begin(), xs.end());
  const double x_lo = *lo_it;
  const double x_span = std::max(1e-9, *hi_it - x_lo);
  auto px = [&](double x) {
    return xs.size() == 1 ? margin_left + plot_w / 2.0 : margin_left + plot_w * (x - x_lo) / x_span;
  };
  auto py = [&](double v) { return margin_top + plot_h - plot_h * (v / y_max); };
  auto x_text = [&](double x) {
    return o.x_axis == XAxis::elapsed ? format_duration(static_cast<std::int64_t>(std::llround(x)))
                                      : format_time(x);
  };
  for (std::size_t s = 0; s < series.size(); ++s) {
    std::string points;
    for (std::size_t i = 0; i < xs.size() && i < series[s].values.size(); ++i) {
      points += num(px(xs[i])) + "," + num(py(series[s].values[i])) + " ";
    }
    const auto cls = std::to_string(s % 4);
    out += "<polyline class=\"l" + cls + "\" fill=\"none\" points=\"" + points + "\"/>";
    for (std::size_t i = 0; i < xs.size() && i < series[s].values.size(); ++i) {
      out += "<circle class=\"s" + cls + "\" r=\"3\" cx=\"" + num(px(xs[i])) + "\" cy=\"" +
             num(py(series[s].values[i])) + "\"><title>" + escape(x_text(xs[i])) + " · " +
             escape(series[s].name) + ": " + escape(axis_value(series[s].values[i], o.unit)) +
             "</title></circle>";
    }
  }
  // x labels (times or durations) at the ends and the middle.
  const int label_y = o.height - margin_bottom + 16;
  const double ends[] = {x_lo, x_lo + x_span / 2, x_lo + x_span};
  const char* anchors[] = {"start", "middle", "end"};
  for (int i = 0; i < (xs.size() == 1 ? 1 : 3); ++i) {
    const double x = xs.size() == 1 ? x_lo : ends[i];
    out += "<text class=\"axis\" text-anchor=\"" +
           std::string(xs.size() == 1 ? "middle" : anchors[i]) + "\" x=\"" + num(px(x)) +
           "\" y=\"" + std::to_string(label_y) + "\">" + escape(x_text(x)) + "</text>";
  }
  out += "</svg></figure>";
  return out;
}

} // namespace acctlab::web
