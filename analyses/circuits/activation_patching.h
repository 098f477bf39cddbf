// Activation patching (TransformerLens' patching.py): run one input of each pair with the
// activation of one component, at one hook point, taken from the other input's run, and score
// how much of the clean behaviour that restores (denoise: corrupted run, clean activation
// patched in, TransformerLens' default) or destroys (noise: clean run, corrupted activation
// patched in).
//
// The source run's activations are cached once per pair; the target input is then replicated
// in batches whose rows each patch a different component (a layer, head, position or their
// combination), so a sweep of every head costs about pairs x components / batch forward passes.
//
//   HookedModel hooked(model);
//   PatchingResult r = activation_patching(hooked, pairs,
//   PatchingOptions().with_hook(PatchHook::kZ)); r.scores  // [layer, head]: normalised, 1 = the
//   patch restores the clean metric
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/circuits/patching_metric.h"
#include "analyses/circuits/task_pairs.h"
#include "core/model/hook_names.h"
#include "dist/work_split.h"
#include "hooks/hooked_model.h"

namespace headscope {

// Where activations are patched. q, z, result and pattern have one slice per attention head; k
// and v one per key/value head (fewer than heads in a grouped-query model, where each is
// shared by a group of query heads); attn_out, mlp_out and resid_pre none.
enum class PatchHook { kZ, kPattern, kQ, kK, kV, kResult, kAttnOut, kMlpOut, kResidPre };
enum class PatchGranularity { kHead, kHeadPosition, kLayer, kLayerPosition };
enum class PatchDirection { kDenoise, kNoise };

inline const std::vector<PatchHook> kPatchHooks = {
    PatchHook::kZ,      PatchHook::kPattern, PatchHook::kQ,      PatchHook::kK,       PatchHook::kV,
    PatchHook::kResult, PatchHook::kAttnOut, PatchHook::kMlpOut, PatchHook::kResidPre};
inline const std::vector<PatchGranularity> kPatchGranularities = {
    PatchGranularity::kHead, PatchGranularity::kHeadPosition, PatchGranularity::kLayer,
    PatchGranularity::kLayerPosition};
inline const std::vector<PatchDirection> kPatchDirections = {PatchDirection::kDenoise,
                                                             PatchDirection::kNoise};

// The words of the command line and the output's attributes.
const char* patch_hook_name(PatchHook hook);                 // "z", "pattern", ..., "resid_pre"
const char* patch_granularity_name(PatchGranularity per);    // "head", "head-position", ...
const char* patch_direction_name(PatchDirection direction);  // "denoise", "noise"
// The model's hook point of `hook` in `layer`.
HookKind patch_hook_kind(PatchHook hook);

struct PatchingOptions {
  PatchHook hook = PatchHook::kZ;
  PatchGranularity per = PatchGranularity::kHead;
  PatchDirection direction = PatchDirection::kDenoise;
  PatchingMetric metric = PatchingMetric::kLogitDiff;
  // Rows per forward pass; 0: as many as a quarter of free memory holds (at most 512; on the
  // CPU, at most 1024 tokens).
  int64_t batch_size = 0;
  bool quiet = false;  // no progress bar
  // Start a row's pass at its lowest patched layer from the target run's cached residual
  // stream (when that cache fits). Off: every row runs the whole model, the baseline that
  // bench/patching_bench compares against.
  bool reuse_prefix = true;

  PatchingOptions& with_hook(PatchHook v) { return hook = v, *this; }
  PatchingOptions& with_per(PatchGranularity v) { return per = v, *this; }
  PatchingOptions& with_direction(PatchDirection v) { return direction = v, *this; }
  PatchingOptions& with_metric(PatchingMetric v) { return metric = v, *this; }
  PatchingOptions& with_batch_size(int64_t v) { return batch_size = v, *this; }
  PatchingOptions& with_quiet(bool v) { return quiet = v, *this; }
  PatchingOptions& with_reuse_prefix(bool v) { return reuse_prefix = v, *this; }
};

// One patched component: head -1 is every head (or a hook without heads), position -1 every
// position (the patch copies the source's slice there).
struct PatchSite {
  int64_t layer = 0;
  int64_t head = -1;
  int64_t position = -1;
};

// The components a sweep patches, in row-major order of `shape`, whose axes are named `dims`:
// layer, then head (kv_head for k and v), then position.
struct PatchGrid {
  std::vector<std::string> dims;
  std::vector<int64_t> shape;
  std::vector<PatchSite> sites;
};

// InvalidInput when `per` asks for heads of a hook without them.
PatchGrid patch_grid(const ModelConfig& config, PatchHook hook, PatchGranularity per,
                     int64_t positions);

struct PatchingResult {
  PatchGrid grid;
  std::vector<double> scores;      // [grid]: normalised score of the pairs' mean metric
  std::vector<double> per_sample;  // [pair, grid]: the metric of each patched run
  std::vector<double> clean_metric, corrupted_metric;  // [pair]: unpatched runs
  double clean_mean = 0.0, corrupted_mean = 0.0;
  int64_t batch_size = 0;      // rows per forward pass used
  int64_t forward_passes = 0;  // of the sweep, the cached and unpatched runs included
  double seconds = 0.0;        // wall time of the whole computation
};

// InvalidInput before the sweep when: the pairs are empty; logit-diff is asked and a pair has no
// distractor (naming it); a per-position sweep gets pairs of different lengths; or the clean and
// corrupted runs score the same mean metric (nothing to normalise by). InvalidInput naming the
// estimate when the cached activations do not fit in memory.
PatchingResult activation_patching(HookedModel& model, const std::vector<PatchingPair>& pairs,
                                   const PatchingOptions& options);
// The sweep split over processes: every process runs the unpatched runs of every pair (it needs
// their cache and metrics) and its share of the sweep's batches (cost: rows x length) at the
// first process's batch size; the processes then exchange their values and each returns the
// result one process computes (the same batches, so the same bits).
PatchingResult activation_patching(HookedModel& model, const std::vector<PatchingPair>& pairs,
                                   const PatchingOptions& options, const WorkSplit& split);

}  // namespace headscope
