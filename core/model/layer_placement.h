// Pipeline placement in one process (transformers' device_map, "balanced"): consecutive layers
// on several devices, as even a number of layers on each as they go; the embedding on the
// first device, the final norm and the unembedding on the last. The residual stream moves to
// the next device at a layer boundary, so the forward pass, its hooks and the KV cache are
// unchanged (each layer's values and cache live on its device).
//
//   place_layers(5, {cuda:0, cuda:1}).layer_device == {0, 0, 0, 1, 1}
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/model/model_weights.h"

namespace headscope {

struct LayerPlacement {
  std::vector<torch::Device> devices;  // in pipeline order; a device may repeat
  std::vector<int64_t> layer_device;   // per layer, its index in `devices` (non-decreasing)

  torch::Device first() const { return devices.front(); }  // embedding
  torch::Device last() const { return devices.back(); }    // final norm, unembedding
  torch::Device of_layer(int64_t layer) const {
    return devices[static_cast<size_t>(layer_device[static_cast<size_t>(layer)])];
  }
};

// `n_layers` split over `devices` in order, the first devices taking one layer more where the
// count does not divide. Throws InvalidInput when there are no devices or more devices than
// layers (a device would hold nothing).
LayerPlacement place_layers(int64_t n_layers, const std::vector<torch::Device>& devices);

// Every tensor of `weights` moved to its device in `placement` (tensors already there are kept,
// not copied). A tied unembedding on another device than the embedding becomes a copy there.
void place_weights(ModelWeights& weights, const LayerPlacement& placement);

}  // namespace headscope
