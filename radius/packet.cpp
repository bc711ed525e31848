#include "radius/packet.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string>

namespace acctlab::radius {
namespace {

struct CodeName {
  Code code;
  std::string_view name;
};

constexpr std::array code_names{
    CodeName{Code::access_request, "Access-Request"},
    CodeName{Code::access_accept, "Access-Accept"},
    CodeName{Code::access_reject, "Access-Reject"},
    CodeName{Code::accounting_request, "Accounting-Request"},
    CodeName{Code::accounting_response, "Accounting-Response"},
    CodeName{Code::access_challenge, "Access-Challenge"},
    CodeName{Code::status_server, "Status-Server"},
    CodeName{Code::status_client, "Status-Client"},
    CodeName{Code::disconnect_request, "Disconnect-Request"},
    CodeName{Code::disconnect_ack, "Disconnect-ACK"},
    CodeName{Code::disconnect_nak, "Disconnect-NAK"},
    CodeName{Code::coa_request, "CoA-Request"},
    CodeName{Code::coa_ack, "CoA-ACK"},
    CodeName{Code::coa_nak, "CoA-NAK"},
};

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

} // namespace

std::string code_name(Code code) {
  for (const auto& entry : code_names) {
    if (entry.code == code) {
      return std::string(entry.name);
    }
  }
  return "Code-" + std::to_string(static_cast<unsigned>(code));
}

bool parse_code(std::string_view text, Code& code) {
  for (const auto& entry : code_names) {
    if (entry.name == text) {
      code = entry.code;
      return true;
    }
  }
  if (text.starts_with("Code-")) {
    unsigned number = 0;
    auto digits = text.substr(5);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (ec == std::errc{} && end == digits.data() + digits.size() && number <= 255) {
      code = static_cast<Code>(number);
      return true;
    }
  }
  return false;
}

void Packet::add_raw(const Attribute& shape, std::span<const std::uint8_t> value) {
  Attribute attribute = shape;
  attribute.offset = static_cast<std::uint32_t>(values_.size());
  attribute.length = static_cast<std::uint32_t>(value.size());
  values_.insert(values_.end(), value.begin(), value.end());
  attributes_.push_back(attribute);
}

void Packet::add(std::uint8_t type, std::span<const std::uint8_t> value) {
  add_raw(Attribute{.type = type}, value);
}

void Packet::add(std::uint8_t type, std::string_view text) {
  add(type, as_bytes(text));
}

void Packet::add_integer(std::uint8_t type, std::uint32_t value) {
  const std::array<std::uint8_t, 4> octets{
      static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
      static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
  add(type, octets);
}

std::uint16_t Packet::next_group() {
  std::uint16_t highest = 0;
  for (const auto& attribute : attributes_) {
    highest = std::max(highest, attribute.vsa_group);
  }
  return static_cast<std::uint16_t>(highest + 1);
}

void Packet::add_vendor(std::uint32_t vendor, std::uint32_t vendor_type,
                        std::span<const std::uint8_t> value, bool join_previous_vsa) {
  std::uint16_t group = 0;
  if (join_previous_vsa && !attributes_.empty() && attributes_.back().vendor == vendor) {
    group = attributes_.back().vsa_group;
  } else {
    group = next_group();
  }
  add_raw(Attribute{.type = vendor_specific_type,
                    .vendor = vendor,
                    .vendor_type = vendor_type,
                    .vsa_group = group},
          value);
}

void Packet::add_vendor(std::uint32_t vendor, std::uint32_t vendor_type, std::string_view text,
                        bool join_previous_vsa) {
  add_vendor(vendor, vendor_type, as_bytes(text), join_previous_vsa);
}

void Packet::set_value(std::size_t index, std::span<const std::uint8_t> value) {
  auto& attribute = attributes_.at(index);
  if (value.size() <= attribute.length) {
    std::copy(value.begin(), value.end(), values_.begin() + attribute.offset);
  } else {
    attribute.offset = static_cast<std::uint32_t>(values_.size());
    values_.insert(values_.end(), value.begin(), value.end());
  }
  attribute.length = static_cast<std::uint32_t>(value.size());
}

void Packet::erase(std::size_t index) {
  attributes_.erase(attributes_.begin() + static_cast<std::ptrdiff_t>(index));
}

const Attribute* Packet::find(AttrKey key) const {
  for (const auto& attribute : attributes_) {
    if (attribute.key() == key) {
      return &attribute;
    }
  }
  return nullptr;
}

std::size_t Packet::count(AttrKey key) const {
  return static_cast<std::size_t>(std::count_if(
      attributes_.begin(), attributes_.end(), [&](const Attribute& a) { return a.key() == key; }));
}

bool Packet::operator==(const Packet& other) const {
  if (code_ != other.code_ || identifier_ != other.identifier_ ||
      authenticator_ != other.authenticator_ || attributes_.size() != other.attributes_.size()) {
    return false;
  }
  for (std::size_t i = 0; i < attributes_.size(); ++i) {
    const auto& a = attributes_[i];
    const auto& b = other.attributes_[i];
    if (a.type != b.type || a.vendor != b.vendor || a.vendor_type != b.vendor_type) {
      return false;
    }
    // Grouping matters only as "same VSA as the previous attribute or not".
    const bool a_joined = i > 0 && a.vendor && attributes_[i - 1].vsa_group == a.vsa_group &&
                          attributes_[i - 1].vendor == a.vendor;
    const bool b_joined = i > 0 && b.vendor && other.attributes_[i - 1].vsa_group == b.vsa_group &&
                          other.attributes_[i - 1].vendor == b.vendor;
    if (a_joined != b_joined) {
      return false;
    }
    auto va = value(a);
    auto vb = other.value(b);
    if (!std::equal(va.begin(), va.end(), vb.begin(), vb.end())) {
      return false;
    }
  }
  return true;
}

} // namespace acctlab::radius
