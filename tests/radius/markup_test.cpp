#include "radius/markup.hpp"

#include <catch2/catch.hpp>
#include <string>

using acctlab::radius::escape_markup;

TEST_CASE("escape_markup writes the five specials as references", "[radius][markup]") {
  CHECK(escape_markup("<a href=\"x\">'&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(escape_markup("&amp;") == "&amp;amp;"); // escaped again, never trusted as a reference
  CHECK(escape_markup("plain text") == "plain text");
  CHECK(escape_markup("") == "");
}

TEST_CASE("escape_markup keeps tab, LF, CR and UTF-8 and replaces other C0 controls",
          "[radius][markup]") {
  CHECK(escape_markup("a\tb\nc\rd") == "a\tb\nc\rd");
  CHECK(escape_markup("caf\xC3\xA9") == "caf\xC3\xA9");
  // XML 1.0 §2.2: NUL, 0x01-0x08, 0x0B, 0x0C, 0x0E-0x1F are not characters of a document.
  for (int c : {0x00, 0x01, 0x08, 0x0B, 0x0C, 0x0E, 0x1B, 0x1F}) {
    CAPTURE(c);
    CHECK(escape_markup(std::string{'a', static_cast<char>(c), 'b'}) == "a\xEF\xBF\xBD"
                                                                        "b");
  }
  CHECK(escape_markup("\x7F") == "\x7F"); // DEL is an XML character
}
