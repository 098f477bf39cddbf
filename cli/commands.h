// The `headscope` subcommands; each file registers one on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

namespace headscope::cli {

void add_inspect_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_record_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_zoo_command(CLI::App& app);
void add_retrieval_command(CLI::App& app);
void add_sparse_config_command(CLI::App& app);
void add_sparse_eval_command(CLI::App& app);

}  // namespace headscope::cli
