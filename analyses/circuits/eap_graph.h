// The computational graph edge attribution patching scores (Syed et al. 2023; Hanna et al. 2024,
// the EAP-IG library's Graph.from_model): senders are the input (the embeddings, with the learned
// positions where the model has them), every attention head and every MLP; receivers are every
// head's query, key and value input, every MLP's input and the logits (the final residual
// stream). An edge carries a sender's output into a receiver's input; it exists when the sender
// comes before the receiver in the forward pass. Grouped-query models have one key and one value
// receiver per key/value head, shared by its group of query heads.
//
// Senders are numbered in forward order: 0 the input, then per layer its heads and its MLP, so
// the senders a receiver reads are exactly those numbered below senders_before(receiver).
// Receivers are numbered per layer: queries [H], keys [H_kv], values [H_kv], the MLP; then the
// logits. Names follow the EAP-IG library: "input", "a1.h3", "m1", "a2.h0<q>", "a2.kv1<k>",
// "m2", "logits".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/checkpoint/model_config.h"

namespace headscope {

enum class ReceiverKind { kQ, kK, kV, kMlp, kLogits };

struct EapReceiver {
  ReceiverKind kind;
  int64_t layer;  // -1 for the logits
  int64_t head;   // query head (kQ) or key/value head (kK, kV); -1 otherwise
};

struct EapEdge {
  int64_t sender;
  int64_t receiver;
};

class EapGraph {
 public:
  explicit EapGraph(const ModelConfig& config);

  int64_t layers() const { return layers_; }
  int64_t heads() const { return heads_; }
  int64_t senders() const { return senders_; }
  int64_t receivers() const { return static_cast<int64_t>(receivers_.size()); }
  int64_t edge_count() const { return static_cast<int64_t>(edges_.size()); }
  const std::vector<EapEdge>& edges() const { return edges_; }
  const EapReceiver& receiver(int64_t r) const { return receivers_[static_cast<size_t>(r)]; }

  // Sender numbers.
  static constexpr int64_t kInput = 0;
  int64_t head_sender(int64_t layer, int64_t head) const { return 1 + layer * (heads_ + 1) + head; }
  int64_t mlp_sender(int64_t layer) const { return 1 + layer * (heads_ + 1) + heads_; }
  // How many senders (0 .. n-1) feed a receiver of that kind in `layer`: the attention of layer
  // L reads everything before it; the MLP also reads layer L's heads, unless the model computes
  // attention and MLP in parallel from the same residual stream (GPT-NeoX).
  int64_t senders_before_attention(int64_t layer) const { return 1 + layer * (heads_ + 1); }
  int64_t senders_before_mlp(int64_t layer) const {
    return senders_before_attention(layer) + (parallel_ ? 0 : heads_);
  }
  int64_t senders_before(const EapReceiver& r) const;
  // The first receiver of `layer`'s queries, keys, values, MLP; the logits receiver.
  int64_t first_receiver(int64_t layer, ReceiverKind kind) const;
  int64_t logits_receiver() const { return receivers() - 1; }

  // The (layer, head) of a head sender, or {-1, -1} for the input and MLPs.
  std::pair<int64_t, int64_t> sender_head(int64_t sender) const;
  // The query heads whose attention reads receiver r: the head itself, a key/value head's
  // group, none for MLPs and the logits.
  std::vector<std::pair<int64_t, int64_t>> receiver_heads(int64_t r) const;

  std::string sender_name(int64_t sender) const;
  std::string receiver_name(int64_t r) const;

 private:
  int64_t layers_, heads_, kv_heads_;
  bool parallel_;
  int64_t senders_;
  std::vector<EapReceiver> receivers_;
  std::vector<EapEdge> edges_;  // receiver-major, senders ascending
};

}  // namespace headscope
