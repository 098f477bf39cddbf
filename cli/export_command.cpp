// headscope export REC.h5 --out DIR [--force]
#include <filesystem>
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/store/same_model.h"
#include "notebooks_export/export_files.h"
#include "notebooks_export/recording_export.h"

namespace headscope::cli {
namespace {

struct ExportArgs {
  std::string recording;
  ExportOptions options;
};

void run(const ExportArgs& args) {
  check_output_dir(args.options.out_dir, "--out");
  // A file that mixes runs of two models would export root attributes true for only some.
  check_runs_match_model(args.recording);
  const ExportResult result = export_recording(args.recording, args.options);
  std::cout << "exported " << result.run_count << " run(s) to " << result.out_dir << ":\n";
  for (const std::string& file : result.files) std::cout << "  " << file << "\n";
  std::cout << "open " << (std::filesystem::path(result.out_dir) / kExportNotebook).string()
            << " in Jupyter; " << kExportReadme << " there says what the datasets are\n";
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export", "Copy a recording into a directory with a README and an example notebook");
  cmd->add_option("RECORDING", args->recording, "Recording (.h5) to export")->required();
  cmd->add_option("--out", args->options.out_dir, "Output directory (missing or empty)")
      ->required();
  cmd->add_flag("--force", args->options.force,
                "Write into a non-empty directory, replacing the export's files there");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
