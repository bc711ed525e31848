#pragma once
// Whether a NAS looks like the kind of NAS its profile describes. A profile that requires a
// vendor's attributes (cisco-ios-ipsec requires Cisco's, vendor 9, in every Start and Stop)
// judges a NAS that never sends one with an error per missing row: true to the profile, and no
// help to a user who pointed another kind of NAS (an 802.1X switch, a PPP server) at a default
// profile. ProfileFit counts, per NAS, the Accounting-Requests and those carrying an attribute of
// the profile's vendors, and words a note for the report when none does. The note is no finding
// and changes no verdict: the findings stand, the note says why there are so many and what to do.

#include "conformance/profile.hpp"
#include "radius/dictionary.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace acctlab::conformance {

class Analysis;

class ProfileFit {
public:
  ProfileFit(const Profile& profile, const radius::Dictionary& dict);

  /** Counts the analysis's Accounting-Requests, each under its NAS's address. */
  void add(const Analysis& analysis);

  /** The note for the NAS at this address ("" when it sent an attribute of the profile's
   * vendors, sent no Accounting-Request, or the profile requires no vendor's attribute). */
  std::string note_for(std::string_view client) const;
  /** Every NAS with a note, by address. */
  std::map<std::string, std::string, std::less<>> notes() const;

private:
  struct Counts {
    std::size_t requests = 0;
    std::size_t with_vendor = 0;
  };
  const Profile* profile_;
  const radius::Dictionary* dict_;
  std::set<std::uint32_t> vendors_;                  // vendors whose attributes some row requires
  std::size_t vendor_rows_ = 0;                      // rows that require one
  std::string example_row_;                          // the first such row's id
  std::map<std::string, Counts, std::less<>> nases_; // by the NAS's address
};

} // namespace acctlab::conformance
