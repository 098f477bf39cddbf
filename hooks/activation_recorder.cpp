#include "hooks/activation_recorder.h"

#include <torch/cuda.h>

#include <optional>
#include <set>

#include "core/base/error.h"

namespace headscope {
namespace {

void write_tensor(RunWriter& run, const std::string& name, const torch::Tensor& value,
                  DType dtype) {
  HS_ASSERT(dtype == DType::kF32 || dtype == DType::kF16);
  auto host = value.detach()
                  .to(torch::kCPU, dtype == DType::kF16 ? torch::kFloat16 : torch::kFloat32)
                  .contiguous();
  run.write_array(name, dtype, host.sizes().vec(), dtype, host.data_ptr());
}

}  // namespace

ModelSummary summarize(const Transformer& model) {
  const ModelConfig& c = model.config();
  ModelSummary s;
  s.family = family_name(c.family);
  s.n_layers = c.n_layers;
  s.n_heads = c.n_heads;
  s.n_kv_heads = c.n_kv_heads;
  s.d_head = c.d_head;
  s.d_model = c.d_model;
  s.vocab_size = c.vocab_size;
  s.model_path = model.path();
  s.config_json = c.json_text;
  return s;
}

void record_activations(HookedModel& model, const std::vector<int64_t>& tokens,
                        const RecordOptions& options, RunWriter& run) {
  record_activations(model, tokens, options, &run);
}

void record_activations(HookedModel& model, const std::vector<int64_t>& tokens,
                        const RecordOptions& options, RunWriter* run) {
  if (options.dtype != DType::kF32 && options.dtype != DType::kF16) {
    throw InvalidInput("record dtype must be f32 or f16");
  }
  const bool stats_wanted = options.attention == AttentionRecording::kStats ||
                            options.attention == AttentionRecording::kFullAndStats;
  HS_ASSERT((!options.whole_value || !stats_wanted || options.whole_heads) &&
            "tensor-parallel statistics are gathered with whole_heads");
  HS_ASSERT((run != nullptr || options.whole_value) && "only a tensor-parallel rank skips writing");
  std::vector<std::string> hooks = options.hooks;
  if (options.attention == AttentionRecording::kFull ||
      options.attention == AttentionRecording::kFullAndStats) {
    hooks.push_back("blocks.*.attn.hook_pattern");
  }
  ScopedHooks scoped(model);
  // Overlapping globs may name one hook twice; it is stored once.
  std::set<std::string> written;
  for (const auto& filter : hooks) {
    scoped.add(
        filter, [run, &options, &written](const torch::Tensor& value, const HookContext& ctx) {
          if (written.insert(ctx.name).second) {
            const auto whole = options.whole_value ? options.whole_value(ctx.point, value) : value;
            if (run != nullptr) write_tensor(*run, ctx.name, whole.select(0, 0), options.dtype);
          }
          return std::nullopt;
        });
  }
  if (options.on_layer_done) {
    for (int64_t layer = 0; layer < model.model().config().n_layers; ++layer) {
      scoped.add(HookPoint{layer, HookKind::kResidPost},
                 [&options, layer](const torch::Tensor&, const HookContext&) {
                   options.on_layer_done(layer);
                   return std::nullopt;
                 });
    }
  }
  std::optional<AttentionStatsRecorder> stats;
  if (stats_wanted) {
    stats.emplace(model, run, static_cast<int64_t>(tokens.size()), options.stats,
                  options.overlap_writes, options.whole_heads);
  }
  torch::NoGradGuard no_grad;
  auto input = torch::tensor(tokens, torch::kInt64).unsqueeze(0);
  if (!options.save_logits) {
    model.forward(input, nullptr, LogitPositions::kNone);
  } else {
    auto logits = model.forward(input);
    if (run != nullptr) write_tensor(*run, "logits", logits.select(0, 0), options.dtype);
  }
  // A GPU's kernels run asynchronously: wait for them even when nothing comes back to the host
  // (--attention none without hooks), so that a recording ends when its forward pass does.
  // Without this, `record --attention none` timed only the kernels' launches (issue 17's
  // baseline: 7.5 s for a 32-layer 128K forward that takes ~12 s).
  for (const torch::Device& device : model.model().placement().devices) {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  }
  if (stats) stats->finish();
}

}  // namespace headscope
