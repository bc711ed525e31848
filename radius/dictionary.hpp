#pragma once
// The dictionary model: attribute and vendor definitions in FreeRADIUS 3 terms, looked up by name
// or by (vendor, number). Loading lives in dictionary_parser.hpp.

#include "radius/packet.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace acctlab::radius {

/** RFC 8044 data types, plus the FreeRADIUS types its dictionaries use. */
enum class DataType : std::uint8_t {
  text, // FreeRADIUS "string"
  octets,
  integer, // 32-bit unsigned
  integer64,
  date,     // RFC 8044 "time"
  ipv4addr, // FreeRADIUS "ipaddr"
  ipv6addr,
  ipv4prefix,
  ipv6prefix,
  ifid,
  uint8,  // FreeRADIUS "byte"
  uint16, // FreeRADIUS "short"
  int32,  // FreeRADIUS "signed"
  ether,
  tlv,
  abinary,
  combo_ip,
  vsa,
  extended,
  long_extended,
  evs,
};

/** The FreeRADIUS spelling: "string", "ipaddr", "byte", ... */
std::string_view type_name(DataType type) noexcept;
std::optional<DataType> parse_type_name(std::string_view name) noexcept;

struct AttributeDef {
  std::string name;
  std::uint32_t vendor = 0;
  std::uint32_t number = 0; // the type in its vendor's space (the first number of an OID)
  std::string oid;          // "241.1", "1.2": non-empty for TLV children and extended types
  DataType type = DataType::octets;
  bool has_tag = false;
  bool array = false;
  bool concat = false;
  std::uint8_t encrypt = 0;
  std::map<std::uint64_t, std::string> values;                     // VALUE number -> name
  std::map<std::string, std::uint64_t, std::less<>> value_numbers; // VALUE name -> number
  std::string file;
  int line = 0;

  AttrKey key() const { return {vendor, number}; }
  /** The VALUE name for number, or nullptr. */
  const std::string* value_name(std::uint64_t value) const;
};

struct VendorDef {
  std::string name;
  std::uint32_t id = 0;
  std::uint8_t type_size = 1;   // octets of the sub-attribute type field: 1, 2 or 4
  std::uint8_t length_size = 1; // octets of the sub-attribute length field: 0, 1 or 2
  bool continuation = false;    // format=1,1,c (WiMAX)
};

class Dictionary {
public:
  Dictionary();
  Dictionary(Dictionary&&) noexcept;
  Dictionary& operator=(Dictionary&&) noexcept;
  ~Dictionary();

  /** Case-insensitive name lookup, as FreeRADIUS does. */
  const AttributeDef* find(std::string_view name) const;
  const AttributeDef* find(AttrKey key) const;
  const VendorDef* vendor(std::uint32_t id) const;
  const VendorDef* vendor(std::string_view name) const;

  std::size_t attribute_count() const;
  std::size_t vendor_count() const;
  std::size_t value_count() const;

  /** Adds or replaces a definition; later definitions of the same name or key win. */
  AttributeDef& define(AttributeDef def);
  VendorDef& define_vendor(VendorDef def);

  /** Every definition, in the order defined. */
  std::vector<const AttributeDef*> all() const;

  /** The dictionary shipped with acctlab (dictionaries/), compiled into the binary. */
  static const Dictionary& builtin();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace acctlab::radius
