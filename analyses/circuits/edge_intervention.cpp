#include "analyses/circuits/edge_intervention.h"

#include <memory>
#include <string>

#include <torch/torch.h>

#include "core/base/error.h"

namespace headscope {
namespace {

// The model's norms as core/model/transformer.cpp computes them: RMSNorm in float32, scaled in
// the input dtype; LayerNorm over the last dimension.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return w * normed.to(x.scalar_type());
}

torch::Tensor model_norm(const ModelConfig& c, const torch::Tensor& x, const torch::Tensor& w,
                         const torch::Tensor& b) {
  if (c.norm == NormKind::kLayerNorm) return torch::layer_norm(x, {x.size(-1)}, w, b, c.norm_eps);
  return rms_norm(x, w, c.norm_eps);
}

// q, k or v [B, T, n, D] of n heads, head i from its own input in[:, :, i] [B, T, n, d_model].
torch::Tensor project_heads(const ModelConfig& c, const LayerWeights& w, ReceiverKind kind,
                            const torch::Tensor& in) {
  const torch::Tensor& weight = kind == ReceiverKind::kQ   ? w.wq
                                : kind == ReceiverKind::kK ? w.wk
                                                           : w.wv;
  const torch::Tensor& bias = kind == ReceiverKind::kQ   ? w.bq
                              : kind == ReceiverKind::kK ? w.bk
                                                         : w.bv;
  const int64_t n = in.size(2);
  auto out = torch::einsum("btnm,ndm->btnd",
                           {model_norm(c, in, w.ln1_w, w.ln1_b), weight.view({n, c.d_head, -1})});
  if (bias.defined()) out = out + bias.view({n, c.d_head});
  if (c.qk_norm && kind != ReceiverKind::kV) {
    out = rms_norm(out, kind == ReceiverKind::kQ ? w.q_norm : w.k_norm, c.norm_eps);
  }
  return out;
}

// What the hooks of one pass share.
struct PassState {
  const EdgePass* pass = nullptr;
  EdgePassRecord* record = nullptr;
  // The senders' outputs so far, [B, T, n, d] each, in sender order.
  std::vector<torch::Tensor> outputs;
  int64_t sender_count = 0;
  // Σ_u removed[u, ·] (a_u − replacement_u) needs the differences of the senders so far; they
  // are concatenated once per sender count.
  torch::Tensor differences;
  int64_t differences_count = -1;
  std::vector<torch::Tensor> resid_pre, resid_mid;

  void add_output(torch::Tensor out) {
    sender_count += out.size(2);
    outputs.push_back(std::move(out));
  }

  const torch::Tensor& differences_of(int64_t senders) {
    HS_ASSERT(senders <= sender_count);
    if (differences_count != sender_count) {
      const torch::Tensor all = torch::cat(outputs, 2);
      const torch::Tensor& rep = pass->replacement;
      differences = all - rep.narrow(rep.dim() - 2, 0, sender_count);
      differences_count = sender_count;
    }
    return differences;
  }

  // The inputs [B, T, n, d] of receivers first .. first + n - 1, which read `senders` senders,
  // from the residual stream x [B, T, d].
  torch::Tensor receiver_inputs(const torch::Tensor& x, int64_t first, int64_t n, int64_t senders) {
    torch::Tensor in = x.unsqueeze(2).expand({x.size(0), x.size(1), n, x.size(2)});
    if (pass->removed.defined()) {
      const torch::Tensor weights = pass->removed.narrow(0, 0, senders).narrow(1, first, n);
      in = in -
           torch::einsum("btud,ur->btrd", {differences_of(senders).narrow(2, 0, senders), weights});
    }
    if (pass->track_gradients) {
      record->receiver_inputs.push_back(in);
      record->group_first_receiver.push_back(first);
      record->group_senders.push_back(senders);
    }
    return in;
  }
};

}  // namespace

torch::Tensor run_edge_pass(HookedModel& model, const EapGraph& graph, const torch::Tensor& tokens,
                            const EdgePass& pass, EdgePassRecord* record,
                            LogitPositions positions) {
  HS_ASSERT(record != nullptr || (!pass.track_gradients && !pass.record_senders));
  HS_ASSERT(!pass.removed.defined() || pass.replacement.defined());
  const Transformer& transformer = model.model();
  const ModelConfig& c = transformer.config();
  auto state = std::make_shared<PassState>();
  state->pass = &pass;
  state->record = record;
  state->resid_pre.resize(static_cast<size_t>(c.n_layers));
  state->resid_mid.resize(static_cast<size_t>(c.n_layers));
  if (record != nullptr) *record = EdgePassRecord{};
  const bool split = pass.removed.defined() || pass.track_gradients;
  const auto& weights = transformer.weights();

  ScopedHooks hooks(model);
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    const auto at = [layer](HookKind kind) { return HookPoint{layer, kind}; };
    const LayerWeights& w = weights.layers[static_cast<size_t>(layer)];
    hooks.add(at(HookKind::kResidPre),
              [state, layer, &pass](const torch::Tensor& x, const HookContext&) {
                std::optional<torch::Tensor> replaced;
                if (layer == 0) {
                  torch::Tensor input = pass.input.defined() ? pass.input : x;
                  if (pass.track_gradients) input = input.detach().requires_grad_(true);
                  if (pass.input.defined() || pass.track_gradients) replaced = input;
                  state->add_output(input.unsqueeze(2));
                }
                state->resid_pre[static_cast<size_t>(layer)] = replaced ? *replaced : x;
                return replaced;
              });
    if (split) {
      for (ReceiverKind kind : {ReceiverKind::kQ, ReceiverKind::kK, ReceiverKind::kV}) {
        const HookKind point = kind == ReceiverKind::kQ   ? HookKind::kQ
                               : kind == ReceiverKind::kK ? HookKind::kK
                                                          : HookKind::kV;
        hooks.add(at(point), [state, layer, kind, &c, &w, &graph](const torch::Tensor& value,
                                                                  const HookContext&) {
          const torch::Tensor in = state->receiver_inputs(
              state->resid_pre[static_cast<size_t>(layer)], graph.first_receiver(layer, kind),
              value.size(2), graph.senders_before_attention(layer));
          return std::optional<torch::Tensor>(project_heads(c, w, kind, in));
        });
      }
    }
    hooks.add(at(HookKind::kZ), [state, &c, &w](const torch::Tensor& z, const HookContext&) {
      state->add_output(
          torch::einsum("bthd,mhd->bthm", {z, w.wo.view({c.d_model, c.n_heads, c.d_head})}));
      return std::nullopt;
    });
    if (!c.parallel_residual) {
      hooks.add(at(HookKind::kResidMid),
                [state, layer](const torch::Tensor& x, const HookContext&) {
                  state->resid_mid[static_cast<size_t>(layer)] = x;
                  return std::nullopt;
                });
    }
    if (split) {
      hooks.add(at(HookKind::kLn2Normalized), [state, layer, &c, &w, &graph](const torch::Tensor&,
                                                                             const HookContext&) {
        const auto& x = c.parallel_residual ? state->resid_pre[static_cast<size_t>(layer)]
                                            : state->resid_mid[static_cast<size_t>(layer)];
        const torch::Tensor in = state->receiver_inputs(
            x, graph.first_receiver(layer, ReceiverKind::kMlp), 1, graph.senders_before_mlp(layer));
        return std::optional<torch::Tensor>(model_norm(c, in.squeeze(2), w.ln2_w, w.ln2_b));
      });
    }
    hooks.add(at(HookKind::kMlpOut), [state](const torch::Tensor& out, const HookContext&) {
      state->add_output(out.unsqueeze(2));
      return std::nullopt;
    });
  }
  if (split) {
    hooks.add(HookPoint{c.n_layers - 1, HookKind::kResidPost},
              [state, &graph](const torch::Tensor& x, const HookContext&) {
                const torch::Tensor in =
                    state->receiver_inputs(x, graph.logits_receiver(), 1, graph.senders());
                return std::optional<torch::Tensor>(in.squeeze(2));
              });
  }
  torch::Tensor logits = model.forward(tokens, nullptr, positions);
  HS_ASSERT(state->sender_count == graph.senders());
  if (pass.record_senders) record->senders = torch::cat(state->outputs, 2).detach();
  return logits;
}

}  // namespace headscope
