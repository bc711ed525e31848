#pragma once
// The feature document's three `debug radius` listings as a capture: the Start of session
// 00000001, the Stop of 00000002 and the Interim-Update of 00000003, each with the
// Accounting-Response the listing shows, signed with the document's secret ("radius-server key
// nsite", its configuration example). Every Request and Response Authenticator the generator
// writes is checked against the one the listing prints, so the capture is the document's wire.
// tests/captures/README.md says how the printed listings and the wire differ.

#include <string>

namespace acctlab::conformance::document {

/** The secret the document's configuration gives (Step 23 and its example: key nsite). */
inline constexpr const char* secret = "nsite";

/** The listings, in the document's order; a capture may hold one of them alone. */
enum class Part { all, start, stop, interim };

/** Writes the capture (classic pcap, Ethernet, microseconds) of every listing, or of one: the
 * document's listings are three moments of one router's debug output, hours apart, each a
 * capture of its own. False with error set when a record does not reproduce its printed
 * authenticator or the file cannot be written. */
bool write_document_capture(const std::string& path, std::string& error, Part only = Part::all);

} // namespace acctlab::conformance::document
