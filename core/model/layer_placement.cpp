#include "core/model/layer_placement.h"

#include <string>

#include "core/base/error.h"

namespace headscope {

LayerPlacement place_layers(int64_t n_layers, const std::vector<torch::Device>& devices) {
  const auto count = static_cast<int64_t>(devices.size());
  if (count == 0) throw InvalidInput("layer placement: no devices");
  if (count > n_layers) {
    throw InvalidInput("layer placement: " + std::to_string(count) + " devices for " +
                       std::to_string(n_layers) + " layers; each device needs at least one layer");
  }
  LayerPlacement placement;
  placement.devices = devices;
  const int64_t base = n_layers / count, extra = n_layers % count;
  for (int64_t d = 0; d < count; ++d) {
    for (int64_t i = 0; i < base + (d < extra ? 1 : 0); ++i) placement.layer_device.push_back(d);
  }
  return placement;
}

namespace {

void move(torch::Tensor& t, torch::Device device) {
  if (t.defined() && t.device() != device) t = t.to(device);
}

}  // namespace

void place_weights(ModelWeights& w, const LayerPlacement& placement) {
  HS_ASSERT(placement.layer_device.size() == w.layers.size());
  move(w.embed, placement.first());
  move(w.pos_embed, placement.first());
  move(w.final_norm_w, placement.last());
  move(w.final_norm_b, placement.last());
  move(w.unembed, placement.last());
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const torch::Device device = placement.of_layer(static_cast<int64_t>(l));
    LayerWeights& layer = w.layers[l];
    for (torch::Tensor* t :
         {&layer.ln1_w, &layer.ln1_b, &layer.ln2_w, &layer.ln2_b, &layer.wq, &layer.wk, &layer.wv,
          &layer.bq, &layer.bk, &layer.bv, &layer.wo, &layer.bo, &layer.q_norm, &layer.k_norm,
          &layer.w_gate, &layer.w_up, &layer.w_down, &layer.b_up, &layer.b_down}) {
      move(*t, device);
    }
  }
}

}  // namespace headscope
