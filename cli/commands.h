// The `headscope` subcommands; each *_command.cpp registers one on the CLI11 app, and
// add_commands (commands.cpp, the one table of them) registers them all. A new command is one
// file and one row there.
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
void add_ablate_command(CLI::App& app);
void add_importance_command(CLI::App& app);
void add_overlap_command(CLI::App& app);
void add_patch_command(CLI::App& app);
void add_eap_command(CLI::App& app);
void add_path_patch_command(CLI::App& app);
void add_snr_command(CLI::App& app);

void add_commands(CLI::App& app);

}  // namespace headscope::cli
