// headscope record MODEL (--prompt TEXT | --tokens 1,2,3 | --tokens-file F) --out FILE.h5
//   [--hooks NAME_OR_GLOB,...] [--save-logits] [--dtype f16|f32] [--device cpu|cuda]
#include <sys/stat.h>

#include <fstream>
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

struct RecordArgs {
  std::string model;
  std::string prompt;
  std::string tokens;
  std::string tokens_file;
  std::string out;
  std::vector<std::string> hooks{"blocks.*.attn.hook_pattern"};
  bool save_logits = false;
  std::string dtype = "f32";
  std::string device = "cpu";
  std::string compute_dtype = "auto";
  bool append = false;
  bool overwrite = false;
  std::string task;
};

std::vector<std::vector<int64_t>> read_tokens_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("--tokens-file: cannot open " + path);
  std::vector<std::vector<int64_t>> runs;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    runs.push_back(parse_token_list(line, path + ":" + std::to_string(line_no)));
  }
  if (runs.empty()) throw InvalidInput("--tokens-file: " + path + " holds no token sequences");
  return runs;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void run(const RecordArgs& args) {
  if (args.dtype != "f32" && args.dtype != "f16") {
    throw InvalidInput("--dtype: expected f16 or f32, got '" + args.dtype + "'");
  }
  if (args.append && args.overwrite) throw InvalidInput("give --append or --overwrite, not both");
  auto model = load_model(args.model, args.device, args.compute_dtype);
  auto tokenizer = tokenizer_for(args.model);

  std::vector<std::vector<int64_t>> runs;
  if (!args.tokens_file.empty()) {
    if (!args.prompt.empty() || !args.tokens.empty()) {
      throw InvalidInput("give one of --prompt, --tokens or --tokens-file");
    }
    runs = read_tokens_file(args.tokens_file);
  } else {
    runs.push_back(prompt_tokens(tokenizer, args.model, args.prompt, args.tokens));
  }

  HookedModel hooked(model);
  for (const auto& filter : args.hooks) {
    if (hooked.match(filter).empty()) {
      throw InvalidInput("--hooks: '" + filter +
                         "' matches no hook point (list them with `headscope inspect " +
                         args.model + " --hooks`)");
    }
  }
  const bool exists = file_exists(args.out);
  if (exists && !args.append && !args.overwrite) {
    throw InvalidInput("--out: " + args.out + " exists; add --append to add runs or --overwrite");
  }
  if (exists && args.overwrite && std::remove(args.out.c_str()) != 0) {
    throw IoError("--overwrite: cannot remove " + args.out);
  }
  auto writer = exists && args.append ? RecordingWriter::open_append(args.out)
                                      : RecordingWriter::create(args.out, summarize(*model));
  RecordOptions options;
  options.hooks = args.hooks;
  options.dtype = args.dtype == "f16" ? DType::kF16 : DType::kF32;
  options.save_logits = args.save_logits;
  for (const auto& tokens : runs) {
    auto run = writer.begin_run();
    run.write_tokens({tokens.begin(), tokens.end()});
    run.write_token_text(token_texts(tokenizer, tokens));
    run.set_attribute("prompt", args.prompt);
    run.set_attribute("task", args.task);
    record_activations(hooked, tokens, options, run);
    run.commit();
  }
  std::cout << "recorded " << runs.size() << " run(s) to " << args.out << " ("
            << writer.run_count() << " in the file)\n";
}

}  // namespace

void add_record_command(CLI::App& app) {
  auto args = std::make_shared<RecordArgs>();
  auto* cmd = app.add_subcommand("record", "Record attention patterns and activations to HDF5");
  cmd->add_option("MODEL", args->model, "Hugging Face model directory")->required();
  cmd->add_option("--prompt", args->prompt, "Prompt text (needs the model's tokenizer)");
  cmd->add_option("--tokens", args->tokens, "One run's token ids, comma-separated");
  cmd->add_option("--tokens-file", args->tokens_file,
                  "File with one comma-separated token sequence per line (one run each)");
  cmd->add_option("--out", args->out, "Output HDF5 file")->required();
  cmd->add_option("--hooks", args->hooks, "Hook names or globs, comma-separated")
      ->delimiter(',');
  cmd->add_flag("--save-logits", args->save_logits, "Also store /runs/<i>/logits [T, vocab]");
  cmd->add_option("--dtype", args->dtype, "Storage dtype: f16 or f32");
  cmd->add_option("--device", args->device, "cpu or cuda");
  cmd->add_option("--compute-dtype", args->compute_dtype, "auto (checkpoint's), f32, bf16, f16");
  cmd->add_option("--task", args->task, "Free-form task label stored with each run");
  cmd->add_flag("--append", args->append, "Add runs to an existing recording");
  cmd->add_flag("--overwrite", args->overwrite, "Replace an existing file");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
