// SVG charts: drawn by our code, labels escaped, bars proportional to their values.

#include "web/svg_chart.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::web;

TEST_CASE("bar chart draws one bar per value with escaped labels", "[web][chart]") {
  const auto svg = bar_chart("Records <per> hour", {"a&b", "<c>"},
                             {Series{"Start", {10, 5}}, Series{"St\"op", {0, 20}}});
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("Records &lt;per&gt; hour") != std::string::npos);
  CHECK(svg.find("a&amp;b") != std::string::npos);
  CHECK(svg.find("&lt;c&gt;") != std::string::npos);
  CHECK(svg.find("St&quot;op") != std::string::npos);
  CHECK(svg.find("<c>") == std::string::npos);
  CHECK(svg.find("style=") == std::string::npos); // the CSP forbids inline styles
  std::size_t bars = 0;
  for (auto pos = svg.find("<rect class=\"s"); pos != std::string::npos;
       pos = svg.find("<rect class=\"s", pos + 1)) {
    ++bars;
  }
  CHECK(bars == 4 + 2); // four bars and two legend swatches
  // The largest value (20) fills the plot: y axis tops out at 20.
  CHECK(svg.find(">20<") != std::string::npos);
}

TEST_CASE("line chart places points over time and handles no data", "[web][chart]") {
  const auto svg = line_chart("Octets", {100, 200, 400}, {Series{"in", {0, 608, 152608}}},
                              {440, 220, Unit::bytes});
  CHECK(svg.find("<polyline") != std::string::npos);
  CHECK(svg.find("1970-01-01 00:01:40") != std::string::npos);
  CHECK(svg.find("KiB") != std::string::npos);
  std::size_t points = 0;
  for (auto pos = svg.find("<circle"); pos != std::string::npos;
       pos = svg.find("<circle", pos + 1)) {
    ++points;
  }
  CHECK(points == 3);
  const auto empty = line_chart("Nothing", {}, {Series{"in", {}}});
  CHECK(empty.find("no data") != std::string::npos);
  const auto single = bar_chart("Nothing", {}, {});
  CHECK(single.find("no data") != std::string::npos);
}
