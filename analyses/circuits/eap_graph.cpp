#include "analyses/circuits/eap_graph.h"

#include "core/base/error.h"

namespace headscope {

EapGraph::EapGraph(const ModelConfig& config)
    : layers_(config.n_layers),
      heads_(config.n_heads),
      kv_heads_(config.n_kv_heads),
      parallel_(config.parallel_residual),
      senders_(1 + config.n_layers * (config.n_heads + 1)) {
  for (int64_t layer = 0; layer < layers_; ++layer) {
    for (int64_t h = 0; h < heads_; ++h) receivers_.push_back({ReceiverKind::kQ, layer, h});
    for (int64_t h = 0; h < kv_heads_; ++h) receivers_.push_back({ReceiverKind::kK, layer, h});
    for (int64_t h = 0; h < kv_heads_; ++h) receivers_.push_back({ReceiverKind::kV, layer, h});
    receivers_.push_back({ReceiverKind::kMlp, layer, -1});
  }
  receivers_.push_back({ReceiverKind::kLogits, -1, -1});
  for (int64_t r = 0; r < receivers(); ++r) {
    for (int64_t s = 0; s < senders_before(receivers_[static_cast<size_t>(r)]); ++s) {
      edges_.push_back({s, r});
    }
  }
}

int64_t EapGraph::senders_before(const EapReceiver& r) const {
  switch (r.kind) {
    case ReceiverKind::kQ:
    case ReceiverKind::kK:
    case ReceiverKind::kV:
      return senders_before_attention(r.layer);
    case ReceiverKind::kMlp:
      return senders_before_mlp(r.layer);
    case ReceiverKind::kLogits:
      return senders_;
  }
  HS_ASSERT(false && "unhandled receiver kind");
}

int64_t EapGraph::first_receiver(int64_t layer, ReceiverKind kind) const {
  const int64_t base = layer * (heads_ + 2 * kv_heads_ + 1);
  switch (kind) {
    case ReceiverKind::kQ:
      return base;
    case ReceiverKind::kK:
      return base + heads_;
    case ReceiverKind::kV:
      return base + heads_ + kv_heads_;
    case ReceiverKind::kMlp:
      return base + heads_ + 2 * kv_heads_;
    case ReceiverKind::kLogits:
      return logits_receiver();
  }
  HS_ASSERT(false && "unhandled receiver kind");
}

std::pair<int64_t, int64_t> EapGraph::sender_head(int64_t sender) const {
  if (sender == kInput) return {-1, -1};
  const int64_t layer = (sender - 1) / (heads_ + 1);
  const int64_t head = (sender - 1) % (heads_ + 1);
  return head == heads_ ? std::pair<int64_t, int64_t>{-1, -1} : std::pair{layer, head};
}

std::vector<std::pair<int64_t, int64_t>> EapGraph::receiver_heads(int64_t r) const {
  const EapReceiver& rec = receiver(r);
  if (rec.kind == ReceiverKind::kQ) return {{rec.layer, rec.head}};
  std::vector<std::pair<int64_t, int64_t>> heads;
  if (rec.kind == ReceiverKind::kK || rec.kind == ReceiverKind::kV) {
    const int64_t group = heads_ / kv_heads_;
    for (int64_t h = rec.head * group; h < (rec.head + 1) * group; ++h)
      heads.emplace_back(rec.layer, h);
  }
  return heads;
}

std::string EapGraph::sender_name(int64_t sender) const {
  if (sender == kInput) return "input";
  const auto [layer, head] = sender_head(sender);
  if (head < 0) return "m" + std::to_string((sender - 1) / (heads_ + 1));
  return "a" + std::to_string(layer) + ".h" + std::to_string(head);
}

std::string EapGraph::receiver_name(int64_t r) const {
  const EapReceiver& rec = receiver(r);
  const std::string layer = std::to_string(rec.layer);
  switch (rec.kind) {
    case ReceiverKind::kQ:
      return "a" + layer + ".h" + std::to_string(rec.head) + "<q>";
    case ReceiverKind::kK:
    case ReceiverKind::kV: {
      // Without grouped-query attention a key/value head is the query head of the same number.
      const std::string head = (kv_heads_ == heads_ ? ".h" : ".kv") + std::to_string(rec.head);
      return "a" + layer + head + (rec.kind == ReceiverKind::kK ? "<k>" : "<v>");
    }
    case ReceiverKind::kMlp:
      return "m" + layer;
    case ReceiverKind::kLogits:
      return "logits";
  }
  HS_ASSERT(false && "unhandled receiver kind");
}

}  // namespace headscope
