// Pipeline placement (core/model/layer_placement.h): the balanced split of layers over devices,
// and a model placed over several devices computing what one device computes. On the CPU a
// placement over `cpu,cpu` runs the same kernels on the same values, so every hook value and
// the logits are bitwise equal; on a GPU the bound of a float32 forward pass applies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "core/base/error.h"
#include "core/model/layer_placement.h"
#include "hooks/hooked_model.h"
#include "tests/support/error_message.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"

namespace headscope {
namespace {

namespace tol = test::tol;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const torch::Device kCpu(torch::kCPU);

TEST(LayerPlacement, SplitsLayersInOrderFirstDevicesTakingTheRemainder) {
  EXPECT_THAT(place_layers(5, {kCpu, kCpu}).layer_device, ElementsAre(0, 0, 0, 1, 1));
  EXPECT_THAT(place_layers(7, {kCpu, kCpu, kCpu}).layer_device, ElementsAre(0, 0, 0, 1, 1, 2, 2));
  EXPECT_THAT(place_layers(4, {kCpu, kCpu, kCpu, kCpu}).layer_device, ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(place_layers(3, {kCpu}).layer_device, ElementsAre(0, 0, 0));
  const auto placement =
      place_layers(3, {torch::Device(torch::kCUDA, 1), torch::Device(torch::kCUDA, 0)});
  EXPECT_EQ(placement.first(), torch::Device(torch::kCUDA, 1));
  EXPECT_EQ(placement.last(), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(placement.of_layer(1), torch::Device(torch::kCUDA, 1));
  EXPECT_EQ(placement.of_layer(2), torch::Device(torch::kCUDA, 0));
}

TEST(LayerPlacement, RefusesNoDevicesAndDevicesWithoutLayers) {
  EXPECT_THAT(test::error_message<InvalidInput>([] { place_layers(2, {}); }),
              HasSubstr("layer placement: no devices"));
  EXPECT_THAT(test::error_message<InvalidInput>([] {
                place_layers(2, {kCpu, kCpu, kCpu});
              }),
              HasSubstr("3 devices for 2 layers; each device needs at least one layer"));
}

// Every hook point of the model, the logits with hooks (explicit attention) and without (the
// fused path), and cached decoding, on one CPU device and on as many CPU "devices" as layers.
class PipelinePlacement : public ::testing::TestWithParam<std::string> {
 protected:
  std::string dir() const { return test::fixture("hf-tiny/" + GetParam()); }
};

TEST_P(PipelinePlacement, SeveralCpuDevicesEqualOneBitwise) {
  torch::NoGradGuard no_grad;
  auto one = Transformer::load(dir());
  const int64_t layers = one->config().n_layers;
  auto piped = Transformer::load(
      dir(), ModelLoadOptions().with_devices(std::vector<torch::Device>(layers, kCpu)));
  ASSERT_EQ(piped->placement().devices.size(), static_cast<size_t>(layers));
  torch::manual_seed(3);
  const auto tokens = torch::randint(one->config().vocab_size, {2, 7}, torch::kInt64);
  ActivationCache a, b;
  HookedModel hooked_one(one), hooked_piped(piped);
  const auto logits_one = hooked_one.run_with_cache(tokens, {"*"}, a);
  const auto logits_piped = hooked_piped.run_with_cache(tokens, {"*"}, b);
  EXPECT_TRUE(torch::equal(logits_piped, logits_one));
  ASSERT_EQ(b.values().size(), a.values().size());
  for (const auto& [name, value] : a.values()) {
    EXPECT_TRUE(torch::equal(b.at(name), value)) << name;
  }
  EXPECT_TRUE(torch::equal(piped->forward(tokens), one->forward(tokens)));

  KVCache cache_one, cache_piped;
  for (int64_t start : {0, 5, 6}) {
    const auto step = tokens.narrow(1, start, start == 0 ? 5 : 1);
    EXPECT_TRUE(torch::equal(piped->forward(step, nullptr, &cache_piped),
                             one->forward(step, nullptr, &cache_one)))
        << "decoding from position " << start;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PipelinePlacement, ::testing::ValuesIn(test::kFixtureFamilies));

TEST(PipelinePlacementRefusals, TensorParallelismWithSeveralDevices) {
  const auto options =
      ModelLoadOptions().with_devices({kCpu, kCpu}).with_tensor_parallel({0, 2, [](torch::Tensor&) {
                                                                          }});
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { Transformer::load(test::fixture("hf-tiny/llama"), options); }),
              HasSubstr("pipeline placement over 2 devices and tensor parallelism cannot be "
                        "combined"));
}

// Layers over every visible GPU (at most one per layer), or the CPU and the GPU where one is
// seen: each layer's weights and hook values on its device, the logits back on the first, and
// the logits and every residual stream within the float32 bound of a forward pass against the
// same model on the CPU (both are float32 passes over the same weights, in other orders).
TEST(PipelinePlacementGpu, LayersOnGpusMatchOneDevice_CUDA) {
  torch::NoGradGuard no_grad;
  const std::string dir = test::fixture("hf-tiny/llama");
  auto one = Transformer::load(dir, ModelLoadOptions().with_dtype(torch::kFloat32));
  const int64_t layers = one->config().n_layers;
  std::vector<torch::Device> devices;
  const auto gpus = static_cast<int64_t>(torch::cuda::device_count());
  if (gpus >= 2) {
    for (int64_t i = 0; i < std::min(gpus, layers); ++i) devices.emplace_back(torch::kCUDA, i);
  } else {
    devices = {kCpu, torch::Device(torch::kCUDA, 0)};
  }
  auto piped =
      Transformer::load(dir, ModelLoadOptions().with_dtype(torch::kFloat32).with_devices(devices));
  for (int64_t l = 0; l < layers; ++l) {
    EXPECT_EQ(piped->weights().layers[static_cast<size_t>(l)].wq.device(),
              piped->placement().of_layer(l));
  }
  EXPECT_EQ(piped->weights().unembed.device(), devices.back());
  torch::manual_seed(4);
  const auto tokens = torch::randint(one->config().vocab_size, {1, 9}, torch::kInt64);
  ActivationCache a, b;
  HookedModel hooked_one(one), hooked_piped(piped);
  const std::vector<std::string> points = {"blocks.0.hook_resid_pre", "blocks.*.hook_resid_post",
                                           "blocks.*.hook_attn_out", "blocks.*.hook_mlp_out",
                                           "ln_final.hook_normalized"};
  const auto logits_one = hooked_one.run_with_cache(tokens, points, a);
  const auto logits_piped = hooked_piped.run_with_cache(tokens, points, b);
  EXPECT_EQ(logits_piped.device(), devices.front());
  const ModelConfig& c = one->config();
  const int64_t seq = tokens.size(1);
  EXPECT_TRUE(tol::within(
      logits_piped.cpu(), logits_one,
      tol::logits_bound(c, seq, a.at("ln_final.hook_normalized"), one->weights().unembed),
      "logits"));
  // The residual stream errs relative to the magnitude of its terms: the embedding and every
  // earlier attention and MLP output (as in the parity test).
  auto magnitude = a.at("blocks.0.hook_resid_pre").to(torch::kFloat64).abs();
  for (int64_t l = 0; l < layers; ++l) {
    const std::string block = "blocks." + std::to_string(l);
    magnitude = magnitude + a.at(block + ".hook_attn_out").to(torch::kFloat64).abs() +
                a.at(block + ".hook_mlp_out").to(torch::kFloat64).abs();
    const std::string name = block + ".hook_resid_post";
    EXPECT_EQ(b.at(name).device(), piped->placement().of_layer(l)) << name;
    EXPECT_TRUE(tol::within(b.at(name).cpu(), a.at(name),
                            2.0 * tol::forward_gamma(c, seq, l + 1, false) * magnitude, name));
  }
}

}  // namespace
}  // namespace headscope
