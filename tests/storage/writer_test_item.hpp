#pragma once
// One accounting request as the server hands it to a writer (storage::WriteItem), for the writer
// tests: a 20-octet Accounting-Request from 127.0.0.1:40000 of NAS 192.0.2.1, its record with
// the status, session, user joe@cclient and (optionally) input octets, at time.

#include "radius/accounting_record.hpp"
#include "storage/record_writer.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace acctlab::test {

inline storage::WriteItem item(radius::AcctStatusType status, std::string session_id,
                               std::uint64_t tag, double time,
                               std::optional<std::uint64_t> input_octets = std::nullopt) {
  storage::WriteItem w;
  w.packet.raw = {4, static_cast<std::uint8_t>(tag & 0xff), 0, 20};
  w.packet.src_addr = "127.0.0.1";
  w.packet.src_port = 40000;
  w.packet.code = 4;
  w.packet.identifier = static_cast<std::uint8_t>(tag & 0xff);
  w.packet.receive_time = time;
  w.nas = "192.0.2.1";
  w.tag = tag;
  storage::RecordInput input;
  input.record.status_type = static_cast<std::uint32_t>(status);
  input.record.session_id = std::move(session_id);
  input.record.user_name = "joe@cclient";
  input.record.input_octets = input_octets;
  input.nas_key = "192.0.2.1";
  input.event_time = time;
  w.record = std::move(input);
  return w;
}

} // namespace acctlab::test
