// A checkpoint that does not fit its config fails with the tensor's name and expected shape.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/transformer.h"
#include "tests/support/fixtures.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Copies the llama fixture into a temp dir, rewriting its weights through `edit`.
std::string edited_llama(const std::string& name,
                         const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  const fs::path src = test::fixture("hf-tiny/llama");
  const fs::path dir = fs::temp_directory_path() / ("headscope_weights_" + name);
  fs::create_directories(dir);
  fs::copy_file(src / "config.json", dir / "config.json", fs::copy_options::overwrite_existing);
  auto file = SafetensorsFile::open((src / "model.safetensors").string());
  std::vector<TensorToWrite> tensors;
  for (const auto& info : file.tensors()) {
    tensors.push_back({info.name, info.dtype, info.shape, file.data(info)});
  }
  edit(tensors);
  write_safetensors((dir / "model.safetensors").string(), tensors);
  return dir.string();
}

std::string load_error(const std::string& dir) {
  try {
    Transformer::load(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelWeights, MissingTensorIsNamed) {
  auto dir = edited_llama("missing", [](std::vector<TensorToWrite>& t) {
    t.erase(std::remove_if(t.begin(), t.end(),
                           [](const TensorToWrite& w) {
                             return w.name == "model.layers.1.self_attn.k_proj.weight";
                           }),
            t.end());
  });
  auto message = load_error(dir);
  EXPECT_THAT(message, HasSubstr("model.layers.1.self_attn.k_proj.weight"));
  EXPECT_THAT(message, HasSubstr("[32, 64]"));
}

TEST(ModelWeights, ShapeMismatchNamesTensorAndBothShapes) {
  auto dir = edited_llama("shape", [](std::vector<TensorToWrite>& t) {
    for (auto& w : t) {
      if (w.name == "model.norm.weight") w.shape = {32, 2};
    }
  });
  auto message = load_error(dir);
  EXPECT_THAT(message, HasSubstr("model.norm.weight"));
  EXPECT_THAT(message, HasSubstr("[32, 2]"));
  EXPECT_THAT(message, HasSubstr("expected [64]"));
}

TEST(ModelWeights, IntegerWeightsAreRejected) {
  auto dir = edited_llama("dtype", [](std::vector<TensorToWrite>& t) {
    for (auto& w : t) {
      if (w.name == "model.norm.weight") w.dtype = DType::kI32;
    }
  });
  EXPECT_THAT(load_error(dir), HasSubstr("int32"));
}

TEST(ModelWeights, CpuFloat32WeightsAreViewsOfTheMapping) {
  auto model = Transformer::load(test::fixture("hf-tiny/llama"));
  // No copy: the embedding's storage is not owned by LibTorch's allocator.
  EXPECT_FALSE(model->weights().embed.storage().resizable());
  EXPECT_EQ(model->weights().parameter_count(), 139584);
}

}  // namespace
}  // namespace headscope
