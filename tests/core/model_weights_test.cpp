// A checkpoint that does not fit its config fails with the tensor's name and expected shape.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/checkpoint/checkpoint_weights.h"
#include "core/checkpoint/safetensors.h"
#include "core/model/transformer.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Copies the llama fixture into `dir`, rewriting its weights through `edit`.
std::string edited_llama(const fs::path& dir,
                         const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  const fs::path src = test::fixture("hf-tiny/llama");
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

class ModelWeights : public test::TempDirTest {};

std::string load_error(const std::string& dir) {
  try {
    Transformer::load(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(ModelWeights, MissingTensorIsNamed) {
  auto dir = edited_llama(dir_ / "missing", [](std::vector<TensorToWrite>& t) {
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

TEST_F(ModelWeights, ShapeMismatchNamesTensorAndBothShapes) {
  auto dir = edited_llama(dir_ / "shape", [](std::vector<TensorToWrite>& t) {
    for (auto& w : t) {
      if (w.name == "model.norm.weight") w.shape = {32, 2};
    }
  });
  auto message = load_error(dir);
  EXPECT_THAT(message, HasSubstr("model.norm.weight"));
  EXPECT_THAT(message, HasSubstr("[32, 2]"));
  EXPECT_THAT(message, HasSubstr("expected [64]"));
}

TEST_F(ModelWeights, IntegerWeightsAreRejected) {
  auto dir = edited_llama(dir_ / "dtype", [](std::vector<TensorToWrite>& t) {
    for (auto& w : t) {
      if (w.name == "model.norm.weight") w.dtype = DType::kI32;
    }
  });
  EXPECT_THAT(load_error(dir), HasSubstr("int32"));
}

TEST_F(ModelWeights, CpuFloat32WeightsAreViewsOfTheMapping) {
  auto model = Transformer::load(test::fixture("hf-tiny/llama"));
  // No copy: the embedding's storage is not owned by LibTorch's allocator.
  EXPECT_FALSE(model->weights().embed.storage().resizable());
  EXPECT_EQ(model->weights().parameter_count(), 139584);
}

// A checkpoint with more layers than config.json, or with a tensor the model does not read, is
// refused, naming the first leftover tensors: the model would otherwise run silently truncated.
TEST_F(ModelWeights, CheckpointTensorsTheModelDoesNotUseAreRefused) {
  const std::string extra = edited_llama(dir_ / "extra", [](std::vector<TensorToWrite>& t) {
    const auto norm = std::find_if(t.begin(), t.end(), [](const TensorToWrite& w) {
      return w.name == "model.norm.weight";
    });
    TensorToWrite copy = *norm;
    copy.name = "model.extra_norm.weight";
    t.push_back(copy);
  });
  EXPECT_THAT(load_error(extra), HasSubstr("checkpoint holds 1 tensor the llama model does not "
                                           "use (model.extra_norm.weight)"));

  const std::string fewer_layers = edited_llama(dir_ / "fewer_layers", [](std::vector<TensorToWrite>&) {});
  {
    std::ifstream in(fs::path(fewer_layers) / "config.json");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const size_t at = text.find("\"num_hidden_layers\": 2");
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, 22, "\"num_hidden_layers\": 1");
    std::ofstream(fs::path(fewer_layers) / "config.json") << text;
  }
  const std::string message = load_error(fewer_layers);
  EXPECT_THAT(message, HasSubstr("model.layers.1."));
  EXPECT_THAT(message, HasSubstr("config.json has 1 layers but the checkpoint holds more"));

  // Saved buffers (causal masks, rotary inv_freq) are not parameters and load as before.
  const std::string buffers = edited_llama(dir_ / "buffers", [](std::vector<TensorToWrite>& t) {
    const auto norm = std::find_if(t.begin(), t.end(), [](const TensorToWrite& w) {
      return w.name == "model.norm.weight";
    });
    TensorToWrite copy = *norm;
    copy.name = "model.layers.0.self_attn.rotary_emb.inv_freq";
    t.push_back(copy);
  });
  EXPECT_NO_THROW(Transformer::load(buffers));
}

// A model directory whose weight file cannot be inspected (a symlink loop) is an IoError naming
// it, not an escaping std::filesystem::filesystem_error.
TEST_F(ModelWeights, UninspectableWeightFileIsIoError) {
  const std::string dir = edited_llama(dir_ / "loop", [](std::vector<TensorToWrite>&) {});
  const fs::path weights = fs::path(dir) / "model.safetensors";
  fs::remove(weights);
  fs::create_symlink(weights, weights);
  try {
    CheckpointWeights::open(dir);
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr(weights.string()));
    EXPECT_THAT(e.what(), HasSubstr("Too many levels of symbolic links"));
  }
  fs::remove(weights);
}

}  // namespace
}  // namespace headscope
