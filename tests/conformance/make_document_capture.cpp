// make_document_capture FILE.pcap — writes the feature document's three `debug radius` records
// and their answers as a capture (tests/conformance/document_capture.hpp). The checked-in
// tests/captures/document-records.pcap is its output; real_capture_test.cpp requires the two
// to stay equal.

#include "document_capture.hpp"

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_document_capture FILE.pcap\n";
    return 2;
  }
  std::string error;
  if (!acctlab::conformance::document::write_document_capture(argv[1], error)) {
    std::cerr << "make_document_capture: " << error << '\n';
    return 1;
  }
  std::cout << "wrote " << argv[1] << " (secret " << acctlab::conformance::document::secret
            << ")\n";
  return 0;
}
