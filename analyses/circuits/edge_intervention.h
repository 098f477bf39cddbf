// One forward pass of a model over the edges of its EAP graph (analyses/circuits/eap_graph.h):
// every receiver gets its own copy of its input (TransformerLens' split q/k/v and MLP inputs,
// built here through the existing hook points), from which some senders' contributions can be
// swapped for other values, and whose gradients can be taken.
//
// A receiver's input is the residual stream before it, x = Σ_u a_u + biases over the senders u
// it reads. An intervention replaces it by
//
//     x_r = x − Σ_u removed[u, r] · (a_u − replacement_u)
//
// with a_u the sender's output in this pass: removed 0 keeps the edge, 1 swaps the sender's
// output for its replacement in this receiver only (the EAP-IG library's evaluate_graph). The
// head outputs a_u are each head's z times its slice of W_O (the output bias belongs to no
// head: it is the same in every run).
//
// The per-receiver inputs are recomputed from the hook points the model fires: at hook_q, hook_k
// and hook_v of layer L each head's q, k or v is recomputed from its own input through the
// layer's norm and that head's rows of W_Q, W_K, W_V (and Qwen3's q/k norm); at ln2.hook_normalized
// the MLP's normalized input; at the last layer's hook_resid_post the logits' input. This
// mirrors core/model/transformer.cpp: with nothing removed the pass equals the model's own
// within rounding (EdgeIntervention.FullGraphIsTheModel checks it).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "analyses/circuits/eap_graph.h"
#include "hooks/hooked_model.h"

namespace headscope {

struct EdgePass {
  // [U, R] in the model's dtype: how much of each edge is swapped (see above); undefined: none.
  torch::Tensor removed;
  // The senders' replacement outputs: [B, T, U, d_model], or [U, d_model] for every row and
  // position (mean or zero ablation). Read only with `removed`.
  torch::Tensor replacement;
  // Replaces the input node's output, [B, T, d_model] (EAP-IG's interpolated embeddings);
  // undefined: the embeddings of the tokens.
  torch::Tensor input;
  // Makes the input a leaf that requires gradients and keeps every receiver's input, so that
  // the gradient of a function of the logits reaches each of them.
  bool track_gradients = false;
  // Keep every sender's output (detached).
  bool record_senders = false;
};

struct EdgePassRecord {
  torch::Tensor senders;  // [B, T, U, d_model] with record_senders
  // With track_gradients, one entry per receiver group in receiver order (per layer: the query
  // heads [B, T, H, d], the key heads [B, T, H_kv, d], the value heads, the MLP [B, T, 1, d]; then
  // the logits [B, T, 1, d]), and the first receiver and sender count of each group.
  std::vector<torch::Tensor> receiver_inputs;
  std::vector<int64_t> group_first_receiver;
  std::vector<int64_t> group_senders;
};

// Runs `tokens` [B, T] with the pass's interventions; returns the logits at `positions`.
torch::Tensor run_edge_pass(HookedModel& model, const EapGraph& graph, const torch::Tensor& tokens,
                            const EdgePass& pass, EdgePassRecord* record,
                            LogitPositions positions = LogitPositions::kAll);

}  // namespace headscope
