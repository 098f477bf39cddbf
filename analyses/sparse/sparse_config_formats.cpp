#include "analyses/sparse/sparse_config_formats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include <torch/torch.h>

#include "analyses/sparse/attention_capture.h"
#include "core/base/error.h"
#include "core/base/text_file.h"

namespace headscope {
namespace {

constexpr int64_t kDefaultSink = 4, kDefaultWindow = 64, kDefaultBlock = 64;
// MInference's offline search ran at 30K tokens; its budgets are scaled to the recorded length.
constexpr double kMInferenceSearchLength = 30000.0;

std::string join(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

void require_stats(const HeadEvidence& e, const char* format) {
  if (e.stats.empty()) {
    throw InvalidInput(e.path + ": --format " + format +
                       " needs attention statistics (/runs/<i>/attention_stats, from `headscope "
                       "record --attention stats`)");
  }
}

// Mean over stats runs of the estimated capture of one head under per-run masks.
template <typename MaskFor>
double mean_capture(const HeadEvidence& e, int64_t layer, int64_t head, MaskFor mask_for,
                    double tail = 1.0) {
  double sum = 0.0;
  for (const auto& run : e.stats) sum += estimated_capture(run, layer, head, mask_for(run), tail);
  return sum / static_cast<double>(e.stats.size());
}

// Per-KV-head score: the max over the query heads of each group.
torch::Tensor kv_scores(const torch::Tensor& score, int64_t n_kv_heads) {
  const int64_t L = score.size(0), H = score.size(1);
  return std::get<0>(score.view({L, n_kv_heads, H / n_kv_heads}).max(-1));
}

// 1 for the kept (full) entries, 0 for the round(sparsity * n) lowest; stable in index order.
torch::Tensor lowest_fraction_mask(const torch::Tensor& score, double sparsity) {
  auto flat = score.flatten().to(torch::kFloat64);
  const int64_t n = flat.numel();
  const auto sparse = static_cast<int64_t>(std::llround(sparsity * static_cast<double>(n)));
  auto order = std::get<1>(flat.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  auto full = torch::ones({n}, torch::kFloat64);
  if (sparse > 0) full.index_fill_(0, order.narrow(0, 0, sparse), 0.0);
  return full.view(score.sizes());
}

SparseConfigResult write_duo(const HeadEvidence& e, const std::string& dir,
                             const SparseConfigOptions& o) {
  const auto ranking = rank_heads(e, o);
  const auto head = sparse_head_template(e, o);
  auto gates = kv_scores(ranking.score, e.n_kv_heads).clamp(0.0, 1.0);
  SparseConfigResult result;
  result.score_source = ranking.source;
  if (o.sparsity) {
    gates = lowest_fraction_mask(gates, *o.sparsity);
    result.sparse_fraction = 1.0 - gates.mean().item<double>();
  }
  DuoConfig duo;
  const auto gates_f64 = gates.to(torch::kFloat64).contiguous();
  for (int64_t l = 0; l < gates_f64.size(0); ++l) {
    const double* row = gates_f64[l].data_ptr<double>();
    duo.gates.emplace_back(row, row + gates_f64.size(1));
  }
  duo.sink_size = head.sink;
  duo.recent_size = head.window;
  duo.sparsity = o.sparsity;
  duo.provenance = {{"input", e.path},
                    {"score", ranking.source},
                    {"kv_reduce", "max"},
                    {"binarised", o.sparsity.has_value()}};
  result.files = write_duo_config(dir, duo);
  return result;
}

// The band (tokens, own block included, sink block excluded) that holds `coverage` of query
// block a's recorded mass, with the first block always kept as MoA's sink block.
int64_t moa_span(const torch::Tensor& row, int64_t a, int64_t block, double coverage) {
  double held = row[0].item<double>();
  for (int64_t m = 1; m <= a; ++m) {
    held += row[a - m + 1].item<double>();
    if (held >= coverage) return m * block;
  }
  return (a + 1) * block;
}

SparseConfigResult write_moa(const HeadEvidence& e, const std::string& dir,
                             const SparseConfigOptions& o) {
  require_stats(e, "moa");
  auto alphas = nlohmann::ordered_json::array(), betas = nlohmann::ordered_json::array();
  std::string csv = ",plan_id,layer_id,head_id,alpha_value,beta_value\n";
  int64_t row_id = 0;
  for (int64_t l = 0; l < e.n_layers; ++l) {
    auto layer_a = nlohmann::ordered_json::array(), layer_b = nlohmann::ordered_json::array();
    for (int64_t h = 0; h < e.n_heads; ++h) {
      std::vector<double> n, span;
      for (const auto& run : e.stats) {
        auto mass = run.block_mass[static_cast<size_t>(l)][h].to(torch::kFloat64);
        const int64_t B = run.block_size, nb = mass.size(0);
        for (int64_t a = 1; a < nb; ++a) {
          const double context = static_cast<double>(std::min(run.length, (a + 1) * B));
          n.push_back(context);
          span.push_back(
              std::min(context, static_cast<double>(moa_span(mass[a], a, B, o.coverage))));
        }
      }
      if (n.empty()) {
        throw InvalidInput(e.path +
                           ": --format moa needs recorded runs longer than one "
                           "attention_stats block");
      }
      const double mn = std::accumulate(n.begin(), n.end(), 0.0) / n.size();
      const double ms = std::accumulate(span.begin(), span.end(), 0.0) / span.size();
      double cov = 0.0, var = 0.0;
      for (size_t i = 0; i < n.size(); ++i)
        cov += (n[i] - mn) * (span[i] - ms), var += (n[i] - mn) * (n[i] - mn);
      // Least squares, then MoA's grid for beta (eighths in [0, 1]) and alpha refitted to it.
      const double beta = std::round(std::clamp(var > 0 ? cov / var : 0.0, 0.0, 1.0) * 8.0) / 8.0;
      const double alpha = std::round(ms - beta * mn);
      layer_a.push_back(alpha);
      layer_b.push_back(beta);
      char line[128];
      std::snprintf(line, sizeof line, "%lld,0,%lld,%lld,%.1f,%.3f\n",
                    static_cast<long long>(row_id++), static_cast<long long>(l),
                    static_cast<long long>(h), alpha, beta);
      csv += line;
    }
    alphas.push_back(std::move(layer_a));
    betas.push_back(std::move(layer_b));
  }
  nlohmann::ordered_json plan;
  plan["alphas"] = std::move(alphas);
  plan["betas"] = std::move(betas);
  const auto json_path = join(dir, kMoaFile);
  const auto csv_path = join(dir, kMoaProfileFile);
  write_text_file_atomically(json_path, plan.dump() + "\n");
  write_text_file_atomically(csv_path, csv);
  return {{json_path, csv_path}, "", 0.0};
}

struct MInferenceCandidate {
  const char* pattern;
  double p1, p2;  // at kMInferenceSearchLength tokens (block_sparse: share of key blocks, unused)
};

constexpr MInferenceCandidate kMInferenceCandidates[] = {
    {"stream_llm", 100, 800},          {"vertical_and_slash", 30, 800},
    {"vertical_and_slash", 100, 750},  {"vertical_and_slash", 500, 700},
    {"vertical_and_slash", 3500, 100}, {"block_sparse", 6400.0 / kMInferenceSearchLength, 0},
};

// A candidate's two integers at a recorded length: budgets scaled by length / 30K, at least 1;
// block_sparse: (kept key blocks, block size).
std::pair<int64_t, int64_t> minference_params(const MInferenceCandidate& c, int64_t length,
                                              int64_t block) {
  const double scale = static_cast<double>(length) / kMInferenceSearchLength;
  if (std::string(c.pattern) == "block_sparse") {
    const int64_t nb = (length + block - 1) / block;
    return {std::max<int64_t>(1, std::llround(c.p1 * static_cast<double>(nb))), block};
  }
  return {std::max<int64_t>(1, std::llround(c.p1 * scale)),
          std::max<int64_t>(1, std::llround(c.p2 * scale))};
}

SparseConfigResult write_minference(const HeadEvidence& e, const std::string& dir,
                                    const SparseConfigOptions& o) {
  require_stats(e, "minference");
  const StatsRun* longest = &e.stats.front();
  for (const auto& run : e.stats) longest = run.length > longest->length ? &run : longest;
  auto layers = nlohmann::ordered_json::array();
  for (int64_t l = 0; l < e.n_layers; ++l) {
    nlohmann::ordered_json layer = nlohmann::ordered_json::object();
    for (int64_t h = 0; h < e.n_heads; ++h) {
      const MInferenceCandidate* best = nullptr;
      double best_capture = -1.0;
      for (const auto& c : kMInferenceCandidates) {
        const std::string pattern = c.pattern;
        const double capture = mean_capture(e, l, h, [&](const StatsRun& run) -> MaskRows {
          const auto [p1, p2] = minference_params(c, run.length, run.block_size);
          if (pattern == "stream_llm") return streaming_rows(p1, p2);
          if (pattern == "block_sparse") return block_rows(top_mass_blocks(run, l, h, p1), p2);
          auto [columns, offsets] = top_vertical_slash(run, l, h, p1, p2);
          return vertical_slash_rows(columns, offsets);
        });
        if (capture > best_capture + 1e-12) best = &c, best_capture = capture;
      }
      const auto [p1, p2] = minference_params(*best, longest->length, longest->block_size);
      layer[std::to_string(h)] = {best->pattern, p1, p2, std::round(best_capture * 1e4) / 1e4};
    }
    layers.push_back(std::move(layer));
  }
  const auto path = join(dir, kMInferenceFile);
  write_text_file_atomically(path, layers.dump() + "\n");
  return {{path}, "", 0.0};
}

SparseConfigResult write_headscope(const HeadEvidence& e, const std::string& dir,
                                   const SparseConfigOptions& o) {
  const auto ranking = rank_heads(e, o);
  const auto head = sparse_head_template(e, o);
  const double sparsity = o.sparsity.value_or(0.5);
  auto config = config_from_scores(ranking.score, sparsity, head);
  config.parameters = {{"input", e.path},
                       {"score", ranking.source},
                       {"sparsity", sparsity},
                       {"sparse_kind", sparse_kind_name(head.kind)},
                       {"sink", head.sink},
                       {"window", head.window},
                       {"block_size", head.block_size},
                       {"topk_blocks", head.topk_blocks},
                       {"tail", o.tail}};
  const auto path = join(dir, kSparseConfigFile);
  write_sparse_config(path, config);
  return {{path}, ranking.source, config.sparse_head_fraction()};
}

}  // namespace

void check_sparse_config_options(const SparseConfigOptions& o) {
  if (o.sparsity && !(*o.sparsity >= 0.0 && *o.sparsity <= 1.0)) {
    throw InvalidInput("--sparsity: expected a fraction in [0, 1], got " +
                       std::to_string(*o.sparsity));
  }
  if (o.sink && *o.sink < 0) throw InvalidInput("--sink: expected >= 0");
  if (o.window && *o.window < 1) throw InvalidInput("--window: expected >= 1");
  if (o.block_size && *o.block_size < 1) throw InvalidInput("--block-size: expected >= 1");
  if (o.topk_blocks < 0) throw InvalidInput("--topk-blocks: expected >= 0");
  if (!(o.tail > 0.0 && o.tail <= 1.0)) throw InvalidInput("--tail: expected a fraction in (0, 1]");
  if (!(o.coverage > 0.0 && o.coverage <= 1.0)) {
    throw InvalidInput("--coverage: expected a fraction in (0, 1]");
  }
  if (o.score != "auto" && o.score != "retrieval" && o.score != "stats") {
    throw InvalidInput("--score: unknown '" + o.score + "' (expected auto, retrieval or stats)");
  }
}

SparseHeadConfig sparse_head_template(const HeadEvidence& e, const SparseConfigOptions& o) {
  SparseHeadConfig h;
  h.kind = o.sparse_kind;
  const StatsRun* run = e.stats.empty() ? nullptr : &e.stats.front();
  h.sink = o.sink.value_or(run ? run->sink : kDefaultSink);
  h.window = o.window.value_or(run ? run->window : kDefaultWindow);
  h.block_size = o.block_size.value_or(run ? run->block_size : kDefaultBlock);
  h.topk_blocks = o.topk_blocks;
  return h;
}

HeadRanking rank_heads(const HeadEvidence& e, const SparseConfigOptions& o) {
  check_sparse_config_options(o);
  const bool use_retrieval = o.score == "retrieval" || (o.score == "auto" && e.retrieval_score);
  if (use_retrieval) {
    if (!e.retrieval_score) {
      throw InvalidInput(e.path + ": --score retrieval needs " + kRetrievalScoreDataset +
                         " (from `headscope retrieval`)");
    }
    return {*e.retrieval_score, "retrieval"};
  }
  require_stats(e, "with --score stats");
  // The attention mass a streaming head with these sink/window would lose.
  const auto head = sparse_head_template(e, o);
  auto score = torch::empty({e.n_layers, e.n_heads}, torch::kFloat64);
  for (int64_t l = 0; l < e.n_layers; ++l) {
    for (int64_t h = 0; h < e.n_heads; ++h) {
      score[l][h] =
          1.0 - mean_capture(
                    e, l, h,
                    [&](const StatsRun&) { return streaming_rows(head.sink, head.window); },
                    o.tail);
    }
  }
  return {score, "stats"};
}

SparseModelConfig config_from_scores(const torch::Tensor& score, double sparsity,
                                     const SparseHeadConfig& sparse_head) {
  const int64_t L = score.size(0), H = score.size(1);
  auto full = lowest_fraction_mask(score, sparsity);
  auto config = SparseModelConfig::dense(L, H);
  for (int64_t l = 0; l < L; ++l) {
    for (int64_t h = 0; h < H; ++h) {
      if (full[l][h].item<double>() == 0.0) config.heads[l][h] = sparse_head;
    }
  }
  return config;
}

SparseConfigResult write_sparse_configs(const HeadEvidence& evidence, SparseFormat format,
                                        const std::string& out_dir,
                                        const SparseConfigOptions& options) {
  check_sparse_config_options(options);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw IoError(out_dir + ": cannot create the directory (" + ec.message() + ")");
  SparseConfigResult result;
  switch (format) {
    case SparseFormat::kDuo:
      result = write_duo(evidence, out_dir, options);
      break;
    case SparseFormat::kMoa:
      result = write_moa(evidence, out_dir, options);
      break;
    case SparseFormat::kMInference:
      result = write_minference(evidence, out_dir, options);
      break;
    case SparseFormat::kHeadscope:
      result = write_headscope(evidence, out_dir, options);
      break;
  }
  // The formats have no room for provenance: every parameter goes beside them.
  const auto head = sparse_head_template(evidence, options);
  nlohmann::ordered_json p;
  p["format"] = sparse_format_name(format);
  p["input"] = evidence.path;
  p["statistics_runs"] = evidence.stats.size();
  p["has_retrieval_score"] = evidence.retrieval_score.has_value();
  p["score"] = options.score;
  p["score_used"] = result.score_source;
  p["sparsity"] = options.sparsity ? nlohmann::ordered_json(*options.sparsity) : nullptr;
  p["sink"] = head.sink;
  p["window"] = head.window;
  p["kind"] = options.sparse_kind == SparseKind::kBlockSparse ? "block_sparse" : "streaming";
  p["block_size"] = head.block_size;
  p["topk_blocks"] = head.topk_blocks;
  p["coverage"] = options.coverage;
  p["tail"] = options.tail;
  p["files"] = result.files;
  const auto path = join(out_dir, "headscope_parameters.json");
  write_text_file_atomically(path, p.dump(2) + "\n");
  result.files.push_back(path);
  return result;
}

}  // namespace headscope
