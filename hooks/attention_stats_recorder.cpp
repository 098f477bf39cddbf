#include "hooks/attention_stats_recorder.h"

#include "core/base/error.h"
#include "core/store/recording_schema.h"

namespace headscope {
namespace {

void write_rows(RunWriter& run, const char* name, int64_t layer, const torch::Tensor& value) {
  // value: [H, T] or [H, T, k]; the dataset has a leading layer axis.
  auto host = value.contiguous();
  std::vector<int64_t> start(static_cast<size_t>(host.dim()) + 1, 0);
  start[0] = layer;
  std::vector<int64_t> count{1};
  for (auto s : host.sizes()) count.push_back(s);
  const DType dtype = host.scalar_type() == torch::kInt32 ? DType::kI32 : DType::kF32;
  run.write_slab(attention_stats_path(name), start, count, dtype, host.data_ptr());
}

}  // namespace

AttentionStatsRecorder::AttentionStatsRecorder(HookedModel& model, RunWriter& run,
                                               int64_t seq_len,
                                               const AttentionStatsOptions& options)
    : run_(run),
      options_(options),
      layers_(model.model().config().n_layers),
      heads_(model.model().config().n_heads),
      seq_len_(seq_len),
      hooks_(model) {
  const ModelConfig& c = model.model().config();
  options_.scale = model.model().attention_scale();
  options_.sliding_window = c.sliding_window;

  const std::vector<int64_t> rows{layers_, heads_, seq_len_};
  const std::vector<int64_t> ranked{layers_, heads_, seq_len_, options_.topk};
  for (const char* name : {kStatEntropy, kStatSinkMass, kStatLocalMass, kStatMaxProb}) {
    run_.create_array(attention_stats_path(name), DType::kF32, rows);
  }
  run_.create_array(attention_stats_path(kStatArgmax), DType::kI32, rows);
  run_.create_array(attention_stats_path(kStatTopkIndex), DType::kI32, ranked);
  run_.create_array(attention_stats_path(kStatTopkProb), DType::kF32, ranked);
  run_.set_attribute(kAttentionStats, kAttrBlockSize, options_.block_size);
  run_.set_attribute(kAttentionStats, kAttrSink, options_.sink);
  run_.set_attribute(kAttentionStats, kAttrWindow, options_.window);
  run_.set_attribute(kAttentionStats, kAttrTopK, options_.topk);
  run_.set_attribute(kAttentionStats, kAttrScale, options_.scale);
  run_.set_attribute(kAttentionStats, kAttrSlidingWindow,
                     options_.sliding_window ? *options_.sliding_window : int64_t{0});

  // Statistics of the q and k the softmax sees (rotated in rotary families).
  const HookNames& names = model.model().hook_names();
  for (int64_t layer = 0; layer < layers_; ++layer) {
    hooks_.add(HookPoint{layer, names.scored_q()},
               [this](const torch::Tensor& q, const HookContext&) {
                 pending_q_ = q.detach();
                 return std::nullopt;
               });
    hooks_.add(HookPoint{layer, names.scored_k()},
               [this, layer](const torch::Tensor& k, const HookContext& ctx) {
                 if (ctx.position_offset != 0 || k.size(0) != 1) {
                   throw InvalidInput("attention statistics are recorded for one whole sequence "
                                      "per forward pass");
                 }
                 write_layer(layer, pending_q_, k.detach());
                 pending_q_ = torch::Tensor();
                 return std::nullopt;
               });
  }
}

void AttentionStatsRecorder::write_layer(int64_t layer, const torch::Tensor& q,
                                         const torch::Tensor& k) {
  HS_ASSERT(q.defined());
  // Hooks give [1, T, heads, D]; the statistics take [heads, T, D].
  auto stats = attention_stats(q[0].transpose(0, 1), k[0].transpose(0, 1), options_);
  write_rows(run_, kStatEntropy, layer, stats.entropy);
  write_rows(run_, kStatSinkMass, layer, stats.sink_mass);
  write_rows(run_, kStatLocalMass, layer, stats.local_mass);
  write_rows(run_, kStatMaxProb, layer, stats.max_prob);
  write_rows(run_, kStatArgmax, layer, stats.argmax);
  write_rows(run_, kStatTopkIndex, layer, stats.topk_index);
  write_rows(run_, kStatTopkProb, layer, stats.topk_prob);
  auto block = stats.block_mass.contiguous();
  run_.write_array(block_mass_path(layer), DType::kF32, block.sizes().vec(), DType::kF32,
                   block.data_ptr());
}

}  // namespace headscope
