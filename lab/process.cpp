#include "lab/process.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace acctlab::lab {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::atomic<int> received_signal{0};
struct sigaction previous_int {};
struct sigaction previous_term {};
int scopes = 0;

extern "C" void on_interrupt(int sig) {
  received_signal.store(sig);
}

/** What the child needs, prepared before fork (only async-signal-safe calls after it). */
struct ExecPlan {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string netns_path;
  std::string private_run;
  std::string output;
  int output_fd = -1; // for run_command: a pipe's write end
};

ExecPlan make_plan(const std::vector<std::string>& argv, const SpawnOptions& options) {
  ExecPlan plan;
  plan.argv_storage = argv;
  for (char** env = environ; env && *env; ++env) {
    const std::string entry(*env);
    const bool replaced = std::any_of(options.env.begin(), options.env.end(), [&](const auto& e) {
      return entry.rfind(e.first + "=", 0) == 0;
    });
    if (!replaced) {
      plan.env_storage.push_back(entry);
    }
  }
  for (const auto& [name, value] : options.env) {
    plan.env_storage.push_back(name + "=" + value);
  }
  for (auto& arg : plan.argv_storage) {
    plan.argv.push_back(arg.data());
  }
  plan.argv.push_back(nullptr);
  for (auto& entry : plan.env_storage) {
    plan.envp.push_back(entry.data());
  }
  plan.envp.push_back(nullptr);
  if (!options.netns.empty()) {
    plan.netns_path = "/run/netns/" + options.netns;
  }
  plan.private_run = options.private_run;
  plan.output = options.output;
  return plan;
}

[[noreturn]] void child_fail(const char* what) {
  const char* reason = std::strerror(errno);
  (void)!::write(STDERR_FILENO, what, std::strlen(what));
  (void)!::write(STDERR_FILENO, ": ", 2);
  (void)!::write(STDERR_FILENO, reason, std::strlen(reason));
  (void)!::write(STDERR_FILENO, "\n", 1);
  ::_exit(127);
}

/** In the child: the parent's death ends it; the default signal dispositions come back. */
void child_common(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) {
    ::_exit(1);
  }
  struct sigaction deflt {};
  deflt.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &deflt, nullptr);
  ::sigaction(SIGTERM, &deflt, nullptr);
  // A child of its own process group: a terminal's Ctrl-C reaches only the lab, which then stops
  // its children in order (charon sends its Stop, tcpdump flushes) instead of all at once.
  ::setpgid(0, 0);
}

void enter_netns(const std::string& path) {
  if (path.empty()) {
    return;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    child_fail(path.c_str());
  }
  if (::setns(fd, CLONE_NEWNET) != 0) {
    child_fail("setns");
  }
  ::close(fd);
}

[[noreturn]] void exec_child(const ExecPlan& plan, pid_t parent) {
  child_common(parent);
  const int out = plan.output_fd >= 0   ? plan.output_fd
                  : plan.output.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                                        : ::open(plan.output.c_str(),
                                                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out >= 0) {
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
  }
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in >= 0) {
    ::dup2(in, STDIN_FILENO);
  }
  enter_netns(plan.netns_path);
  if (!plan.private_run.empty()) {
    if (::unshare(CLONE_NEWNS) != 0) {
      child_fail("unshare(CLONE_NEWNS)");
    }
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      child_fail("mount --make-rprivate /");
    }
    if (::mount(plan.private_run.c_str(), "/run", nullptr, MS_BIND, nullptr) != 0) {
      child_fail("mount --bind /run");
    }
  }
  ::execvpe(plan.argv[0], plan.argv.data(), plan.envp.data());
  child_fail(plan.argv[0]);
}

} // namespace

InterruptScope::InterruptScope() {
  if (scopes++ == 0) {
    received_signal.store(0);
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previous_int);
    ::sigaction(SIGTERM, &action, &previous_term);
  }
}

InterruptScope::~InterruptScope() {
  if (--scopes == 0) {
    ::sigaction(SIGINT, &previous_int, nullptr);
    ::sigaction(SIGTERM, &previous_term, nullptr);
  }
}

int InterruptScope::received() {
  return received_signal.load();
}

void pause_checked(milliseconds for_time) {
  const auto until = Clock::now() + for_time;
  while (true) {
    if (received_signal.load() != 0) {
      throw Interrupted();
    }
    const auto now = Clock::now();
    if (now >= until) {
      return;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, milliseconds(50)));
  }
}

pid_t fork_function(const std::string& netns, int (*fn)(void*), void* argument) {
  const std::string path = netns.empty() ? std::string() : "/run/netns/" + netns;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    child_common(parent);
    enter_netns(path);
    ::_exit(fn(argument));
  }
  return pid;
}

Processes::~Processes() {
  stop_all();
}

pid_t Processes::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) {
    throw std::runtime_error("spawn: no command");
  }
  const auto plan = make_plan(argv, options);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork " + argv[0] + ": " + std::strerror(errno));
  }
  if (pid == 0) {
    exec_child(plan, parent);
  }
  children_.push_back({pid});
  return pid;
}

pid_t Processes::spawn_function(const std::string& netns, int (*fn)(void*), void* argument) {
  const pid_t pid = fork_function(netns, fn, argument);
  children_.push_back({pid});
  return pid;
}

Processes::Child* Processes::find(pid_t pid) {
  for (auto& child : children_) {
    if (child.pid == pid) {
      return &child;
    }
  }
  return nullptr;
}

bool Processes::running(pid_t pid) {
  auto* child = find(pid);
  if (!child || child->reaped) {
    return false;
  }
  int status = 0;
  const pid_t done = ::waitpid(pid, &status, WNOHANG);
  if (done == pid) {
    child->reaped = true;
    child->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return false;
  }
  return done == 0;
}

void Processes::signal(pid_t pid, int sig) {
  if (running(pid)) {
    ::kill(pid, sig);
  }
}

int Processes::wait(pid_t pid, milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (running(pid)) {
    if (Clock::now() >= until) {
      return -2;
    }
    if (received_signal.load() != 0) {
      throw Interrupted();
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  const auto* child = find(pid);
  return child ? child->status : -1;
}

int Processes::stop(pid_t pid, milliseconds grace) {
  auto* child = find(pid);
  if (!child) {
    return -1;
  }
  if (running(pid)) {
    ::kill(pid, SIGCONT); // a stopped process cannot act on SIGTERM
    ::kill(pid, SIGTERM);
    const auto until = Clock::now() + grace;
    while (running(pid) && Clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    if (running(pid)) {
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0); // SIGKILL cannot be refused: bounded
      child = find(pid);
      child->reaped = true;
      child->status = -1;
    }
  }
  return find(pid)->status;
}

void Processes::stop_all() {
  // Newest first: the processes started last depend on those started before.
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    stop(it->pid);
  }
}

std::vector<pid_t> Processes::pids() const {
  std::vector<pid_t> pids;
  for (const auto& child : children_) {
    pids.push_back(child.pid);
  }
  return pids;
}

CommandResult run_command(const std::vector<std::string>& argv, const SpawnOptions& options,
                          milliseconds timeout) {
  if (argv.empty()) {
    throw std::runtime_error("run: no command");
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  auto plan = make_plan(argv, options);
  plan.output_fd = pipe_fds[1];
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::runtime_error("fork " + argv[0] + ": " + std::strerror(errno));
  }
  if (pid == 0) {
    exec_child(plan, parent);
  }
  ::close(pipe_fds[1]);
  ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
  CommandResult result;
  const auto until = Clock::now() + timeout;
  int status = 0;
  bool exited = false;
  char buffer[4096];
  while (true) {
    while (true) {
      const auto n = ::read(pipe_fds[0], buffer, sizeof buffer);
      if (n <= 0) {
        break;
      }
      result.output.append(buffer, static_cast<std::size_t>(n));
    }
    if (exited) {
      break;
    }
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      continue; // read what is left
    }
    const bool interrupted = options.interruptible && received_signal.load() != 0;
    if (Clock::now() >= until || interrupted) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(pipe_fds[0]);
      if (interrupted) {
        throw Interrupted();
      }
      result.timed_out = true;
      return result;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  ::close(pipe_fds[0]);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string run_checked(const std::vector<std::string>& argv, const SpawnOptions& options,
                        milliseconds timeout) {
  auto result = run_command(argv, options, timeout);
  if (!result.ok()) {
    std::string command;
    for (const auto& arg : argv) {
      command += (command.empty() ? "" : " ") + arg;
    }
    std::string output = result.output;
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) {
      output.pop_back();
    }
    throw std::runtime_error(
        command + (options.netns.empty() ? "" : " (in " + options.netns + ")") +
        (result.timed_out ? ": timed out after " + std::to_string(timeout.count() / 1000) + " s"
                          : ": exit " + std::to_string(result.exit_status)) +
        (output.empty() ? "" : ": " + output));
  }
  return result.output;
}

Namespaces::~Namespaces() {
  remove_all();
}

void Namespaces::add(const std::string& name) {
  run_checked({"ip", "netns", "add", name}, {}, milliseconds(10000));
  names_.push_back(name);
}

void Namespaces::remove_all() {
  for (auto it = names_.rbegin(); it != names_.rend(); ++it) {
    // Bounded, and never an exception out of a destructor.
    try {
      run_command({"ip", "netns", "del", *it}, {.interruptible = false}, milliseconds(10000));
    } catch (...) {
    }
  }
  names_.clear();
}

std::string missing_privileges() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      const auto caps = std::strtoull(line.c_str() + 7, nullptr, 16);
      constexpr unsigned net_admin = 12;
      constexpr unsigned sys_admin = 21;
      std::string missing;
      if (!(caps & (1ULL << net_admin))) {
        missing = "CAP_NET_ADMIN";
      }
      if (!(caps & (1ULL << sys_admin))) {
        missing += std::string(missing.empty() ? "" : " and ") + "CAP_SYS_ADMIN";
      }
      if (missing.empty()) {
        return {};
      }
      return ::geteuid() == 0 ? "root but without " + missing : std::string("not root");
    }
  }
  return ::geteuid() == 0 ? std::string() : "not root";
}

} // namespace acctlab::lab
