#pragma once
// Reads dictionaries in the FreeRADIUS 3 format: ATTRIBUTE (flags has_tag, encrypt=N, array,
// concat, or an old-style vendor name), VALUE, VENDOR (format=t,l[,c]), BEGIN-VENDOR/END-VENDOR,
// BEGIN-TLV/END-TLV, $INCLUDE and $INCLUDE- (optional), comments.

#include "radius/dictionary.hpp"
#include "radius/result.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace acctlab::radius {

struct DictionaryError {
  std::string file;
  int line = 0;
  std::string message;

  /** "file:line: message" */
  std::string to_string() const;
};

/** Returns a file's contents, or nullopt when it cannot be read. */
using DictionaryReader = std::function<std::optional<std::string>(const std::string& path)>;

/** Loads a root dictionary file and everything it includes, from the file system. */
Expected<Dictionary, DictionaryError> load_dictionary(const std::string& root_path);

/** Loads through a custom reader (the embedded dictionaries use this). */
Expected<Dictionary, DictionaryError> load_dictionary(const std::string& root_path,
                                                      const DictionaryReader& reader);

} // namespace acctlab::radius
