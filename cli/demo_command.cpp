// headscope demo [MODEL] [--out DIR]: the README's main job on the shipped zoo model. Builds a
// needle-in-a-haystack prompt, lets the model answer it greedily (KV cache), records the
// sequence (every attention map, attention statistics, logits), prints which heads read the
// needle while the answer is produced, then finds the retrieval heads, checks them causally by
// ablation, turns them into a sparse-attention config and measures it, finds IOI and
// colored-objects circuits by EAP-IG and measures their overlap against chance, and draws
// layer x head grids as PNG files.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "analyses/ablation/head_ablation.h"
#include "analyses/ablation/head_selection.h"
#include "analyses/circuits/circuit_file.h"
#include "analyses/circuits/circuit_overlap.h"
#include "analyses/circuits/eap_output.h"
#include "analyses/circuits/task_pairs.h"
#include "analyses/head_attention_profile.h"
#include "analyses/retrieval/retrieval_file.h"
#include "analyses/retrieval/retrieval_heads.h"
#include "analyses/sparse/sparse_config_formats.h"
#include "analyses/sparse/sparse_eval.h"
#include "analyses/tasks/needle_task.h"
#include "analyses/tasks/vocabulary.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/option_groups.h"
#include "core/base/data_dir.h"
#include "core/base/error.h"
#include "core/model/generate.h"
#include "hooks/activation_recorder.h"
#ifdef HEADSCOPE_WITH_GUI
#include "cli/gui_application.h"
#include "gui/render/head_grid_image.h"
#include "gui/render/png_file.h"
#endif

namespace headscope::cli {
namespace {

struct DemoArgs {
  std::string model;  // empty: the bundled zoo model
  std::string out = "headscope-demo";
  int64_t length = 512;
  double depth = 0.4;
  uint64_t seed = 2026;
};

int64_t metadata_int(const TaskSample& s, const std::string& key) {
  return std::stoll(s.metadata.at(key));
}

// One line of text: the haystack's line breaks show as spaces.
std::string render(const std::vector<int32_t>& ids, int64_t begin, int64_t end) {
  std::string text =
      Vocabulary::builtin().render(std::vector<int32_t>(ids.begin() + begin, ids.begin() + end));
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

void print_heads(const std::string& title, const torch::Tensor& values, int64_t count) {
  std::cout << title << "\n ";
  for (const HeadRef& h : top_heads(values, count)) {
    std::printf("  %lld.%lld (%.2f)", static_cast<long long>(h.layer),
                static_cast<long long>(h.head), values[h.layer][h.head].item<double>());
  }
  std::cout << "\n";
}

#ifdef HEADSCOPE_WITH_GUI
void draw(const torch::Tensor& values, const std::string& title, const std::string& unit,
          const std::filesystem::path& path, std::optional<std::pair<double, double>> range) {
  HeadGrid grid{title, unit, {}};
  for (int64_t l = 0; l < values.size(0); ++l) {
    grid.value.emplace_back();
    for (int64_t h = 0; h < values.size(1); ++h)
      grid.value.back().push_back(values[l][h].item<double>());
  }
  HeadGridImageOptions options;
  if (range) options.with_range(range->first, range->second);
  QImage image(head_grid_image_size(grid, options), QImage::Format_RGB32);
  draw_head_grid(grid, image, options);
  write_png(image, path.string());
  std::cout << "wrote " << path.string() << "\n";
}
#endif

void run(const DemoArgs& args) {
  check_output_dir(args.out, "--out");
  ModelArgs model_args;
  model_args.dir = args.model;
  model_args.dtype = "f32";
  std::shared_ptr<const Transformer> model = load_model(model_args);
  const ModelConfig& c = model->config();
  const Vocabulary& vocab = Vocabulary::builtin();
  if (c.vocab_size != vocab.size()) {
    throw InvalidInput("demo: " + args.model + " does not use the zoo's built-in vocabulary (" +
                       std::to_string(vocab.size()) + " tokens); pass a model from zoo/models");
  }
  if (args.length > c.max_positions) {
    throw InvalidInput("--length " + std::to_string(args.length) + " exceeds the model's " +
                       std::to_string(c.max_positions) + " positions");
  }
  std::cout << "model: " << args.model << "\n  " << family_name(c.family) << ", " << c.n_layers
            << " layers x " << c.n_heads << " heads, d_model " << c.d_model << ", "
            << model->weights().parameter_count() << " parameters\n";

  // 1. A needle in a haystack, answered greedily by the model.
  const TaskSample sample = needle_task(
      TaskOptions().with_seed(args.seed).with_length(args.length).with_depth(args.depth));
  const int64_t value_begin = metadata_int(sample, "value_begin");
  const int64_t value_end = metadata_int(sample, "value_end");
  const int64_t answer_len = sample.answer_end - sample.answer_begin;
  std::cout << "\nneedle at depth " << args.depth << " of " << args.length << " tokens:"
            << render(sample.tokens, metadata_int(sample, "needle_begin"),
                      metadata_int(sample, "needle_end"))
            << "\nquestion:"
            << render(sample.tokens, metadata_int(sample, "question_begin"), sample.answer_begin)
            << "\n";
  auto prompt = torch::tensor(std::vector<int64_t>(sample.tokens.begin(),
                                                   sample.tokens.begin() + sample.answer_begin))
                    .unsqueeze(0);
  GenerateOptions generate;
  generate.max_new_tokens = answer_len;
  const auto generated = greedy_generate(*model, prompt, generate);
  std::vector<int64_t> tokens(generated.data_ptr<int64_t>(),
                              generated.data_ptr<int64_t>() + generated.numel());
  std::vector<int32_t> answer(tokens.begin() + sample.answer_begin, tokens.end());
  const bool correct =
      std::equal(answer.begin(), answer.end(), sample.tokens.begin() + sample.answer_begin);
  std::cout << "model's answer:" << vocab.render(answer)
            << "   expected:" << render(sample.tokens, sample.answer_begin, sample.answer_end)
            << "   -> " << (correct ? "correct" : "WRONG") << "\n";

  // 2. Record the sequence the model produced, and profile each head on the way.
  std::filesystem::create_directories(args.out);
  const auto recording = std::filesystem::path(args.out) / "recording.h5";
  HookedModel hooked(model);
  HeadProfile profile;
  {
    ScopedHooks hooks(hooked);
    attach_head_profile(hooks, c,
                        HeadProfileOptions()
                            .with_queries(sample.answer_begin - 1, sample.answer_end - 1)
                            .with_span(value_begin, value_end),
                        profile);
    // The demo's folder is its own: an earlier demo's recording is replaced, once the new one
    // is complete and unless another process has it open.
    auto writer = RecordingWriter::open(
        recording.string(), summarize(*model),
        std::filesystem::exists(recording) ? OutputMode::kReplace : OutputMode::kNew);
    auto run = writer.begin_run();
    run.write_tokens({tokens.begin(), tokens.end()});
    run.write_token_text(token_texts(tokenizer_for(args.model), tokens));
    run.set_attribute("task", "niah");
    run.set_attribute("prompt", "demo: needle in a haystack");
    run.set_attribute("", "seed", static_cast<int64_t>(args.seed));
    run.set_attribute("", "depth", args.depth);
    for (const char* key : {"needle_begin", "needle_end", "value_begin", "value_end"}) {
      run.set_attribute("", key, metadata_int(sample, key));
    }
    run.set_attribute("", "answer_begin", sample.answer_begin);
    run.set_attribute("", "answer_end", sample.answer_end);
    run.set_attribute("", "answer_correct", static_cast<int64_t>(correct));
    record_activations(hooked, tokens,
                       RecordOptions()
                           .with_attention(AttentionRecording::kFullAndStats)
                           .with_stats(AttentionStatsOptions().with_scale(model->attention_scale()))
                           .with_logits(true),
                       run);
    run.commit();
    writer.finish();
  }
  std::cout << "recorded " << tokens.size()
            << " positions (every attention map, attention statistics, logits) to "
            << recording.string() << "\n\n";

  // 3. What the heads do.
  print_heads("heads reading the needle's value while answering (mean attention mass on its " +
                  std::to_string(value_end - value_begin) + " tokens):",
              profile.span_mass, 5);
  print_heads("previous-token heads (mean mass on the token before):", profile.previous_mass, 5);
  print_heads("sink heads (mean mass on <bos>):", profile.first_mass, 5);
  print_heads("broadest heads (mean entropy, nats):", profile.entropy, 3);

  // 4. Retrieval heads (Wu et al. 2024) on a small grid of needle prompts.
  std::cout << "\nretrieval heads: 2 lengths x 5 depths x 4 needles, greedy decoding\n";
  const auto tokenizer = tokenizer_for(args.model);
  if (!tokenizer) throw InvalidInput("demo: " + args.model + " has no tokenizer.json");
  const RetrievalHeadResult retrieval = detect_retrieval_heads(
      *model, *tokenizer,
      RetrievalOptions::for_model(c).with_lengths({256, 512}).with_depths({0, 0.25, 0.5, 0.75, 1}));
  write_retrieval_heads({recording.string(), summarize(*model), OutputMode::kAppend}, retrieval,
                        args.model);
  std::cout << "  " << retrieval.accepted << " of " << retrieval.samples.size()
            << " samples answered (ROUGE-1 recall > 0.5); written to /analyses/retrieval_heads\n";
  print_heads(" highest retrieval scores:", retrieval.score, 10);
  const int64_t retrieval_heads =
      (retrieval.score > retrieval.options.threshold).sum().item<int64_t>();
  std::cout << "  " << retrieval_heads << " heads score above " << retrieval.options.threshold
            << "\n";

  // 5. Causal check: ablate the top retrieval heads, then as many random others.
  const int64_t k = std::max<int64_t>(1, retrieval_heads);
  const AblationCheck check = check_top_against_random(
      model, retrieval.score, k, k, 3,
      AblationOptions().with_task("niah").with_samples(24).with_length(256).with_seed(4242));
  std::printf(
      "\nablation (zero, niah, %lld samples of 256 tokens): accuracy %.2f intact, %.2f "
      "without the top %lld retrieval heads",
      static_cast<long long>(check.baseline.samples), check.baseline.accuracy,
      check.top_ablated.accuracy, static_cast<long long>(k));
  for (const TaskScore& r : check.random_ablated)
    std::printf(", %.2f without %lld random others", r.accuracy, static_cast<long long>(k));
  std::cout << "\n";

  // 6. A sparse-attention config from the retrieval scores, and what it costs in accuracy.
  const auto sparse_dir = std::filesystem::path(args.out) / "sparse";
  const HeadEvidence evidence = read_head_evidence(recording.string());
  write_sparse_configs(evidence, SparseFormat::kHeadscope, sparse_dir.string(),
                       SparseConfigOptions().with_sparsity(0.5).with_score("retrieval"));
  const SparseModelConfig sparse = read_executable_config(sparse_dir.string(), c);
  const SparseEvalResult eval = evaluate_sparse_configs(
      model,
      {{"dense", SparseModelConfig::dense(c.n_layers, c.n_heads)},
       {"retrieval@0.5", sparse},
       {"random@0.5 #1", shuffled_config(sparse, 1)},
       {"random@0.5 #2", shuffled_config(sparse, 2)},
       {"random@0.5 #3", shuffled_config(sparse, 3)}},
      SparseEvalOptions().with_samples(24).with_lengths({512}).with_quiet(true));
  std::cout << "\nsparse attention (half the heads streaming: sink + local window), niah at 512 "
               "tokens; config in "
            << sparse_dir.string() << "\n";
  for (const SparseEvalRow& row : eval.rows) {
    std::printf("  %-14s accuracy %.2f   attention entries kept %.2f\n", row.config.c_str(),
                row.accuracy, row.kept_fraction);
  }

  // 7. Circuits of two tasks by EAP-IG (Hanna et al. 2024: edge attribution with integrated
  // gradients), and their overlap (Merullo et al. 2024 found most in-circuit heads shared between
  // IOI and colored objects). EAP-IG's per-head scores rank the heads as patching each head does
  // (docs/CIRCUITS.md) at a fraction of the passes, which keeps this step within the demo's time.
  constexpr int64_t kPairs = 32, kSteps = 5, kEdges = 200, kCircuitHeads = 8;
  const auto circuits_start = std::chrono::steady_clock::now();
  const EapGraph graph(c);
  const EapOptions eap = EapOptions()
                             .with_method(EapMethod::kEapIg)
                             .with_steps(kSteps)
                             .with_top_n(kEdges)
                             .with_faithfulness(false)
                             .with_quiet(true);
  std::cout << "\ncircuits: EAP-IG (" << kSteps << " steps, logit difference) over the "
            << graph.edge_count() << " edges input -> heads/MLPs -> logits, " << kPairs
            << " pairs per task; the top " << kCircuitHeads
            << " heads by |score| (the estimated share of the clean - corrupted gap lost when "
               "the head is corrupted)\n";
  std::vector<Circuit> circuits;
  for (const char* task : {"ioi", "colors"}) {
    const auto pairs = task_pairs(c, task, kPairs, args.length, 0);
    const EapResult result = edge_attribution(hooked, graph, pairs, eap);
    const double faithfulness =
        faithfulness_curve(hooked, graph, pairs, result.ranking, {kEdges}, eap, result.clean_mean,
                           result.corrupted_mean)
            .front()
            .faithfulness;
    Circuit circuit = eap_circuit(graph, result, eap, task);
    circuit.selection = CircuitSelection::top(kCircuitHeads, true);
    circuit.selected = select_heads(circuit.scores, circuit.selection, task);
    AnalysisWriter out =
        write_circuit({recording.string(), summarize(*model), OutputMode::kAppend}, task, circuit);
    out.set_attribute("", "steps", kSteps);
    out.set_attribute("", "samples", kPairs);
    out.set_attribute("", "faithfulness_top_n_edges", kEdges);
    out.set_attribute("", "faithfulness", faithfulness);
    out.commit();
    char title[200];
    std::snprintf(title, sizeof title,
                  "  %s (logit difference %.2f clean, %.2f corrupted; the top %lld edges keep "
                  "%.2f of the gap), top:",
                  task, result.clean_mean, result.corrupted_mean, static_cast<long long>(kEdges),
                  faithfulness);
    print_heads(title, torch::tensor(circuit.scores, torch::kFloat64).view({c.n_layers, c.n_heads}),
                4);
    circuits.push_back(std::move(circuit));
  }
  const CircuitOverlap overlap = circuit_overlap(circuits[0], circuits[1]);
  std::printf(
      "  IOI vs colors: %lld of %lld heads shared (Jaccard %.2f); chance %.1f, hypergeometric p "
      "= %.2g, permutation p = %.2g; Spearman %.2f over all %lld heads; circuits in "
      "/analyses/circuits (%.1f s)\n",
      static_cast<long long>(overlap.intersection), static_cast<long long>(kCircuitHeads),
      overlap.jaccard, overlap.expected_intersection, overlap.hypergeometric_p,
      overlap.permutation_p, overlap.spearman.value, static_cast<long long>(overlap.heads),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - circuits_start).count());

#ifdef HEADSCOPE_WITH_GUI
  std::cout << "\n";
  const GuiApplication gui;
  auto membership = torch::zeros({c.n_layers, c.n_heads}, torch::kFloat64);
  for (int64_t i = 0; i < c.n_layers * c.n_heads; ++i) {
    membership.view(-1)[i] = circuits[0].selected[i] + 2 * circuits[1].selected[i];
  }
  draw(membership, "circuits: 1 IOI only, 2 colors only, 3 both", "member",
       std::filesystem::path(args.out) / "circuits.png", std::make_pair(0.0, 3.0));
  draw(retrieval.score, "retrieval score (Wu et al. 2024)", "score",
       std::filesystem::path(args.out) / "retrieval_heads.png", std::nullopt);
  draw(profile.span_mass, "attention mass on the needle's value while answering", "mass",
       std::filesystem::path(args.out) / "needle_attention.png", std::make_pair(0.0, 1.0));
  draw(profile.entropy, "mean attention entropy", "nats",
       std::filesystem::path(args.out) / "entropy.png", std::nullopt);
#else
  std::cout << "\n(no PNG: this build has no Qt 6)\n";
#endif
  std::cout << "\nopen it: /usr/bin/python3 -c \"import h5py; f = h5py.File('" << recording.string()
            << "'); print(f['runs/0/blocks.0.attn.hook_pattern'].shape)\"\n";
#if HEADSCOPE_WITH_EXPLORER
  std::cout << "or in the explorer: headscope explore " << recording.string() << "\n";
#endif
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "Needle-in-a-haystack walk-through on the shipped model");
  cmd->add_option("MODEL", args->model,
                  "Zoo model directory (default: the bundled needle-4x8, share/headscope/models)");
  cmd->add_option("--out", args->out, "Output directory (recording.h5, PNG grids)")
      ->capture_default_str();
  cmd->add_option("--length", args->length, "Prompt tokens (within the model's context)")
      ->capture_default_str()
      ->check(integer_in(64, kMaxTokens));
  cmd->add_option("--depth", args->depth, "Needle depth in [0, 1]")
      ->capture_default_str()
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--seed", args->seed, "Seed of the needle example")
      ->capture_default_str()
      ->check(integer_in(0, kMaxSeed));
  cmd->callback([args] {
    if (args->model.empty()) {
      args->model = data_path("models/needle-4x8", "the bundled demo model").string();
    }
    run(*args);
  });
}

}  // namespace headscope::cli
