#include "conformance/profile.hpp"

#include "radius/line_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace acctlab::conformance {
namespace {

namespace fs = std::filesystem;

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Splits off the first whitespace-separated word; rest keeps the remainder, trimmed.
std::string_view next_word(std::string_view& rest) {
  rest = trim(rest);
  std::size_t end = 0;
  while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end]))) {
    ++end;
  }
  const auto word = rest.substr(0, end);
  rest = trim(rest.substr(end));
  return word;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool parse_u32(std::string_view text, std::uint32_t& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end && !text.empty();
}

std::optional<CountRange> parse_count(std::string_view text) {
  CountRange range;
  if (text.size() >= 2 && text.back() == '+') {
    if (!parse_u32(text.substr(0, text.size() - 1), range.min)) {
      return std::nullopt;
    }
    return range;
  }
  if (const auto dash = text.find('-'); dash != std::string_view::npos) {
    if (!parse_u32(text.substr(0, dash), range.min) ||
        !parse_u32(text.substr(dash + 1), range.max) || range.min > range.max) {
      return std::nullopt;
    }
    return range;
  }
  if (!parse_u32(text, range.min)) {
    return std::nullopt;
  }
  range.max = range.min;
  return range;
}

// "60s", "1m", "500ms", "1h" or bare seconds.
std::optional<double> parse_seconds(std::string_view text) {
  double scale = 1;
  if (text.ends_with("ms")) {
    scale = 0.001;
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
  } else if (text.ends_with("m")) {
    scale = 60;
    text.remove_suffix(1);
  } else if (text.ends_with("h")) {
    scale = 3600;
    text.remove_suffix(1);
  }
  std::uint32_t value = 0;
  if (!parse_u32(text, value)) {
    return std::nullopt;
  }
  return value * scale;
}

// A bit rate: "100G", "10Gbit", "400M", "1000000" (bit/s); k, M, G, T scale by 10^3.
std::optional<double> parse_rate(std::string_view text) {
  if (text.ends_with("bit")) {
    text.remove_suffix(3);
  }
  double scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        scale = 1e3;
        break;
      case 'M':
        scale = 1e6;
        break;
      case 'G':
        scale = 1e9;
        break;
      case 'T':
        scale = 1e12;
        break;
      default:
        break;
    }
    if (scale != 1) {
      text.remove_suffix(1);
    }
  }
  std::uint32_t value = 0;
  if (!parse_u32(text, value)) {
    return std::nullopt;
  }
  return value * scale;
}

std::optional<double> parse_fraction(std::string_view text) {
  if (text.ends_with("%")) {
    std::uint32_t percent = 0;
    if (!parse_u32(text.substr(0, text.size() - 1), percent) || percent > 1000) {
      return std::nullopt;
    }
    return percent / 100.0;
  }
  return std::nullopt;
}

std::optional<bool> parse_yes_no(std::string_view text) {
  if (text == "yes" || text == "true") {
    return true;
  }
  if (text == "no" || text == "false") {
    return false;
  }
  return std::nullopt;
}

std::string status_id(const std::optional<std::uint32_t>& status) {
  if (!status) {
    return "ANY";
  }
  switch (*status) {
    case 1:
      return "START";
    case 2:
      return "STOP";
    case 3:
      return "INTERIM";
    case 7:
      return "ACCT-ON";
    case 8:
      return "ACCT-OFF";
    default:
      return "STATUS" + std::to_string(*status);
  }
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string executable_dir() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

} // namespace

std::string CountRange::text() const {
  if (max == std::numeric_limits<std::uint32_t>::max()) {
    return std::to_string(min) + "+";
  }
  if (min == max) {
    return std::to_string(min);
  }
  return std::to_string(min) + "-" + std::to_string(max);
}

std::string ProfileError::to_string() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

std::optional<std::uint32_t> parse_status_name(std::string_view text) {
  if (iequals(text, "Start")) {
    return 1;
  }
  if (iequals(text, "Stop")) {
    return 2;
  }
  // IOS prints Interim-Update as "Watchdog" (the seed's Accounting Updates example).
  if (iequals(text, "Interim-Update") || iequals(text, "Interim") || iequals(text, "Watchdog")) {
    return 3;
  }
  if (iequals(text, "Accounting-On")) {
    return 7;
  }
  if (iequals(text, "Accounting-Off")) {
    return 8;
  }
  std::uint32_t value = 0;
  if (parse_u32(text, value)) {
    return value;
  }
  return std::nullopt;
}

Expected<Profile, ProfileError> parse_profile(std::string_view text, const std::string& file,
                                              const radius::Dictionary& dict) {
  Profile profile;
  profile.path = file;
  profile.name = fs::path(file).filename().string();
  profile.id_prefix = "PROFILE";
  std::set<std::pair<std::string, std::string>> seen; // (status id, name) already defined
  radius::LineReader lines(text);
  while (const auto next = lines.next()) {
    const std::string_view line = *next;
    const int line_number = lines.number();
    if (line.starts_with('#') || trim(line).starts_with('#')) {
      continue;
    }
    std::string_view rest = line;
    const auto head = next_word(rest);
    if (head.empty()) {
      continue;
    }
    auto fail = [&](std::string message) {
      return Unexpected(ProfileError{file, line_number, std::move(message)});
    };
    auto single_value = [&]() -> std::optional<std::string_view> {
      std::string_view value = next_word(rest);
      if (value.empty() || !rest.empty()) {
        return std::nullopt;
      }
      return value;
    };
    if (head == "name") {
      const auto value = single_value();
      if (!value) {
        return fail("name takes one word");
      }
      profile.name = std::string(*value);
    } else if (head == "id-prefix") {
      const auto value = single_value();
      if (!value) {
        return fail("id-prefix takes one word");
      }
      profile.id_prefix = upper(*value);
    } else if (head == "describe") {
      profile.description = std::string(rest);
    } else if (head == "stop-only-allowed") {
      const auto value = single_value();
      const auto flag = value ? parse_yes_no(*value) : std::nullopt;
      if (!flag) {
        return fail("stop-only-allowed takes yes or no");
      }
      profile.options.stop_only_allowed = *flag;
    } else if (head == "interim-tolerance") {
      const auto value = single_value();
      const auto fraction = value ? parse_fraction(*value) : std::nullopt;
      if (!fraction) {
        return fail("interim-tolerance takes a percentage, e.g. 10%");
      }
      profile.options.interim_tolerance = *fraction;
    } else if (head == "max-link-rate") {
      const auto value = single_value();
      const auto rate = value ? parse_rate(*value) : std::nullopt;
      if (!rate || *rate <= 0) {
        return fail("max-link-rate takes a positive bit rate, e.g. 100G, 10G, 400M (bit/s)");
      }
      profile.options.max_link_rate = *rate;
    } else if (head == "interim-interval" || head == "session-time-tolerance" ||
               head == "max-latency" || head == "retransmit-wait" || head == "clock-tolerance") {
      const auto value = single_value();
      const auto seconds = value ? parse_seconds(*value) : std::nullopt;
      if (!seconds) {
        return fail(std::string(head) + " takes a duration, e.g. 60s, 2s, 500ms");
      }
      if (head == "interim-interval") {
        if (*seconds <= 0) {
          return fail("interim-interval must be positive");
        }
        profile.options.interim_interval = *seconds;
      } else if (head == "session-time-tolerance") {
        profile.options.session_time_tolerance = *seconds;
      } else if (head == "retransmit-wait") {
        profile.options.retransmit_wait = *seconds;
      } else if (head == "clock-tolerance") {
        profile.options.clock_tolerance = *seconds;
      } else {
        profile.options.max_latency = *seconds;
      }
    } else {
      // A presence row: STATUS[,STATUS] NAME COUNT [SEVERITY] SOURCE...
      std::vector<std::optional<std::uint32_t>> statuses;
      std::string_view status_list = head;
      while (!status_list.empty()) {
        const auto comma = status_list.find(',');
        const auto one = status_list.substr(0, comma);
        status_list =
            comma == std::string_view::npos ? std::string_view() : status_list.substr(comma + 1);
        if (one == "*") {
          statuses.emplace_back(std::nullopt);
        } else if (auto status = parse_status_name(one)) {
          statuses.emplace_back(*status);
        } else {
          return fail("unknown directive or Acct-Status-Type '" + std::string(one) + "'");
        }
      }
      const auto name = next_word(rest);
      const auto count_text = next_word(rest);
      if (name.empty() || count_text.empty()) {
        return fail("a row is STATUS NAME COUNT [SEVERITY] SOURCE");
      }
      PresenceRow row;
      row.line = line_number;
      row.status_text = std::string(head);
      const auto count = parse_count(count_text);
      if (!count) {
        return fail("bad count '" + std::string(count_text) + "' (use 0, 1, 0-1, 0+, 1+, N-M)");
      }
      row.count = *count;
      std::string_view source = rest;
      {
        std::string_view probe = rest;
        const auto word = next_word(probe);
        if (auto severity = parse_severity(word)) {
          row.severity = *severity;
          source = probe;
        }
      }
      if (trim(source).empty()) {
        return fail("a row must cite its source (a table row of the document or an RFC section)");
      }
      row.source = std::string(trim(source));
      std::string id_name;
      if (name.starts_with("avpair:")) {
        row.avpair = true;
        std::string_view spellings = name.substr(7);
        while (!spellings.empty()) {
          const auto bar = spellings.find('|');
          const auto spelling = spellings.substr(0, bar);
          if (spelling.empty()) {
            return fail("empty AV-pair name");
          }
          row.names.emplace_back(spelling);
          spellings =
              bar == std::string_view::npos ? std::string_view() : spellings.substr(bar + 1);
        }
        if (row.names.empty()) {
          return fail("avpair: needs a name");
        }
        id_name = "AVPAIR-" + upper(row.names.front());
      } else {
        // NAME[|ALTERNATIVE...]: an alternative attribute meets the row in the name's stead.
        std::string_view alternatives = name;
        while (!alternatives.empty()) {
          const auto bar = alternatives.find('|');
          const auto one = alternatives.substr(0, bar);
          const auto* def = dict.find(one);
          if (!def) {
            return fail("unknown attribute '" + std::string(one) + "'");
          }
          row.names.push_back(def->name);
          row.keys.push_back(def->key());
          alternatives =
              bar == std::string_view::npos ? std::string_view() : alternatives.substr(bar + 1);
        }
        if (row.names.empty()) {
          return fail("a row needs an attribute name");
        }
        row.key = row.keys.front();
        id_name = upper(row.names.front());
      }
      for (const auto& status : statuses) {
        PresenceRow one = row;
        one.status = status;
        one.id = profile.id_prefix + "-" + status_id(status) + "-" + id_name;
        if (!seen.insert({status_id(status), id_name}).second) {
          return fail("duplicate row for " + status_id(status) + " " + std::string(name));
        }
        profile.rows.push_back(std::move(one));
      }
    }
  }
  return profile;
}

std::vector<std::string> profile_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("ACCTLAB_PROFILE_DIR"); env && *env) {
    dirs.emplace_back(env);
  }
  // An installed binary finds its own data first (/usr/bin/../share/acctlab); the source tree
  // this binary was built from comes last, for a binary run from its build folder.
  if (const auto exe = executable_dir(); !exe.empty()) {
    dirs.push_back(exe + "/profiles");
    dirs.push_back(exe + "/../share/acctlab/profiles");
  }
#ifdef ACCTLAB_SOURCE_DIR
  dirs.push_back(std::string(ACCTLAB_SOURCE_DIR) + "/conformance/profiles");
#endif
  return dirs;
}

std::vector<std::string> available_profiles() {
  std::vector<std::string> names;
  for (const auto& dir : profile_search_path()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file(ec)) {
        names.push_back(entry.path().filename().string());
      }
    }
    if (!names.empty()) {
      break;
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Expected<Profile, ProfileError> load_profile(const std::string& name_or_path,
                                             const radius::Dictionary& dict) {
  std::string path;
  std::error_code ec;
  if (name_or_path.find('/') != std::string::npos || fs::is_regular_file(name_or_path, ec)) {
    path = name_or_path;
  } else {
    for (const auto& dir : profile_search_path()) {
      const auto candidate = dir + "/" + name_or_path;
      if (fs::is_regular_file(candidate, ec)) {
        path = candidate;
        break;
      }
    }
    if (path.empty()) {
      std::string searched;
      for (const auto& dir : profile_search_path()) {
        searched += (searched.empty() ? "" : ", ") + dir;
      }
      return Unexpected(
          ProfileError{name_or_path, 0, "no such profile (searched " + searched + ")"});
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Unexpected(ProfileError{path, 0, "cannot read"});
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_profile(buffer.str(), path, dict);
}

} // namespace acctlab::conformance
