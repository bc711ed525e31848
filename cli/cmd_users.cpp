// acctlab users add: accounts of the report viewer (web/auth.hpp), in a file the admin keeps.

#include "cli/command_registry.hpp"
#include "web/auth.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace acctlab::cli {
namespace {

struct UsersArgs {
  std::string name;
  std::string role = "admin";
  std::vector<std::string> groups;
  std::string file;
};

/** The password: typed twice without echo on a terminal, else the first line of stdin. */
std::string read_password() {
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::cerr << "password: " << std::flush;
  }
  std::string password;
  std::getline(std::cin, password);
  if (tty) {
    std::string again;
    std::cerr << "\nagain: " << std::flush;
    std::getline(std::cin, again);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << '\n';
    if (again != password) {
      throw std::runtime_error("the two passwords differ");
    }
  }
  return password;
}

int add_user(const UsersArgs& args) {
  if (!web::valid_account_name(args.name)) {
    std::cerr << "acctlab users: bad name '" << args.name << "' (1-64 of A-Z a-z 0-9 . _ @ -)\n";
    return 2;
  }
  for (const auto& group : args.groups) {
    if (!web::valid_group_name(group)) {
      std::cerr << "acctlab users: bad NAS group '" << group
                << "' (1-64 of A-Z a-z 0-9 . _ @ -, as `group = NAME` in the clients file)\n";
      return 2;
    }
  }
  if (args.role == "admin" && !args.groups.empty()) {
    std::cerr << "acctlab users: an admin sees every NAS; --nas-group is for operators\n";
    return 2;
  }
  if (args.role == "operator" && args.groups.empty()) {
    std::cerr << "acctlab users: warning: operator " << args.name
              << " has no NAS group: the viewer will show it no data until one is given\n";
  }
  std::string text;
  if (std::ifstream in(args.file, std::ios::binary); in) {
    std::ostringstream read;
    read << in.rdbuf();
    text = read.str();
    if (auto accounts = web::parse_accounts(text, args.file); !accounts) {
      std::cerr << "acctlab users: " << accounts.error() << '\n';
      return 2;
    }
  }
  try {
    const auto password = read_password();
    if (password.size() < 8) {
      std::cerr << "acctlab users: a password of at least 8 characters, please\n";
      return 2;
    }
    const web::Account account{args.name, args.role, args.groups, web::hash_password(password)};
    const auto updated = web::upsert_account(text, account);
    // Written beside the file and renamed over it, readable by its owner only (hashes).
    const auto temporary = args.file + ".tmp";
    {
      const auto old_mask = ::umask(077);
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      ::umask(old_mask);
      out << updated;
      if (!out.flush()) {
        std::cerr << "acctlab users: cannot write " << temporary << '\n';
        return 1;
      }
    }
    std::filesystem::rename(temporary, args.file);
  } catch (const std::exception& e) {
    std::cerr << "acctlab users: " << e.what() << '\n';
    return 1;
  }
  std::cerr << "acctlab users: " << args.name << " (" << args.role << ") saved in " << args.file
            << '\n';
  return 0;
}

void install_users(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<UsersArgs>();
  auto* users = app.add_subcommand("users", "Accounts of the report viewer (its login)");
  users->require_subcommand(1);
  auto* add = users->add_subcommand("add", "Add an account or set its password");
  add->footer("Examples:\n"
              "  acctlab users add alice --accounts /etc/acctlab/viewer.accounts\n"
              "  printf '%s\\n' \"$PASSWORD\" | acctlab users add ops --accounts viewer.accounts\n"
              "  acctlab users add eve --role operator --nas-group east --accounts "
              "viewer.accounts\n"
              "An operator sees only the NASes whose clients-file entry says `group = NAME` for "
              "one of its groups.\n"
              "The password is asked twice on a terminal, else read from the first line of "
              "standard input; it is stored as an scrypt hash.");
  add->add_option("name", args->name, "account name")->required();
  add->add_option("--role", args->role,
                  "admin (sees everything) or operator (the NASes of its groups)")
      ->check(CLI::IsMember({"admin", "operator"}))
      ->capture_default_str();
  add->add_option("--nas-group", args->groups,
                  "NAS group of an operator (repeatable): `group = NAME` in the clients file");
  add->add_option("--accounts", args->file, "accounts file (created when missing)")->required();
  add->callback([args, &exit_code] { exit_code = add_user(*args); });
}

const RegisterCommand users_registration{65, install_users};

} // namespace
} // namespace acctlab::cli
