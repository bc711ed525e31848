#include "radius/line_reader.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using acctlab::radius::LineReader;

namespace {
/** Every line with its number, as "N:text". */
std::vector<std::string> read_all(std::string_view text) {
  LineReader lines(text);
  std::vector<std::string> out;
  while (const auto line = lines.next()) {
    out.push_back(std::to_string(lines.number()) + ":" + std::string(*line));
  }
  return out;
}
} // namespace

TEST_CASE("LineReader hands out lines with their numbers", "[radius][lines]") {
  CHECK(read_all("a\nb c\n\nd") == std::vector<std::string>{"1:a", "2:b c", "3:", "4:d"});
  // A final newline ends the text with an empty line; CR stays for the format to trim.
  CHECK(read_all("a\r\nb\n") == std::vector<std::string>{"1:a\r", "2:b", "3:"});
  CHECK(read_all("") == std::vector<std::string>{"1:"});
  LineReader lines("x");
  CHECK(lines.number() == 0);
  CHECK(lines.next() == "x");
  CHECK_FALSE(lines.next());
  CHECK_FALSE(lines.next());
  CHECK(lines.number() == 1);
}
