// headscope: the command-line entry point. User mistakes end in one line on stderr and exit 1;
// no stack traces.
#include <iostream>

#include <c10/util/Exception.h>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"headscope: attention-head interpretability at long context"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "headscope 0.1.0");
  headscope::cli::add_inspect_command(app);
  headscope::cli::add_tokenize_command(app);
  headscope::cli::add_generate_command(app);
  headscope::cli::add_record_command(app);
  headscope::cli::add_demo_command(app);
  headscope::cli::add_export_command(app);
  headscope::cli::add_zoo_command(app);
  headscope::cli::add_retrieval_command(app);
  headscope::cli::add_sparse_config_command(app);
  headscope::cli::add_sparse_eval_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const headscope::Error& e) {
    std::cerr << "headscope: error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    // LibTorch appends a C++ backtrace; the first line is the message.
    std::string message = e.what();
    std::cerr << "headscope: error: " << message.substr(0, message.find('\n')) << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "headscope: error: out of memory\n";
    return 1;
  }
  return 0;
}
