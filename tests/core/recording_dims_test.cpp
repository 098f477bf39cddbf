// Format version 1's later parts: slab writes, attributes inside a run, dimension scales (read
// back by h5py and xarray), and the reader calls analyses use.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "core/base/float16.h"
#include "core/store/recording_reader.h"
#include "core/store/recording_writer.h"
#include "tests/support/error_message.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kLayers = 2;
constexpr int64_t kHeads = 2;
constexpr int64_t kKvHeads = 1;
constexpr int64_t kHeadDim = 4;
constexpr int64_t kModel = 8;
constexpr int64_t kVocab = 11;
constexpr int64_t kContext = 6;
constexpr int64_t kTopK = 3;
constexpr int64_t kBlockSize = 4;
constexpr int64_t kBlocks = 2;  // ceil(kContext / kBlockSize)

constexpr char kPattern0[] = "blocks.0.attn.hook_pattern";  // float16
constexpr char kPattern1[] = "blocks.1.attn.hook_pattern";  // float32
constexpr char kResid[] = "blocks.0.hook_resid_post";
constexpr char kKeys[] = "blocks.0.attn.hook_k";
constexpr char kEntropy[] = "attention_stats/entropy";
constexpr char kArgmax[] = "attention_stats/argmax";
constexpr char kTopkIndex[] = "attention_stats/topk_index";
constexpr char kTopkProb[] = "attention_stats/topk_prob";

const std::vector<std::string> kText = {"<s>", "Ġthe", "Ġcat", "Ġthe", "Ġcat", "!"};

ModelSummary tiny_model() {
  ModelSummary model;
  model.family = "llama";
  model.n_layers = kLayers;
  model.n_heads = kHeads;
  model.n_kv_heads = kKvHeads;
  model.d_head = kHeadDim;
  model.d_model = kModel;
  model.vocab_size = kVocab;
  model.model_path = "/models/tiny-llama";
  model.config_json = "{}";
  return model;
}

// Distinct values in [0.01, 0.99]; `seed` tells datasets apart.
std::vector<float> values(size_t count, int seed) {
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i] = 0.5f + 0.49f * std::sin(0.61f * static_cast<float>(i) + static_cast<float>(seed));
  }
  return out;
}

std::vector<int32_t> indices(size_t count, int seed) {
  std::vector<int32_t> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<int32_t>((i * 7 + seed) % kContext);
  return out;
}

std::vector<float> as_float16(const std::vector<float>& exact) {
  std::vector<float> rounded;
  for (float value : exact) rounded.push_back(f32_from_float16(float16_from_f32(value)));
  return rounded;
}

// What the kernels will write: every statistic created empty, then filled one layer at a time.
void write_attention_stats(RunWriter& run) {
  const int64_t per_layer = kHeads * kContext;
  for (const char* name : {"entropy", "sink_mass", "local_mass", "max_prob"}) {
    run.create_array(std::string("attention_stats/") + name, DType::kF32,
                     {kLayers, kHeads, kContext});
  }
  run.create_array(kArgmax, DType::kI32, {kLayers, kHeads, kContext});
  run.create_array(kTopkIndex, DType::kI32, {kLayers, kHeads, kContext, kTopK});
  run.create_array(kTopkProb, DType::kF16, {kLayers, kHeads, kContext, kTopK});
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    const int seed = static_cast<int>(layer);
    for (const char* name : {"entropy", "sink_mass", "local_mass", "max_prob"}) {
      run.write_slab(std::string("attention_stats/") + name, {layer, 0, 0}, {1, kHeads, kContext},
                     DType::kF32, values(per_layer, seed).data());
    }
    run.write_slab(kArgmax, {layer, 0, 0}, {1, kHeads, kContext}, DType::kI32,
                   indices(per_layer, seed).data());
    run.write_slab(kTopkIndex, {layer, 0, 0, 0}, {1, kHeads, kContext, kTopK}, DType::kI32,
                   indices(per_layer * kTopK, seed).data());
    run.write_slab(kTopkProb, {layer, 0, 0, 0}, {1, kHeads, kContext, kTopK}, DType::kF32,
                   values(per_layer * kTopK, seed).data());
    run.write_array("attention_stats/block_mass/layer_" + std::to_string(layer), DType::kF32,
                    {kHeads, kBlocks, kBlocks}, DType::kF32,
                    values(kHeads * kBlocks * kBlocks, seed).data());
  }
  run.set_attribute(kAttentionStats, kAttrBlockSize, kBlockSize);
  run.set_attribute(kAttentionStats, kAttrSink, 1);
  run.set_attribute(kAttentionStats, kAttrWindow, int64_t{2});
  run.set_attribute(kAttentionStats, kAttrTopK, kTopK);
}

// One run with patterns, activations, logits, tokens and attention statistics.
void write_full_run(RecordingWriter& writer) {
  RunWriter run = writer.begin_run();
  run.write_tokens({1, 450, 6635, 450, 6635, 29991});
  run.write_token_text(kText);
  run.set_attribute(kAttrPrompt, "the cat the cat!");
  const std::vector<float> pattern = values(kHeads * kContext * kContext, 0);
  run.write_array(kPattern0, DType::kF16, {kHeads, kContext, kContext}, DType::kF32,
                  pattern.data());
  run.write_array(kPattern1, DType::kF32, {kHeads, kContext, kContext}, DType::kF32,
                  pattern.data());
  run.write_array(kResid, DType::kF32, {kContext, kModel}, DType::kF32,
                  values(kContext * kModel, 1).data());
  run.write_array(kKeys, DType::kF16, {kContext, kKvHeads, kHeadDim}, DType::kF32,
                  values(kContext * kKvHeads * kHeadDim, 2).data());
  run.write_array(kLogits, DType::kF32, {kContext, kVocab}, DType::kF32,
                  values(kContext * kVocab, 3).data());
  write_attention_stats(run);
  run.set_attribute(kPattern0, "note", "dataset attribute");
  run.set_attribute(kAttentionStats, "temperature", 0.75);
  run.commit();
}

class RecordingDimsTest : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = path("recording.h5");
  }

  void write_file() {
    RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
    write_full_run(writer);
  }

  // Runs a Python script on the recording; returns its exit status and output.
  std::pair<int, std::string> run_python(const std::string& code) const {
    const std::string script = (dir_ / "check.py").string();
    std::ofstream(script) << code;
    const auto result = test::shell("/usr/bin/python3 '" + script + "' '" + path_ + "'");
    return {result.status, result.output};
  }

  std::string path_;
};

using test::error_message;

bool python_has(const char* modules) {
  const std::string command =
      std::string("/usr/bin/python3 -c 'import ") + modules + "' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

TEST_F(RecordingDimsTest, ReadsSlabWrittenStatsBack) {
  write_file();
  const RecordingReader reader = RecordingReader::open(path_);
  const int64_t per_layer = kHeads * kContext;
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    SCOPED_TRACE(layer);
    const int seed = static_cast<int>(layer);
    EXPECT_EQ(reader.read_f32_slice(0, kEntropy, {layer, 0, 0}, {1, kHeads, kContext}),
              values(per_layer, seed));
    EXPECT_EQ(reader.read_i32_slice(0, kArgmax, {layer, 0, 0}, {1, kHeads, kContext}),
              indices(per_layer, seed));
    EXPECT_EQ(reader.read_f32_slice(0, kTopkProb, {layer, 0, 0, 0}, {1, kHeads, kContext, kTopK}),
              as_float16(values(per_layer * kTopK, seed)));
  }
  std::vector<int32_t> all_topk = indices(per_layer * kTopK, 0);
  const std::vector<int32_t> layer1 = indices(per_layer * kTopK, 1);
  all_topk.insert(all_topk.end(), layer1.begin(), layer1.end());
  EXPECT_EQ(reader.read_i32(0, kTopkIndex), all_topk);
  EXPECT_EQ(reader.shape(0, kTopkIndex), (std::vector<int64_t>{kLayers, kHeads, kContext, kTopK}));

  EXPECT_EQ(reader.int_attribute(0, kAttentionStats, kAttrBlockSize), kBlockSize);
  EXPECT_EQ(reader.int_attribute(0, kAttentionStats, kAttrSink), 1);
  EXPECT_EQ(reader.int_attribute(0, kAttentionStats, kAttrWindow), 2);
  EXPECT_EQ(reader.int_attribute(0, kAttentionStats, kAttrTopK), kTopK);
  EXPECT_EQ(reader.attribute(0, kAttrPrompt), "the cat the cat!");
}

TEST_F(RecordingDimsTest, ReaderListsHooksAndSkipsScales) {
  write_file();
  const RecordingReader reader = RecordingReader::open(path_);
  EXPECT_EQ(reader.hooks(0), (std::vector<std::string>{kKeys, kPattern0, kResid, kPattern1}));
  EXPECT_EQ(reader.datasets(0),
            (std::vector<std::string>{
                kArgmax, "attention_stats/block_mass/layer_0", "attention_stats/block_mass/layer_1",
                kEntropy, "attention_stats/local_mass", "attention_stats/max_prob",
                "attention_stats/sink_mass", kTopkIndex, kTopkProb, kKeys, kPattern0, kResid,
                kPattern1, kLogits, "token_text", "tokens"}));
  EXPECT_TRUE(reader.has(0, kAttentionStats));
  EXPECT_TRUE(reader.has(0, kEntropy));
  EXPECT_TRUE(reader.has(0, kLogits));
  EXPECT_TRUE(reader.has(0, "pos"));  // the scale exists; datasets() leaves it out
  EXPECT_FALSE(reader.has(0, "blocks.5.attn.hook_pattern"));
  EXPECT_FALSE(reader.has(0, "nope/deeper"));

  const std::vector<float> pattern = reader.read_f32(0, kPattern1);
  const std::vector<float> head = reader.read_head(0, kPattern1, 1);
  const auto head_start = pattern.begin() + kContext * kContext;
  EXPECT_EQ(head, std::vector<float>(head_start, head_start + kContext * kContext));
  const std::string message =
      error_message<InvalidInput>([&] { reader.read_head(0, kPattern1, kHeads); });
  EXPECT_EQ(message, path_ + ": /runs/0/" + kPattern1 + ": no head 2 (2 heads)");
  EXPECT_EQ(error_message<InvalidInput>([&] { reader.read_head(0, kResid, 0); }),
            path_ + ": /runs/0/" + kResid + ": expected [n_heads, T, S]");
}

TEST_F(RecordingDimsTest, AttachesDimensionScales) {
  write_file();
  const RecordingReader reader = RecordingReader::open(path_);
  using Names = std::vector<std::string>;
  EXPECT_EQ(reader.dimensions(0, kPattern0), (Names{"head", "query", "key"}));
  EXPECT_EQ(reader.dimensions(0, kKeys), (Names{"pos", "kv_head", "d_head"}));
  EXPECT_EQ(reader.dimensions(0, kResid), (Names{"pos", "d_model"}));
  EXPECT_EQ(reader.dimensions(0, kLogits), (Names{"pos", "vocab"}));
  EXPECT_EQ(reader.dimensions(0, "tokens"), (Names{"pos"}));
  EXPECT_EQ(reader.dimensions(0, "token_text"), (Names{"pos"}));
  EXPECT_EQ(reader.dimensions(0, kArgmax), (Names{"layer", "head", "query"}));
  EXPECT_EQ(reader.dimensions(0, kTopkProb), (Names{"layer", "head", "query", "k"}));
  EXPECT_EQ(reader.dimensions(0, "attention_stats/block_mass/layer_1"),
            (Names{"head", "query_block", "key_block"}));
  EXPECT_EQ(reader.read_i32(0, "query_block"), (std::vector<int32_t>{0, kBlockSize}));
  EXPECT_EQ(reader.read_i32(0, "pos"), (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(reader.read_i32(0, "kv_head"), (std::vector<int32_t>{0}));
}

TEST_F(RecordingDimsTest, UnknownAndDisagreeingDatasetsGetNoScales) {
  {
    RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
    RunWriter run = writer.begin_run();
    run.write_tokens({1, 2, 3});
    const std::vector<float> data = values(2 * 5 * 8, 0);
    run.write_array("custom", DType::kF32, {2, 5}, DType::kF32, data.data());
    // blocks.0.hook_resid_pre comes first in name order and fixes pos at 3.
    run.write_array("blocks.0.hook_resid_pre", DType::kF32, {3, 8}, DType::kF32, data.data());
    run.write_array("blocks.1.hook_resid_pre", DType::kF32, {5, 8}, DType::kF32, data.data());
    run.write_array("blocks.2.attn.hook_pattern", DType::kF32, {5, 8}, DType::kF32, data.data());
    const float scalar = 1.5f;
    run.write_array("loss", DType::kF32, {}, DType::kF32, &scalar);
    run.commit();
  }
  const RecordingReader reader = RecordingReader::open(path_);
  using Names = std::vector<std::string>;
  EXPECT_EQ(reader.dimensions(0, "blocks.0.hook_resid_pre"), (Names{"pos", "d_model"}));
  EXPECT_EQ(reader.dimensions(0, "tokens"), (Names{"pos"}));
  EXPECT_EQ(reader.dimensions(0, "blocks.1.hook_resid_pre"), (Names{"", ""}));     // T disagrees
  EXPECT_EQ(reader.dimensions(0, "blocks.2.attn.hook_pattern"), (Names{"", ""}));  // rank 2
  EXPECT_EQ(reader.dimensions(0, "custom"), (Names{"", ""}));
  EXPECT_TRUE(reader.dimensions(0, "loss").empty());
  EXPECT_EQ(reader.read_f32(0, "loss"), std::vector<float>{1.5f});
  EXPECT_FALSE(reader.has(0, "head"));  // no dataset uses it
}

TEST_F(RecordingDimsTest, SlabErrorsNameTheDataset) {
  RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
  RunWriter run = writer.begin_run();
  run.create_array(kEntropy, DType::kF32, {kLayers, kHeads, kContext});
  const std::vector<float> data = values(kHeads * kContext * 2, 0);
  const int32_t index = 0;
  const std::string at = path_ + ": /runs/0/" + kEntropy;
  const auto slab_error = [&](std::vector<int64_t> start, std::vector<int64_t> count) {
    return error_message<InvalidInput>(
        [&] { run.write_slab(kEntropy, start, count, DType::kF32, data.data()); });
  };
  EXPECT_EQ(slab_error({2, 0, 0}, {1, kHeads, kContext}),
            at + ": slab [2, 3) of axis 0 is outside [0, 2)");
  EXPECT_EQ(slab_error({0, 0, 1}, {1, kHeads, kContext}),
            at + ": slab [1, 7) of axis 2 is outside [0, 6)");
  EXPECT_EQ(slab_error({-1, 0, 0}, {1, kHeads, kContext}),
            at + ": slab [-1, 0) of axis 0 is outside [0, 2)");
  EXPECT_EQ(slab_error({0, 0, 0}, {1, -1, kContext}),
            at + ": slab [0, -1) of axis 1 is outside [0, 2)");
  EXPECT_EQ(slab_error({0, 0}, {1, kHeads}),
            at + ": a slab of this dataset needs 3 start and count values");
  EXPECT_EQ(error_message<InvalidInput>([&] {
              run.write_slab(kEntropy, {0, 0, 0}, {1, 1, 1}, DType::kI32, &index);
            }),
            at + ": cannot store int32 data as float32");
  EXPECT_EQ(error_message<InvalidInput>([&] {
              run.write_slab("attention_stats/nope", {0}, {1}, DType::kF32, data.data());
            }),
            path_ + ": /runs/0/attention_stats/nope: no such dataset (create_array makes it)");
  EXPECT_EQ(error_message<InvalidInput>([&] { run.create_array("pos", DType::kI64, {kContext}); }),
            path_ + ": /runs/0/pos: 'pos' is reserved for the dimension scale");
  EXPECT_EQ(error_message<InvalidInput>([&] {
              run.create_array("x", DType::kF32, {2, -3});
            }),
            path_ + ": /runs/0/x: dimension 1 is negative (-3)");
  // An empty box writes nothing and needs no data.
  run.write_slab(kEntropy, {1, 0, 0}, {0, kHeads, kContext}, DType::kF32, nullptr);

  EXPECT_EQ(error_message<InvalidInput>([&] { run.set_attribute("nope", "k", 3); }),
            path_ + ": /runs/0/nope: no such dataset or group");
  EXPECT_EQ(error_message<InvalidInput>([&] { run.set_attribute("nope/x", "k", 0.5); }),
            path_ + ": /runs/0/nope/x: no such dataset or group");
  EXPECT_EQ(error_message<InvalidInput>(
                [&] { run.set_attribute(kAttentionStats, "note", std::string("\xff")); }),
            path_ +
                ": /runs/0/attention_stats: attribute 'note' must be UTF-8 without NUL "
                "bytes; byte 0 is not");
}

TEST_F(RecordingDimsTest, Float16SlabsAcrossConversionPieces) {
  // Converted writes go in pieces of 65,536 rows here (2^24 elements / 256 per row); a slab
  // straddling a piece boundary must land whole, and the untouched rows stay zero.
  constexpr int64_t kRows = 70000;
  constexpr int64_t kWidth = 256;
  const std::vector<float> data = values(1000 * kWidth, 4);
  {
    RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
    RunWriter run = writer.begin_run();
    run.create_array("wide", DType::kF16, {kRows, kWidth});
    run.write_slab("wide", {65000, 0}, {1000, kWidth}, DType::kF32, data.data());
    run.commit();
  }
  const RecordingReader reader = RecordingReader::open(path_);
  EXPECT_EQ(reader.read_f32_slice(0, "wide", {65000, 0}, {1000, kWidth}), as_float16(data));
  EXPECT_EQ(reader.read_f32_slice(0, "wide", {64999, 0}, {1, kWidth}),
            std::vector<float>(kWidth, 0.0f));
  EXPECT_EQ(reader.read_f32_slice(0, "wide", {66000, 0}, {1, kWidth}),
            std::vector<float>(kWidth, 0.0f));
}

TEST_F(RecordingDimsTest, BlockMassWithoutBlockSizeFailsCommit) {
  RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
  {
    RunWriter run = writer.begin_run();
    run.write_array("attention_stats/block_mass/layer_0", DType::kF32, {kHeads, kBlocks, kBlocks},
                    DType::kF32, values(kHeads * kBlocks * kBlocks, 0).data());
    EXPECT_EQ(error_message<InvalidInput>([&] { run.commit(); }),
              path_ +
                  ": /runs/0/attention_stats: block_mass needs a positive integer attribute "
                  "block_size");
  }
  EXPECT_EQ(writer.run_count(), 0);
}

TEST_F(RecordingDimsTest, H5pySeesDimensionsAndAttributes) {
  if (!python_has("h5py")) GTEST_SKIP() << "/usr/bin/python3 cannot import h5py (python3-h5py)";
  write_file();
  const auto [status, output] = run_python(R"PY(
import sys
import h5py, numpy as np

f = h5py.File(sys.argv[1], "r")
run = f["runs/0"]
pattern = run["blocks.0.attn.hook_pattern"]
assert [d.label for d in pattern.dims] == ["head", "query", "key"], [d.label for d in pattern.dims]
assert pattern.dims[1][0].name == "/runs/0/query", pattern.dims[1][0].name
assert pattern.dims[0][0][:].tolist() == [0, 1]
assert pattern.attrs["note"] == "dataset attribute"
assert run["tokens"].dims[0][0].name == "/runs/0/pos"
assert run["pos"][:].tolist() == list(range(6)) and run["pos"].dtype == np.int64
entropy = run["attention_stats/entropy"]
assert [d.label for d in entropy.dims] == ["layer", "head", "query"]
assert entropy.dims[0][0].name == "/runs/0/layer"
block = run["attention_stats/block_mass/layer_0"]
assert block.dims[1][0][:].tolist() == [0, 4] and block.dims[2][0][:].tolist() == [0, 4]
topk = run["attention_stats/topk_index"]
assert topk.dtype == np.int32 and topk.dims[3].label == "k" and topk.dims[3][0][:].tolist() == [0, 1, 2]
assert run["attention_stats/argmax"].dtype == np.int32
assert run["attention_stats/topk_prob"].dtype == np.float16
stats = run["attention_stats"].attrs
assert (stats["block_size"], stats["sink"], stats["window"], stats["k"]) == (4, 1, 2, 3), dict(stats)
assert stats["block_size"].dtype == np.int64
assert stats["temperature"] == 0.75 and stats["temperature"].dtype == np.float64
assert entropy.chunks == (1, 2, 6) and entropy.compression == "gzip" and entropy.shuffle
print("h5py dims ok")
)PY");
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("h5py dims ok"), std::string::npos) << output;
}

// The format promise for analyses: xarray opens a run and its statistics with named axes.
TEST_F(RecordingDimsTest, XarrayOpensRunWithNamedAxes) {
  if (!python_has("xarray, h5netcdf")) {
    GTEST_SKIP() << "/usr/bin/python3 cannot import xarray and h5netcdf "
                    "(python3-xarray, python3-h5netcdf)";
  }
  write_file();
  const auto [status, output] = run_python(R"PY(
import sys
import h5py, numpy as np, xarray as xr

path = sys.argv[1]
ds = xr.open_dataset(path, engine="h5netcdf", group="runs/0")
dims = {name: ds[name].dims for name in ds.variables}
assert dims["blocks.0.attn.hook_pattern"] == ("head", "query", "key"), dims
assert dims["blocks.1.attn.hook_pattern"] == ("head", "query", "key"), dims
assert dims["blocks.0.hook_resid_post"] == ("pos", "d_model"), dims
assert dims["blocks.0.attn.hook_k"] == ("pos", "kv_head", "d_head"), dims
assert dims["logits"] == ("pos", "vocab"), dims
assert dims["tokens"] == ("pos",) and dims["token_text"] == ("pos",), dims
# Every scale lives in the run group, the statistics' ones included.
assert dict(ds.sizes) == {"pos": 6, "query": 6, "key": 6, "head": 2, "kv_head": 1, "d_head": 4,
                          "d_model": 8, "vocab": 11, "layer": 2, "k": 3, "query_block": 2,
                          "key_block": 2}, dict(ds.sizes)
assert ds.attrs["prompt"] == "the cat the cat!", ds.attrs
assert ds["blocks.0.attn.hook_pattern"].dtype == np.float16

ds = ds.assign_coords(token=("pos", ds.token_text.values))
assert ds.token.values.tolist() == ["<s>", "Ġthe", "Ġcat", "Ġthe", "Ġcat", "!"], ds.token.values
resid = ds["blocks.0.hook_resid_post"]
assert resid.token.values[2] == "Ġcat"
raw = h5py.File(path, "r")["runs/0"]
row = ds["blocks.1.attn.hook_pattern"].sel(head=1, query=3)
assert row.dims == ("key",)
np.testing.assert_array_equal(row.values, raw["blocks.1.attn.hook_pattern"][1, 3])
np.testing.assert_array_equal(ds.logits.isel(pos=-1).values, raw["logits"][5])

stats = xr.open_dataset(path, engine="h5netcdf", group="runs/0/attention_stats")
for name in ["entropy", "sink_mass", "local_mass", "max_prob", "argmax"]:
    assert stats[name].dims == ("layer", "head", "query"), (name, stats[name].dims)
for name in ["topk_index", "topk_prob"]:
    assert stats[name].dims == ("layer", "head", "query", "k"), (name, stats[name].dims)
# ["argmax"]: stats.argmax is the Dataset method.
assert stats["argmax"].dtype == np.int32 and stats["topk_index"].dtype == np.int32
assert {k: stats.attrs[k] for k in ["block_size", "sink", "window", "k"]} == \
    {"block_size": 4, "sink": 1, "window": 2, "k": 3}, stats.attrs
np.testing.assert_array_equal(stats.entropy.isel(layer=1).values,
                              raw["attention_stats/entropy"][1])

blocks = xr.open_dataset(path, engine="h5netcdf", group="runs/0/attention_stats/block_mass")
assert blocks.layer_1.dims == ("head", "query_block", "key_block"), blocks.layer_1.dims
assert dict(blocks.sizes) == {"head": 2, "query_block": 2, "key_block": 2}, dict(blocks.sizes)
print("xarray ok")
)PY");
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("xarray ok"), std::string::npos) << output;
}

}  // namespace
}  // namespace headscope
