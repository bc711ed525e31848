// make_document_capture FILE.pcap [all|start|stop|interim] — writes the feature document's three
// `debug radius` records and their answers as a capture (tests/conformance/document_capture.hpp).
// The checked-in tests/captures/document-records.pcap is its output; real_capture_test.cpp requires
// the two to stay equal.

#include "document_capture.hpp"

#include <iostream>

int main(int argc, char** argv) {
  using acctlab::conformance::document::Part;
  const std::string which = argc == 3 ? argv[2] : "all";
  const auto only = which == "start"     ? Part::start
                    : which == "stop"    ? Part::stop
                    : which == "interim" ? Part::interim
                                         : Part::all;
  if (argc < 2 || argc > 3 || (only == Part::all && which != "all")) {
    std::cerr << "usage: make_document_capture FILE.pcap [all|start|stop|interim]\n";
    return 2;
  }
  std::string error;
  if (!acctlab::conformance::document::write_document_capture(argv[1], error, only)) {
    std::cerr << "make_document_capture: " << error << '\n';
    return 1;
  }
  std::cout << "wrote " << argv[1] << " (" << which << ", secret "
            << acctlab::conformance::document::secret << ")\n";
  return 0;
}
