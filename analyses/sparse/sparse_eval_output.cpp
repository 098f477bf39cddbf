#include "analyses/sparse/sparse_eval_output.h"

#include "analyses/sample_tokens.h"
#include "core/base/error.h"
#include "core/store/analysis_writer.h"

namespace headscope {
namespace {

// The per-head configs that ran, one [config, layer, head] grid per field.
struct HeadGrids {
  std::vector<int32_t> kind;
  std::vector<int64_t> sink, window, block_size, topk_blocks;
};

HeadGrids head_grids(const std::vector<NamedSparseConfig>& configs) {
  HeadGrids grids;
  for (const NamedSparseConfig& named : configs) {
    for (const auto& layer : named.config.heads) {
      for (const SparseHeadConfig& head : layer) {
        const bool streaming = head.kind == SparseKind::kStreaming;
        const bool block = head.kind == SparseKind::kBlockSparse;
        grids.kind.push_back(streaming ? 1 : block ? 2 : 0);
        grids.sink.push_back(streaming ? head.sink : 0);
        grids.window.push_back(streaming ? head.window : 0);
        grids.block_size.push_back(block ? head.block_size : 0);
        grids.topk_blocks.push_back(block ? head.topk_blocks : 0);
      }
    }
  }
  return grids;
}

void write_parameters(AnalysisWriter& out, const SparseEvalOptions& options,
                      const SparseEvalSources& sources) {
  out.set_attribute("", "model_path", sources.model_path);
  out.set_attribute("", "config_dir", sources.config_dir);
  out.set_attribute("", "scores", sources.scores);
  out.set_attribute("", "sparsities", sources.sparsities);
  out.set_attribute("", "random", sources.random);
  out.set_attribute("", "random_seeds", "twin r of a config: heads shuffled with seed * 7919 + r");
  out.set_attribute("", "score", sources.score);
  out.set_attribute("", "kind", sources.kind);
  out.set_attribute("", "tail", sources.tail);
  out.set_attribute("", "sink", sources.sink);
  out.set_attribute("", "recent", sources.recent);
  out.set_attribute("", "block_size", sources.block_size);
  out.set_attribute("", "topk_blocks", sources.topk_blocks);
  out.set_attribute("", "unset",
                    "-1 in sink, recent, block_size: not given (the statistics' or "
                    "the default value; the head_* datasets hold what ran)");
  out.set_attribute("", "task", options.task);
  out.set_attribute("", "samples", options.samples);
  out.set_attribute("", "lengths", options.lengths);
  out.set_attribute("", "seed", static_cast<int64_t>(options.seed));
  out.set_attribute("", "sample_seeds",
                    "seed * 1000003 + i for sample i; depth (i + 0.5) / samples");
  out.set_attribute("", "batch_size", options.batch_size);
  out.set_attribute("", "device", sources.device);
  out.set_attribute("", "dtype", sources.dtype);
  out.set_attribute("", "accuracy_rule",
                    "teacher-forced: a sample is right when every answer token is the argmax");
  out.set_attribute("", "kept_fraction_rule",
                    "causal attention entries kept, mean over layers and heads, first batch");
}

}  // namespace

void write_sparse_eval(const AnalysisTarget& target, const std::vector<NamedSparseConfig>& configs,
                       const SparseEvalResult& result, const SparseEvalOptions& options,
                       const SparseEvalSources& sources) {
  const auto n_configs = static_cast<int64_t>(configs.size());
  const auto n_lengths = static_cast<int64_t>(options.lengths.size());
  HS_ASSERT(static_cast<int64_t>(result.rows.size()) == n_configs * n_lengths);
  std::vector<std::string> names;
  std::vector<double> sparse_heads, accuracy, token_accuracy, kept;
  for (const NamedSparseConfig& named : configs) {
    HS_ASSERT(named.config.n_layers == target.model.n_layers &&
              named.config.n_heads == target.model.n_heads);
    names.push_back(named.name);
    sparse_heads.push_back(named.config.sparse_head_fraction());
  }
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const SparseEvalRow& row = result.rows[i];
    HS_ASSERT(row.config == names[i / options.lengths.size()] &&
              row.length == options.lengths[i % options.lengths.size()]);
    accuracy.push_back(row.accuracy);
    token_accuracy.push_back(row.token_accuracy);
    kept.push_back(row.kept_fraction);
  }

  AnalysisWriter out = AnalysisWriter::begin(target, kSparseEvalGroup);
  out.write_scale("config", names);
  out.write_scale("length", options.lengths);
  const std::vector<int64_t> grid = {n_configs, n_lengths};
  const std::vector<std::string> axes = {"config", "length"};
  out.write_f64("accuracy", grid, accuracy, axes);
  out.write_f64("token_accuracy", grid, token_accuracy, axes);
  out.write_f64("kept_fraction", grid, kept, axes);
  out.write_f64("sparse_heads", {n_configs}, sparse_heads, {"config"});

  const HeadGrids heads = head_grids(configs);
  const std::vector<int64_t> head_grid = {n_configs, target.model.n_layers, target.model.n_heads};
  const std::vector<std::string> head_axes = {"config", "layer", "head"};
  out.write_array("head_kind", DType::kI32, head_grid, heads.kind.data(), head_axes);
  out.set_attribute("head_kind", "codes", "0 full, 1 streaming, 2 block_sparse");
  out.write_i64("head_sink", head_grid, heads.sink, head_axes);
  out.write_i64("head_window", head_grid, heads.window, head_axes);
  out.write_i64("head_block_size", head_grid, heads.block_size, head_axes);
  out.write_i64("head_topk_blocks", head_grid, heads.topk_blocks, head_axes);
  std::vector<TaskSample> samples;
  for (const auto& of_length : result.samples) {
    HS_ASSERT(static_cast<int64_t>(of_length.size()) == options.samples);
    samples.insert(samples.end(), of_length.begin(), of_length.end());
  }
  write_task_samples(out, samples, {n_lengths, options.samples}, {"length", "sample"});
  write_parameters(out, options, sources);
  out.commit();
}

}  // namespace headscope
