#pragma once
// The processes and namespaces a lab run starts, and nothing else: each is remembered when it is
// started and stopped (by its own PID, or its own namespace name) when the run ends, also on an
// error or Ctrl-C. Every wait is bounded. Linux only (network namespaces, setns, mount).

#include <chrono>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace acctlab::lab {

/** Thrown by a wait when SIGINT or SIGTERM arrived while an InterruptScope was active. */
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

/** Turns SIGINT and SIGTERM into a flag for its lifetime (the previous handlers come back). */
class InterruptScope {
public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
  /** The signal that arrived (0: none). */
  static int received();
};

/** Throws Interrupted when a signal arrived; sleeps at most `for_time` otherwise. */
void pause_checked(std::chrono::milliseconds for_time);

struct SpawnOptions {
  /** Enter this named network namespace (/run/netns/NAME) before exec. */
  std::string netns;
  /** With a mount namespace of its own, bind this directory over /run (charon's pid file and
   * sockets stay out of the host's /run). */
  std::string private_run;
  /** Standard output and error go to this file (appended); empty: /dev/null. */
  std::string output;
  /** Added to the environment. */
  std::vector<std::pair<std::string, std::string>> env;
  /** run_command: a SIGINT/SIGTERM ends the wait (Interrupted). Tear-down sets it false, so an
   * interrupted run still removes what it made. */
  bool interruptible = true;
};

struct CommandResult {
  int exit_status = -1; // -1: killed by a signal or timed out
  bool timed_out = false;
  std::string output; // standard output and error
  bool ok() const { return exit_status == 0; }
};

/** Forks and runs fn in the child (after entering options.netns), which exits with its value. */
pid_t fork_function(const std::string& netns, int (*fn)(void*), void* argument);

/**
 * The processes one lab run started. spawn() remembers each PID; stop() and the destructor end
 * them: SIGTERM, a bounded wait, then SIGKILL, and reap. Children also get SIGTERM should this
 * process die first (PR_SET_PDEATHSIG).
 */
class Processes {
public:
  Processes() = default;
  ~Processes();
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;

  /** Starts argv[0] (a path, or a name looked up in PATH). Throws std::runtime_error. */
  pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options);
  /** Runs fn in a child inside netns, remembered like a spawned process. */
  pid_t spawn_function(const std::string& netns, int (*fn)(void*), void* argument);
  /** True while pid (one of ours) has not exited; reaps it when it has. */
  bool running(pid_t pid);
  /** Sends sig to pid if it is one of ours and still running. */
  void signal(pid_t pid, int sig);
  /** Ends pid (SIGTERM, up to grace, SIGKILL) and reaps it; its exit status, -1 when killed. */
  int stop(pid_t pid, std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  /** Waits up to timeout for pid to exit by itself; its exit status, or nullopt-like -2 on
   * timeout (the process is left running). */
  int wait(pid_t pid, std::chrono::milliseconds timeout);
  void stop_all();
  std::vector<pid_t> pids() const;

private:
  struct Child {
    pid_t pid = 0;
    bool reaped = false;
    int status = -1;
  };
  Child* find(pid_t pid);
  std::vector<Child> children_;
};

/** Runs argv to completion, killed after timeout; output captured. Throws Interrupted. */
CommandResult run_command(const std::vector<std::string>& argv, const SpawnOptions& options,
                          std::chrono::milliseconds timeout);

/** The same; a failure (exit status or timeout) throws std::runtime_error naming the command. */
std::string run_checked(const std::vector<std::string>& argv, const SpawnOptions& options,
                        std::chrono::milliseconds timeout);

/**
 * Named network namespaces this run created (`ip netns add`); the destructor deletes them
 * (`ip netns del`), which also removes the interfaces inside them (the veth pair).
 */
class Namespaces {
public:
  Namespaces() = default;
  ~Namespaces();
  Namespaces(const Namespaces&) = delete;
  Namespaces& operator=(const Namespaces&) = delete;
  /** Throws std::runtime_error with ip's message when the namespace cannot be made. */
  void add(const std::string& name);
  void remove_all();
  const std::vector<std::string>& names() const { return names_; }

private:
  std::vector<std::string> names_;
};

/** Whether this process may make network namespaces: effective uid 0 or CAP_NET_ADMIN and
 * CAP_SYS_ADMIN. Empty when it may; else why not. */
std::string missing_privileges();

} // namespace acctlab::lab
