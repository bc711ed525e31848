#pragma once
// Charts as inline SVG drawn by our own code: no script, no outside resource. Colours come from
// the stylesheet through the classes s0..s3 (fill) and l0..l3 (stroke), so the SVG carries no
// style attributes and the Content-Security-Policy can forbid inline styles.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::web {

enum class Unit { count, bytes };

struct Series {
  std::string name;
  std::vector<double> values; // one per label (bar chart) or per x (line chart)
};

/** What a line chart's x values are: unix seconds (UTC times) or seconds elapsed ("5m 30s"). */
enum class XAxis { time, elapsed };

struct ChartOptions {
  int width = 900;
  int height = 240;
  Unit unit = Unit::count;
  XAxis x_axis = XAxis::time;
};

/** Grouped bars, one group per label. Labels and series names are escaped. */
std::string bar_chart(std::string_view title, const std::vector<std::string>& labels,
                      const std::vector<Series>& series, ChartOptions options = {});

/** Lines over a numeric x axis: unix seconds labelled as UTC times, or elapsed seconds. */
std::string line_chart(std::string_view title, const std::vector<double>& xs,
                       const std::vector<Series>& series, ChartOptions options = {});

} // namespace acctlab::web
