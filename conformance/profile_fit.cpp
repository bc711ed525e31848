#include "conformance/profile_fit.hpp"

#include "conformance/analysis.hpp"
#include "conformance/trace.hpp"

#include <algorithm>

namespace acctlab::conformance {
namespace {

std::string vendor_text(const radius::Dictionary& dict, std::uint32_t id) {
  const auto* vendor = dict.vendor(id);
  return (vendor ? vendor->name + " " : std::string()) + "(vendor " + std::to_string(id) + ")";
}

std::string builtin_profiles() {
  std::string out;
  for (const auto& name : available_profiles()) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

} // namespace

ProfileFit::ProfileFit(const Profile& profile, const radius::Dictionary& dict)
    : profile_(&profile), dict_(&dict) {
  // A profile's `avpair` rows are Cisco-AVPair's, as checks_packet.cpp looks it up.
  const auto* avpair = dict.find("Cisco-AVPair");
  for (const auto& row : profile.rows) {
    const std::uint32_t vendor = row.avpair ? (avpair ? avpair->vendor : 0) : row.key.vendor;
    if (vendor == 0 || row.count.min == 0) {
      continue;
    }
    vendors_.insert(vendor);
    if (vendor_rows_++ == 0) {
      example_row_ = row.id;
    }
  }
}

void ProfileFit::add(const Analysis& analysis) {
  if (vendors_.empty()) {
    return;
  }
  for (const auto& view : analysis.packets()) {
    if (!view.request || !view.packet) {
      continue;
    }
    auto& counts = nases_[host_part(view.client)];
    ++counts.requests;
    const auto& attributes = view.packet->attributes();
    if (std::any_of(attributes.begin(), attributes.end(),
                    [&](const radius::Attribute& a) { return vendors_.contains(a.vendor); })) {
      ++counts.with_vendor;
    }
  }
}

std::string ProfileFit::note_for(std::string_view client) const {
  const auto it = nases_.find(client);
  if (it == nases_.end() || it->second.requests == 0 || it->second.with_vendor > 0) {
    return {};
  }
  std::string vendors;
  for (const auto id : vendors_) {
    vendors += (vendors.empty() ? "" : " or ") + vendor_text(*dict_, id);
  }
  const auto requests = it->second.requests;
  return "none of its " + std::to_string(requests) + " Accounting-Request" +
         (requests == 1 ? "" : "s") + " carries a " + vendors + " attribute, which profile " +
         profile_->name + " requires in " + std::to_string(vendor_rows_) + " row" +
         (vendor_rows_ == 1 ? "" : "s") + " (" + example_row_ +
         ", ...): it may be another kind of NAS than the profile describes. Name its profile "
         "with --profile NAME or `profile = NAME` in its clients-file entry (built in: " +
         builtin_profiles() + "; rfc2866 judges RFC 2866 alone)";
}

std::map<std::string, std::string, std::less<>> ProfileFit::notes() const {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [client, counts] : nases_) {
    if (auto note = note_for(client); !note.empty()) {
      out.emplace(client, std::move(note));
    }
  }
  return out;
}

} // namespace acctlab::conformance
