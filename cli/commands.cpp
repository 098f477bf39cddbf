#include "cli/commands.h"
#include "cli/explore_command.h"

namespace headscope::cli {

void add_commands(CLI::App& app) {
  // The order `headscope --help` lists them in.
  using AddCommand = void (*)(CLI::App&);
  constexpr AddCommand kCommands[] = {
      add_demo_command,          add_inspect_command,     add_tokenize_command,
      add_generate_command,      add_record_command,      add_export_command,
      add_retrieval_command,     add_ablate_command,      add_importance_command,
      add_patch_command,         add_path_patch_command,  add_eap_command,
      add_overlap_command,       add_sparse_config_command, add_sparse_eval_command,
      add_snr_command,           add_zoo_command,         add_explore_command,
  };
  for (AddCommand add : kCommands) add(app);
}

}  // namespace headscope::cli
