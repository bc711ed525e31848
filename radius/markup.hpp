#pragma once
// Text made safe for markup. The web pages (HTML) and the conformance JUnit report (XML 1.0) both
// put packet and database text into element content and quoted attribute values, so they share
// this one function; it sits here, at the bottom of the module map, so that neither has to depend
// on the other (conformance must not pull in the web viewer).

#include <string>
#include <string_view>

namespace acctlab::radius {

/** Escapes &, <, > and " as their entities and ' as &#39; (XML and every HTML know the numeric
 * reference; &apos; is not HTML 4), and replaces each C0 control character but tab, LF and CR
 * with U+FFFD: XML 1.0 §2.2 allows them nowhere, not even as references, and HTML treats them
 * (NUL above all) as parse errors. Other bytes, UTF-8 included, pass unchanged. */
std::string escape_markup(std::string_view text);

} // namespace acctlab::radius
