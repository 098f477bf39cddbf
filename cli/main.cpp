// headscope: the command-line entry point. Every error, whoever raised it (headscope, the
// option parser, LibTorch, the standard library), ends in one line on stderr and exit status 1;
// no stack traces. --help and --version print and exit 0.
#include <exception>
#include <iostream>
#include <string>

#include <c10/util/Exception.h>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/base/host_memory.h"

namespace {

// One line: LibTorch appends a C++ backtrace after the first line; other messages may wrap.
std::string first_line(const std::string& message) {
  return message.substr(0, message.find('\n'));
}

std::string one_line(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return message;
}

// "headscope record": the deepest subcommand the command line reached, for help hints.
std::string command_path(const CLI::App& app) {
  std::string path = "headscope";
  const CLI::App* current = &app;
  while (true) {
    const auto parsed = current->get_subcommands();
    if (parsed.empty()) return path;
    current = parsed.front();
    path += " " + current->get_name();
  }
}

int fail(const std::string& message) {
  std::cerr << "headscope: error: " << message << "\n";
  return 1;
}

bool is_out_of_memory(const std::string& message) {
  return message.find("out of memory") != std::string::npos ||
         message.find("not enough memory") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  headscope::keep_freed_host_memory();
  CLI::App app{"headscope: attention-head interpretability at long context"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("headscope ") + HEADSCOPE_VERSION);
  headscope::cli::add_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    // The README promises status 1 for every error, not the parser's own codes.
    return fail(one_line(e.what()) + " (see `" + command_path(app) + " --help`)");
  } catch (const headscope::Error& e) {
    return fail(one_line(e.what()));
  } catch (const c10::Error& e) {
    const std::string message = first_line(e.what());
    if (is_out_of_memory(message)) {
      return fail("out of memory in `" + command_path(app) + "` (" + message +
                  "); lower the lengths, samples or batch size");
    }
    return fail(message);
  } catch (const std::bad_alloc&) {
    return fail("out of memory in `" + command_path(app) +
                "`; lower the lengths, samples or batch size");
  } catch (const std::exception& e) {
    // std::filesystem_error (a symlink loop), std::length_error, std::out_of_range, ...: a
    // check missing upstream, but never a terminate() and a core dump.
    return fail(one_line(e.what()));
  } catch (...) {
    return fail("unknown error in `" + command_path(app) + "`");
  }
  return 0;
}
