#include "pcap/live_capture.hpp"

#include "pcap/pcap_writer.hpp"

#include <chrono>

namespace acctlab::capture {
namespace {

/** libpcap's DLT_ values are LINKTYPE_ values except where platforms disagreed; DLT_RAW is the
 * one a Linux capture can meet (12 or 14 there, LINKTYPE_RAW 101 in files). */
std::uint32_t file_link_type(int dlt) {
  return dlt == 12 || dlt == 14 ? 101u : static_cast<std::uint32_t>(dlt);
}

} // namespace

LiveCaptureResult capture_live(const LiveCaptureOptions& options, AnalysisOptions analysis,
                               const ImportOptions* import, const RunJudge& judge) {
  LiveCaptureResult result;
  LiveSpec spec;
  spec.interface = options.interface;
  spec.filter = radius_filter(analysis.extra_ports);
  auto reader = FileReader::open_live(spec, result.error);
  if (!reader) {
    result.error = options.interface + ": " + result.error;
    return result;
  }
  std::unique_ptr<PcapWriter> writer;
  if (!options.write_path.empty()) {
    writer = PcapWriter::create(options.write_path, result.error, PcapWriter::Precision::nano,
                                static_cast<std::uint32_t>(spec.snaplen),
                                file_link_type(reader->link_type()));
    if (!writer) {
      result.error = options.write_path + ": " + result.error;
      return result;
    }
  }
  const std::string name =
      options.write_path.empty() ? "live:" + options.interface : options.write_path;
  if (options.on_started) {
    options.on_started(spec.filter);
  }

  FileReader* live = reader.get(); // owned by the stream from here on
  const auto started = std::chrono::steady_clock::now();
  bool stopped = false;
  const auto keep_going = [&] {
    if (stopped) {
      return false;
    }
    const bool timed_out =
        options.duration > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() >=
            options.duration;
    if (timed_out || (options.stop_requested && options.stop_requested())) {
      stopped = true;
      result.kernel_drops = live->dropped(); // once, while the handle is open
      return false;
    }
    return true;
  };
  StreamOptions stream_options;
  stream_options.extra_ports = analysis.extra_ports;
  stream_options.reassembly = analysis.reassembly;
  stream_options.tls_keys = analysis.tls_keys;
  if (writer) {
    stream_options.on_frame = [&writer](int, const RawFrame& frame) {
      writer->write_frame(frame.timestamp_ns, frame.data);
    };
  }
  if (import) {
    ImportOptions import_options = *import;
    import_options.file_names = {name};
    result.analysis = import_stream(
        [&](StreamOptions given) {
          auto flush = std::move(given.keep_going);
          stream_options.keep_going = [flush, &keep_going] {
            if (flush) {
              flush();
            }
            return keep_going();
          };
          return std::make_unique<DatagramStream>(std::move(reader), name,
                                                  std::move(stream_options));
        },
        std::move(analysis), std::move(import_options), judge);
  } else {
    stream_options.keep_going = keep_going;
    DatagramStream stream(std::move(reader), name, std::move(stream_options));
    result.analysis = analyze_stream(stream, analysis);
  }
  if (writer) {
    result.frames_written = writer->frames_written();
    if (!writer->close()) {
      result.error = options.write_path + ": write failed";
    }
  }
  return result;
}

} // namespace acctlab::capture
