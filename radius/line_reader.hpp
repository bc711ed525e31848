#pragma once
// The line loop of the text formats (dictionaries aside): scenarios and IOS configurations
// (client/), profiles and traces (conformance/). Each reports errors by line number, so the
// reader counts the lines it hands out.

#include <optional>
#include <string_view>

namespace acctlab::radius {

class LineReader {
public:
  explicit LineReader(std::string_view text) noexcept : text_(text) {}

  /** The next line without its '\n' (a '\r' stays: each format trims what it allows), or nullopt
   * after the last. Text that ends with '\n' ends with one empty line. */
  std::optional<std::string_view> next() noexcept {
    if (pos_ > text_.size()) {
      return std::nullopt;
    }
    const auto eol = text_.find('\n', pos_);
    const auto line = text_.substr(pos_, eol == std::string_view::npos ? eol : eol - pos_);
    pos_ = eol == std::string_view::npos ? text_.size() + 1 : eol + 1;
    ++number_;
    return line;
  }

  /** The number of the line next() returned last, from 1; 0 before the first. */
  int number() const noexcept { return number_; }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int number_ = 0;
};

} // namespace acctlab::radius
