#include "storage/table_description.hpp"

#include <array>

namespace acctlab::storage {
namespace {

using T = ColumnType;

constexpr std::array runs{
    ColumnDescription{"id", T::id},
    ColumnDescription{"kind", T::text, true},
    ColumnDescription{"started", T::real, true},
    ColumnDescription{"finished", T::real},
    ColumnDescription{"verdict", T::text},
    ColumnDescription{"report", T::text},
};

constexpr std::array nas{
    ColumnDescription{"id", T::id},
    ColumnDescription{"identity", T::text, true},
    ColumnDescription{"address", T::text},
    ColumnDescription{"first_seen", T::real},
    ColumnDescription{"last_seen", T::real},
    ColumnDescription{"requests", T::integer, true, "0"},
    ColumnDescription{"accepted", T::integer, true, "0"},
    ColumnDescription{"duplicates", T::integer, true, "0"},
    ColumnDescription{"bad_authenticator", T::integer, true, "0"},
    ColumnDescription{"bad_message_authenticator", T::integer, true, "0"},
    ColumnDescription{"malformed", T::integer, true, "0"},
    ColumnDescription{"unknown_client", T::integer, true, "0"},
};

constexpr std::array packets{
    ColumnDescription{"id", T::id},
    ColumnDescription{"run_id", T::integer, false, {}, "runs (id)"},
    ColumnDescription{"receive_time", T::real, true},
    ColumnDescription{"src_addr", T::text, true},
    ColumnDescription{"src_port", T::integer, true},
    ColumnDescription{"dst_addr", T::text},
    ColumnDescription{"dst_port", T::integer},
    ColumnDescription{"code", T::integer},
    ColumnDescription{"identifier", T::integer},
    ColumnDescription{"verdict", T::text, true},
    ColumnDescription{"reason", T::text},
    ColumnDescription{"file", T::text},
    ColumnDescription{"frame", T::integer},
    ColumnDescription{"raw", T::blob, true},
    ColumnDescription{"session_row", T::integer, false, {}, "sessions (id)"},
    ColumnDescription{"status_type", T::integer},
    ColumnDescription{"acct_session_id", T::text},
    ColumnDescription{"nas_identity", T::text},
    ColumnDescription{"user_name", T::text},
    ColumnDescription{"event_time", T::real},
    ColumnDescription{"delay", T::integer},
    ColumnDescription{"session_time", T::integer},
    ColumnDescription{"input_octets", T::integer},
    ColumnDescription{"output_octets", T::integer},
    ColumnDescription{"input_packets", T::integer},
    ColumnDescription{"output_packets", T::integer},
    ColumnDescription{"terminate_cause", T::integer},
    ColumnDescription{"framed_ip", T::text},
};

constexpr std::array sessions{
    ColumnDescription{"id", T::id},
    ColumnDescription{"nas_key", T::text, true},
    ColumnDescription{"acct_session_id", T::text, true},
    ColumnDescription{"unique_id", T::text, true},
    ColumnDescription{"state", T::text, true},
    ColumnDescription{"flags", T::text, true, "''"},
    ColumnDescription{"start_time", T::real},
    ColumnDescription{"update_time", T::real},
    ColumnDescription{"stop_time", T::real},
    ColumnDescription{"last_record_time", T::real, true},
    ColumnDescription{"input_octets", T::integer},
    ColumnDescription{"output_octets", T::integer},
    ColumnDescription{"input_packets", T::integer},
    ColumnDescription{"output_packets", T::integer},
    ColumnDescription{"session_time", T::integer},
    ColumnDescription{"terminate_cause", T::integer},
    ColumnDescription{"interim_interval", T::integer},
    ColumnDescription{"user_name", T::text},
    ColumnDescription{"framed_ip", T::text},
    ColumnDescription{"peer", T::text},
    ColumnDescription{"nas_ip", T::text},
    ColumnDescription{"nas_port", T::integer},
    ColumnDescription{"nas_port_type", T::integer},
    ColumnDescription{"calling_station_id", T::text},
    ColumnDescription{"called_station_id", T::text},
    ColumnDescription{"record_count", T::integer, true, "0"},
    ColumnDescription{"class", T::text},
};

constexpr std::array findings{
    ColumnDescription{"id", T::id},
    ColumnDescription{"run_id", T::integer, false, {}, "runs (id)"},
    ColumnDescription{"rule_id", T::text, true},
    ColumnDescription{"severity", T::text, true},
    ColumnDescription{"scope", T::text, true},
    ColumnDescription{"message", T::text, true},
    ColumnDescription{"packet_id", T::integer, false, {}, "packets (id)"},
    ColumnDescription{"record_id", T::integer, false, {}, "packets (id)"},
    ColumnDescription{"session_id", T::integer, false, {}, "sessions (id)"},
    ColumnDescription{"file", T::text},
    ColumnDescription{"frame", T::integer},
};

// In creation order: a table's references point at tables before it (sessions before packets).
constexpr std::array tables{
    TableDescription{"runs", runs},         TableDescription{"nas", nas},
    TableDescription{"sessions", sessions}, TableDescription{"packets", packets},
    TableDescription{"findings", findings},
};

} // namespace

std::span<const TableDescription> table_descriptions() {
  return tables;
}

} // namespace acctlab::storage
