#include "analyses/circuits/patching_output.h"

#include "analyses/sample_tokens.h"

namespace headscope {

void write_patching_pairs(AnalysisWriter& out, const std::vector<PatchingPair>& pairs) {
  const auto n = static_cast<int64_t>(pairs.size());
  std::vector<std::vector<int32_t>> clean, corrupted;
  std::vector<int64_t> answer, distractor, position;
  for (const PatchingPair& p : pairs) {
    clean.push_back(p.clean);
    corrupted.push_back(p.corrupted);
    answer.push_back(p.answer);
    distractor.push_back(p.distractor);
    position.push_back(p.position);
  }
  write_sample_tokens(out, "clean", clean);
  write_sample_tokens(out, "corrupted", corrupted);
  out.write_i64("answer", {n}, answer, {"sample"});
  out.write_i64("distractor", {n}, distractor, {"sample"});
  out.write_i64("scored_position", {n}, position, {"sample"});
}

void write_activation_patching(const AnalysisTarget& target, const PatchingResult& result,
                               const PatchingOptions& options,
                               const std::vector<PatchingPair>& pairs, const PatchingSource& source,
                               const PatchingRun& run) {
  AnalysisWriter out =
      AnalysisWriter::begin(target, kActivationPatchingCollection, patch_hook_name(options.hook));
  out.set_attribute("", "method", "activation_patching");
  out.set_attribute("", "hook", patch_hook_name(options.hook));
  out.set_attribute("", "per", patch_granularity_name(options.per));
  out.set_attribute("", "direction", patch_direction_name(options.direction));
  out.set_attribute("", "direction_rule",
                    options.direction == PatchDirection::kDenoise
                        ? "corrupted run, the clean run's activation patched in"
                        : "clean run, the corrupted run's activation patched in");
  out.set_attribute("", "metric", patching_metric_name(options.metric));
  out.set_attribute("", "metric_rule",
                    "at each pair's scored position, float64; kl is -KL(clean || run) of the "
                    "next-token distribution");
  out.set_attribute("", "normalisation",
                    "(mean patched - mean corrupted) / (mean clean - mean corrupted), means over "
                    "pairs");
  out.set_attribute("", "clean_mean", result.clean_mean);
  out.set_attribute("", "corrupted_mean", result.corrupted_mean);
  out.set_attribute("", "samples", static_cast<int64_t>(pairs.size()));
  out.set_attribute("", "batch_size", result.batch_size);
  out.set_attribute("", "forward_passes", result.forward_passes);
  out.set_attribute("", "task", source.task);
  out.set_attribute("", "dataset", source.dataset);
  if (!source.task.empty()) {
    out.set_attribute("", "length", source.length);
    out.set_attribute("", "seed", static_cast<int64_t>(source.seed));
    out.set_attribute("", "sample_seeds", "seed + i for sample i; niah depth (i + 0.5) / samples");
  }
  out.set_attribute("", "device", run.device);
  out.set_attribute("", "dtype", run.dtype);

  const auto n = static_cast<int64_t>(pairs.size());
  out.write_f64("scores", result.grid.shape, result.scores, result.grid.dims);
  std::vector<int64_t> per_sample_shape = {n};
  std::vector<std::string> per_sample_dims = {"sample"};
  per_sample_shape.insert(per_sample_shape.end(), result.grid.shape.begin(),
                          result.grid.shape.end());
  per_sample_dims.insert(per_sample_dims.end(), result.grid.dims.begin(), result.grid.dims.end());
  out.write_f64("per_sample", per_sample_shape, result.per_sample, per_sample_dims);
  out.write_f64("clean_metric", {n}, result.clean_metric, {"sample"});
  out.write_f64("corrupted_metric", {n}, result.corrupted_metric, {"sample"});
  write_patching_pairs(out, pairs);
  out.commit();
}

}  // namespace headscope
