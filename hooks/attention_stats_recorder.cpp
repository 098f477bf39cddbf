#include "hooks/attention_stats_recorder.h"

#include <functional>
#include <memory>
#include <utility>

#include "core/base/error.h"
#include "core/model/memory_estimate.h"
#include "core/store/recording_schema.h"

namespace headscope {
namespace {

DType stat_dtype(const torch::Tensor& value) {
  return value.scalar_type() == torch::kInt32 ? DType::kI32 : DType::kF32;
}

// value: [H, T] or [H, T, k] rows of one layer, or (layer < 0) a whole dataset.
// copier: null for writes before the forward pass goes on.
void write_stat(RunWriter& run, HostCopier* copier, const std::string& path, int64_t layer,
                const torch::Tensor& value) {
  std::vector<int64_t> start, count;
  if (layer >= 0) {
    start.assign(static_cast<size_t>(value.dim()) + 1, 0);
    start[0] = layer;
    count.push_back(1);
  } else {
    start.assign(static_cast<size_t>(value.dim()), 0);
  }
  for (auto s : value.sizes()) count.push_back(s);
  if (copier == nullptr) {
    auto host = value.to(torch::kCPU).contiguous();
    run.write_slab(path, start, count, stat_dtype(value), host.data_ptr());
    return;
  }
  run.write_slab_deferred(path, start, count, stat_dtype(value), copier->copy(value),
                          static_cast<size_t>(value.numel()) * value.element_size());
}

}  // namespace

AttentionStatsRecorder::AttentionStatsRecorder(HookedModel& model, RunWriter* run, int64_t seq_len,
                                               const AttentionStatsOptions& options,
                                               bool overlap_writes, WholeHeads whole_heads)
    : run_(run),
      options_(options),
      overlap_writes_(overlap_writes),
      whole_heads_(std::move(whole_heads)),
      layers_(model.model().config().n_layers),
      heads_(model.model().config().n_heads),
      seq_len_(seq_len),
      hooks_(model) {
  const ModelConfig& c = model.model().config();
  options_.scale = model.model().attention_scale();
  options_.sliding_window = c.sliding_window;
  HS_ASSERT((run_ != nullptr || whole_heads_) && "only a tensor-parallel rank skips writing");
  HS_ASSERT((whole_heads_ || !model.model().shard().sharded()) &&
            "a tensor-parallel model's statistics are gathered with whole_heads");
  if (run_ != nullptr) create_datasets(c);

  // Statistics of the q and k the softmax sees (rotated in rotary families): from the fused
  // attention where it runs (attend below), else after the model's own attention (hook_z).
  const HookNames& names = model.model().hook_names();
  for (int64_t layer = 0; layer < layers_; ++layer) {
    hooks_.add(HookPoint{layer, names.scored_q()},
               [this](const torch::Tensor& q, const HookContext&) {
                 pending_q_ = q.detach();
                 return std::nullopt;
               });
    hooks_.add(HookPoint{layer, names.scored_k()},
               [this](const torch::Tensor& k, const HookContext& ctx) {
                 if (ctx.position_offset != 0 || k.size(0) != 1) {
                   throw InvalidInput(
                       "attention statistics are recorded for one whole sequence "
                       "per forward pass");
                 }
                 pending_k_ = k.detach();
                 return std::nullopt;
               });
    hooks_.add(HookPoint{layer, HookKind::kZ}, [this, layer](const torch::Tensor&,
                                                             const HookContext&) {
      if (pending_k_.defined()) {
        // Hooks give [1, T, heads, D]; the statistics take [heads, T, D].
        write_layer(layer, attention_stats_where_computed(pending_q_[0].transpose(0, 1),
                                                          pending_k_[0].transpose(0, 1), options_));
      }
      pending_q_ = pending_k_ = torch::Tensor();
      return std::nullopt;
    });
  }
  // The fused path: one attention pass gives z and the normalisers the one-pass statistics
  // kernel needs. A tensor-parallel model takes no override; neither does one that has one.
  if (!whole_heads_ && !model.has_attention_override()) {
    model.set_attention_override([this](int64_t layer, const torch::Tensor& q,
                                        const torch::Tensor& k, const torch::Tensor& v,
                                        double) -> std::optional<torch::Tensor> {
      if (!pending_k_.defined() || q.size(0) != 1) return std::nullopt;
      auto fused = attention_with_stats(q[0], k[0], v[0], options_);
      if (!fused) return std::nullopt;
      write_layer(layer, fused->stats);
      pending_q_ = pending_k_ = torch::Tensor();
      return fused->z.unsqueeze(0);
    });
    override_ = std::make_unique<AttentionOverrideScope>(model);
  }
}

// The datasets of every head (whole, also under tensor parallelism) and the write queue.
void AttentionStatsRecorder::create_datasets(const ModelConfig& c) {
  const std::vector<int64_t> rows{layers_, heads_, seq_len_};
  const std::vector<int64_t> ranked{layers_, heads_, seq_len_, options_.topk};
  for (const char* name : {kStatEntropy, kStatSinkMass, kStatLocalMass, kStatMaxProb}) {
    run_->create_array(attention_stats_path(name), DType::kF32, rows);
  }
  run_->create_array(attention_stats_path(kStatArgmax), DType::kI32, rows);
  run_->create_array(attention_stats_path(kStatTopkIndex), DType::kI32, ranked);
  run_->create_array(attention_stats_path(kStatTopkProb), DType::kF32, ranked);
  run_->set_attribute(kAttentionStats, kAttrBlockSize, options_.block_size);
  run_->set_attribute(kAttentionStats, kAttrSink, options_.sink);
  run_->set_attribute(kAttentionStats, kAttrWindow, options_.window);
  run_->set_attribute(kAttentionStats, kAttrTopK, options_.topk);
  run_->set_attribute(kAttentionStats, kAttrScale, options_.scale);
  run_->set_attribute(kAttentionStats, kAttrSlidingWindow,
                      options_.sliding_window ? *options_.sliding_window : int64_t{0});
  if (overlap_writes_) {
    const double layer =
        attention_stats_output_bytes(c, seq_len_, options_.topk, options_.block_size);
    run_->defer_writes(ChunkWriteQueueOptions().with_byte_budget(
        static_cast<size_t>(stats_write_budget_bytes(layer))));
  }
}

void AttentionStatsRecorder::write_layer(int64_t layer, const AttentionStats& stats) {
  // Under tensor parallelism each rank holds its heads' statistics (its query heads read only
  // its own KV heads), gathered whole on the host.
  const auto whole = [this](const torch::Tensor& share) {
    return whole_heads_ ? whole_heads_(share.to(torch::kCPU)) : share;
  };
  const std::pair<const char*, const torch::Tensor&> rows[] = {
      {kStatEntropy, stats.entropy},      {kStatSinkMass, stats.sink_mass},
      {kStatLocalMass, stats.local_mass}, {kStatMaxProb, stats.max_prob},
      {kStatArgmax, stats.argmax},        {kStatTopkIndex, stats.topk_index},
      {kStatTopkProb, stats.topk_prob}};
  for (const auto& [name, value] : rows) {
    const auto all = whole(value);
    if (run_ != nullptr) write_stat(*run_, copier(), attention_stats_path(name), layer, all);
  }
  const auto block_mass = whole(stats.block_mass);
  if (run_ == nullptr) return;
  run_->create_array(block_mass_path(layer), DType::kF32, block_mass.sizes().vec());
  write_stat(*run_, copier(), block_mass_path(layer), -1, block_mass);
}

void AttentionStatsRecorder::finish() {
  if (run_ != nullptr) run_->flush_deferred();
}

}  // namespace headscope
