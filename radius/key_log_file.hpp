#pragma once
// A TLS key log being written: the NSS key log format's lines (CLIENT_RANDOM, the TLS 1.3
// traffic secrets), one per call, appended to a file only its owner may read. Wireshark and
// `acctlab pcap analyze --tls-keylog` read it to decrypt a capture of the same connections.
// Whoever reads the file can decrypt that traffic: it is a debugging aid, opened on request.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

namespace acctlab::radius {

class KeyLogFile {
public:
  /** Opens path for appending, created with mode 0600 (an existing file keeps its mode).
   * nullptr and error set ("PATH: reason") when it cannot be opened. */
  static std::unique_ptr<KeyLogFile> open(const std::string& path, std::string& error);

  /** Appends one line and flushes it, so a capture can be decrypted while the process runs.
   * Safe from several threads. A failed write is counted, not thrown. */
  void write(const char* line) noexcept;

  const std::string& path() const { return path_; }
  std::uint64_t lines() const;
  std::uint64_t failures() const;

private:
  struct Closer {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
  };
  KeyLogFile(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}

  std::string path_;
  mutable std::mutex mutex_;
  std::unique_ptr<std::FILE, Closer> file_;
  std::uint64_t lines_ = 0;
  std::uint64_t failures_ = 0;
};

} // namespace acctlab::radius
