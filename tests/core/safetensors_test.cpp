#include "core/checkpoint/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>

#include "core/base/error.h"
#include "core/base/mapped_file.h"
#include "core/checkpoint/checkpoint_weights.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;

// Passes when `fn` throws exactly an E (or subclass) whose message contains `needle`.
template <typename E, typename Fn>
testing::AssertionResult throws_with(Fn&& fn, const std::string& needle) {
  try {
    fn();
  } catch (const E& e) {
    if (std::string(e.what()).find(needle) != std::string::npos) {
      return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "message \"" << e.what() << "\" lacks \"" << needle
                                       << "\"";
  } catch (const std::exception& e) {
    return testing::AssertionFailure() << "wrong exception type: " << e.what();
  }
  return testing::AssertionFailure() << "nothing thrown";
}

std::vector<uint8_t> file_bytes(uint64_t header_len, const std::string& header, size_t data_size) {
  std::vector<uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(header_len >> (8 * i));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + data_size, 0);
  return bytes;
}

// A safetensors file whose header is `header` and whose data section is `data_size` zeros.
std::vector<uint8_t> file_bytes(const std::string& header, size_t data_size) {
  return file_bytes(header.size(), header, data_size);
}

void parse(const std::vector<uint8_t>& bytes) {
  parse_safetensors_header(bytes.data(), bytes.size(), "bad.safetensors");
}

// One tensor entry "w": {...} with the given fields, in a header with nothing else.
std::string one_tensor(const std::string& fields) { return "{\"w\": {" + fields + "}}"; }

class TempDir : public test::TempDirTest {
 protected:
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
  }
  void write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    write(name, std::string(bytes.begin(), bytes.end()));
  }
};

using SafetensorsTest = TempDir;
using MappedFileTest = TempDir;
using CheckpointWeightsTest = TempDir;
using SafetensorsFuzzTest = TempDir;

TEST_F(MappedFileTest, MapsContentsAndMoves) {
  write("a.bin", "hello");
  MappedFile file(path("a.bin"));
  ASSERT_EQ(file.size(), 5u);
  EXPECT_EQ(std::memcmp(file.data(), "hello", 5), 0);
  MappedFile moved(std::move(file));
  EXPECT_EQ(moved.size(), 5u);
  EXPECT_EQ(moved.path(), path("a.bin"));
  EXPECT_EQ(file.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is defined
}

TEST_F(MappedFileTest, EmptyFileHasNoMapping) {
  write("empty.bin", "");
  MappedFile file(path("empty.bin"));
  EXPECT_EQ(file.size(), 0u);
  EXPECT_EQ(file.data(), nullptr);
}

TEST_F(MappedFileTest, MissingFileAndDirectoryNameThePath) {
  EXPECT_TRUE(throws_with<IoError>([&] { MappedFile{path("missing.bin")}; }, "missing.bin"));
  EXPECT_TRUE(throws_with<IoError>([&] { MappedFile{dir_.string()}; }, dir_.string()));
}

TEST_F(SafetensorsTest, RoundTripsTensorsAndMetadata) {
  const std::vector<float> weight = {1, 2, 3, 4, 5, 6};
  const std::vector<uint16_t> half = {0x3f80, 0x4000, 0xbf80};
  const int64_t scalar = -7;
  write_safetensors(path("rt.safetensors"),
                    {{"w", DType::kF32, {2, 3}, weight.data()},
                     {"b", DType::kBF16, {3}, half.data()},
                     {"step", DType::kI64, {}, &scalar},
                     {"empty", DType::kU8, {0, 5}, nullptr}},
                    {{"format", "pt"}});
  EXPECT_FALSE(fs::exists(path("rt.safetensors.tmp")));

  const auto file = SafetensorsFile::open(path("rt.safetensors"));
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(file.tensors().size(), 4u);
  EXPECT_EQ(file.find("missing"), nullptr);

  const TensorInfo* w = file.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, DType::kF32);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->numel(), 6);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(file.data(*w)) % 8, 0u);  // header padding aligns data
  EXPECT_EQ(std::memcmp(file.data(*w), weight.data(), 24), 0);

  const TensorInfo* b = file.find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, DType::kBF16);
  EXPECT_EQ(std::memcmp(file.data(*b), half.data(), 6), 0);

  const TensorInfo* step = file.find("step");
  ASSERT_NE(step, nullptr);
  EXPECT_TRUE(step->shape.empty());
  EXPECT_EQ(step->numel(), 1);
  EXPECT_EQ(std::memcmp(file.data(*step), &scalar, 8), 0);

  const TensorInfo* empty = file.find("empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->numel(), 0);
  EXPECT_EQ(empty->begin, empty->end);
}

TEST_F(SafetensorsTest, WriterRejectsBadTensorsAndLeavesNoFile) {
  const float x = 1;
  EXPECT_TRUE(throws_with<InvalidInput>(
      [&] {
        write_safetensors(path("dup.safetensors"),
                          {{"x", DType::kF32, {1}, &x}, {"x", DType::kF32, {1}, &x}});
      },
      "tensor 'x'"));
  EXPECT_TRUE(throws_with<InvalidInput>(
      [&] { write_safetensors(path("neg.safetensors"), {{"x", DType::kF32, {-1}, &x}}); },
      "tensor 'x': invalid shape [-1]"));
  EXPECT_TRUE(throws_with<IoError>(
      [&] { write_safetensors(path("no/such/dir.safetensors"), {{"x", DType::kF32, {1}, &x}}); },
      "dir.safetensors"));
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(SafetensorsTest, ReadsGpt2Fixture) {
  const auto file = SafetensorsFile::open(test::fixture("hf-tiny/gpt2/model.safetensors"));
  EXPECT_EQ(file.tensors().size(), 28u);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const TensorInfo* c_attn = file.find("transformer.h.0.attn.c_attn.weight");
  ASSERT_NE(c_attn, nullptr);
  EXPECT_EQ(c_attn->dtype, DType::kF32);
  EXPECT_EQ(c_attn->shape, (std::vector<int64_t>{64, 192}));
  const TensorInfo* wte = file.find("transformer.wte.weight");
  ASSERT_NE(wte, nullptr);
  EXPECT_EQ(wte->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_NE(file.find("transformer.h.1.mlp.c_proj.bias"), nullptr);
  EXPECT_EQ(file.find("transformer.h.2.mlp.c_proj.bias"), nullptr);
  // A learned embedding is not all zeros: the pointer reaches real data.
  const float* row = reinterpret_cast<const float*>(file.data(*wte));
  EXPECT_TRUE(std::any_of(row, row + 64, [](float v) { return v != 0.0f; }));
}

TEST_F(SafetensorsTest, ReadsEveryFixtureModel) {
  for (const char* model : {"gpt2", "gpt_neox", "llama", "llama_bf16", "llama_sharded", "mistral",
                            "qwen2", "qwen3"}) {
    SCOPED_TRACE(model);
    const std::string dir = test::fixture(std::string("hf-tiny/") + model);
    const auto weights = CheckpointWeights::open(dir);
    EXPECT_GT(weights.names().size(), 10u);
    EXPECT_GT(weights.total_numel(), 100000u);
    EXPECT_GT(SafetensorsFile::open(dir + "/reference.safetensors").tensors().size(), 0u);
  }
  const auto bf16 = CheckpointWeights::open(test::fixture("hf-tiny/llama_bf16"));
  EXPECT_EQ(bf16.find("model.norm.weight")->info->dtype, DType::kBF16);
}

TEST_F(CheckpointWeightsTest, ShardedLlamaFindsEveryTensor) {
  const std::string dir = test::fixture("hf-tiny/llama_sharded");
  std::ifstream index_file(dir + "/model.safetensors.index.json");
  const auto index = nlohmann::json::parse(index_file);
  const auto sharded = CheckpointWeights::open(dir);
  const auto single = CheckpointWeights::open(test::fixture("hf-tiny/llama"));

  ASSERT_EQ(sharded.names().size(), index["weight_map"].size());
  EXPECT_EQ(sharded.names(), single.names());
  EXPECT_EQ(sharded.total_numel(), 139584u);  // the index's metadata.total_parameters
  for (const auto& [name, shard] : index["weight_map"].items()) {
    SCOPED_TRACE(name);
    const auto entry = sharded.find(name);
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(fs::path(entry->file->path()).filename().string(), shard.get<std::string>());
    EXPECT_EQ(entry->info->name, name);
    EXPECT_EQ(entry->info->shape, single.find(name)->info->shape);
  }
  EXPECT_FALSE(sharded.find("model.layers.2.mlp.up_proj.weight").has_value());
}

TEST_F(CheckpointWeightsTest, BadIndexFilesNameTheProblem) {
  const float x = 1;
  write_safetensors(path("shard-1.safetensors"), {{"a", DType::kF32, {1}, &x}});
  const auto open_with_index = [&](const std::string& index) {
    write("model.safetensors.index.json", index);
    return [this] { CheckpointWeights::open(dir_.string()); };
  };
  EXPECT_TRUE(throws_with<InvalidInput>(open_with_index("{\"weight_map\": {"),
                                        "model.safetensors.index.json: not valid JSON"));
  EXPECT_TRUE(throws_with<InvalidInput>(open_with_index("{\"metadata\": {}}"), "weight_map"));
  EXPECT_TRUE(throws_with<InvalidInput>(open_with_index("{\"weight_map\": {\"a\": 3}}"),
                                        "tensor 'a'"));
  EXPECT_TRUE(throws_with<IoError>(
      open_with_index("{\"weight_map\": {\"a\": \"shard-2.safetensors\"}}"),
      "shard 'shard-2.safetensors' does not exist"));
  EXPECT_TRUE(throws_with<InvalidInput>(
      open_with_index("{\"weight_map\": {\"a\": \"../x/shard-1.safetensors\"}}"),
      "shard '../x/shard-1.safetensors' is not inside the model directory"));
  EXPECT_TRUE(throws_with<InvalidInput>(
      open_with_index("{\"weight_map\": {\"a\": \"/etc/passwd\"}}"), "'/etc/passwd'"));
  EXPECT_TRUE(throws_with<InvalidInput>(
      open_with_index("{\"weight_map\": {\"a\": \"shard-1.safetensors\", "
                      "\"b\": \"shard-1.safetensors\"}}"),
      "tensor 'b': listed in shard 'shard-1.safetensors', which does not contain it"));

  const auto ok = open_with_index("{\"weight_map\": {\"a\": \"./shard-1.safetensors\"}}");
  ok();
}

TEST_F(CheckpointWeightsTest, EmptyDirectoryIsAnIoErrorNamingIt) {
  EXPECT_TRUE(throws_with<IoError>([&] { CheckpointWeights::open(dir_.string()); },
                                   dir_.string() + ": no model.safetensors"));
}

TEST_F(CheckpointWeightsTest, CorruptShardNamesTheShard) {
  write("model.safetensors", file_bytes(one_tensor("\"dtype\": \"F32\""), 0));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { CheckpointWeights::open(dir_.string()); },
                                        path("model.safetensors") + ": tensor 'w'"));
}

TEST(SafetensorsCorruptTest, FileAndHeaderFraming) {
  EXPECT_TRUE(throws_with<InvalidInput>([] { parse({1, 2, 3}); },
                                        "bad.safetensors: 3 bytes is too short"));
  EXPECT_TRUE(throws_with<InvalidInput>([] { parse(file_bytes(100, "{}", 10)); },
                                        "bad.safetensors: header length 100 runs past the end"));
  EXPECT_TRUE(throws_with<InvalidInput>([] { parse(file_bytes(uint64_t{1} << 63, "{}", 0)); },
                                        "header length 9223372036854775808 runs past"));
  EXPECT_TRUE(throws_with<InvalidInput>([] { parse(file_bytes(~uint64_t{0}, "{}", 0)); },
                                        "runs past the end"));
  EXPECT_TRUE(throws_with<InvalidInput>([] { parse(file_bytes("{\"w\": ", 0)); },
                                        "bad.safetensors: header is not valid JSON"));
  EXPECT_TRUE(throws_with<InvalidInput>([] { parse(file_bytes("[1, 2]", 0)); },
                                        "bad.safetensors: header must be a JSON object"));
  EXPECT_TRUE(throws_with<InvalidInput>([] { parse(file_bytes("{\"__metadata__\": {\"a\": 1}}", 0)); },
                                        "__metadata__: value of 'a' must be a string"));
}

TEST(SafetensorsCorruptTest, HeaderOverLimitIsRejectedWithoutParsing) {
  const uint64_t header_len = 100'000'001;
  std::vector<uint8_t> bytes = file_bytes(header_len, "", header_len);
  EXPECT_TRUE(throws_with<InvalidInput>([&] { parse(bytes); }, "exceeds the limit"));
}

TEST(SafetensorsCorruptTest, EmptyHeaderAndPaddingAreValid) {
  const auto header = parse_safetensors_header(file_bytes("{}      ", 0).data(), 16, "ok");
  EXPECT_TRUE(header.tensors.empty());
  EXPECT_EQ(header.data_offset, 16u);
}

TEST(SafetensorsCorruptTest, TensorEntriesNameTheTensor) {
  const std::string dtype = "\"dtype\": \"F32\", ";
  const std::string shape = "\"shape\": [2, 2], ";
  const std::string offsets = "\"data_offsets\": [0, 16]";
  const auto expect = [](const std::string& header, size_t data, const std::string& message) {
    const auto bytes = file_bytes(header, data);
    EXPECT_TRUE(throws_with<InvalidInput>([&] { parse(bytes); }, "bad.safetensors: tensor 'w': "))
        << header;
    EXPECT_TRUE(throws_with<InvalidInput>([&] { parse(bytes); }, message)) << header;
  };
  expect(one_tensor(dtype + shape + offsets + ", \"extra\": 1"), 16, "unknown field 'extra'");
  expect(one_tensor(dtype + shape.substr(0, shape.size() - 2)), 16, "missing field 'data_offsets'");
  expect("{\"w\": [1]}", 16, "expected an object");
  expect(one_tensor("\"dtype\": \"Q4\", " + shape + offsets), 16, "unknown dtype \"Q4\"");
  expect(one_tensor("\"dtype\": 4, " + shape + offsets), 16, "unknown dtype 4");
  expect(one_tensor(dtype + "\"shape\": [2, -2], " + offsets), 16, "dimension 1 is -2");
  expect(one_tensor(dtype + "\"shape\": [2.5], " + offsets), 16, "dimension 0 is 2.5");
  expect(one_tensor(dtype + "\"shape\": 4, " + offsets), 16, "shape must be an array");
  expect(one_tensor(dtype + "\"shape\": [9223372036854775808], " + offsets), 16,
         "dimension 0 is 9223372036854775808");
  expect(one_tensor(dtype + "\"shape\": [4294967296, 4294967296], " + offsets), 16,
         "more than 2^63 elements");
  expect(one_tensor(dtype + "\"shape\": [4611686018427387904], " + offsets), 16,
         "needs more than 2^64");
  expect(one_tensor(dtype + shape + "\"data_offsets\": [0, 32]"), 16,
         "data_offsets [0, 32] run past the data section of 16 bytes");
  expect(one_tensor(dtype + shape + "\"data_offsets\": [16, 0]"), 16,
         "data_offsets [16, 0] end before they begin");
  expect(one_tensor(dtype + shape + "\"data_offsets\": [0, -16]"), 16, "got [0, -16]");
  expect(one_tensor(dtype + shape + "\"data_offsets\": [0]"), 16, "data_offsets must be [begin, end]");
  expect(one_tensor(dtype + shape + "\"data_offsets\": [0, 12]"), 16,
         "data_offsets [0, 12] hold 12 bytes but shape [2, 2] x F32 needs 16");
}

TEST(SafetensorsCorruptTest, OverlappingRangesNameBothTensors) {
  const std::string header =
      "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
      " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [12, 28]},"
      " \"c\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]}}";
  EXPECT_TRUE(throws_with<InvalidInput>(
      [&] { parse(file_bytes(header, 28)); },
      "tensor 'b': data_offsets [12, 28] overlap those of tensor 'a' [0, 16]"));
}

TEST_F(SafetensorsTest, TruncatedFileOnDiskNamesPathAndTensor) {
  const std::vector<float> w(8, 1.0f);
  write_safetensors(path("t.safetensors"), {{"w", DType::kF32, {8}, w.data()}});
  fs::resize_file(path("t.safetensors"), fs::file_size(path("t.safetensors")) - 4);
  EXPECT_TRUE(throws_with<InvalidInput>(
      [&] { SafetensorsFile::open(path("t.safetensors")); },
      path("t.safetensors") + ": tensor 'w': data_offsets [0, 32] run past"));
}

// Mutations of a valid file must end in success or a headscope::Error: never another exception,
// never a crash. Half the replacement bytes come from JSON punctuation to get past the lexer.
TEST_F(SafetensorsFuzzTest, MutatedFilesOnlyThrowHeadscopeErrors) {
  const std::vector<float> data(16, 0.5f);
  write_safetensors(path("seed.safetensors"),
                    {{"a.weight", DType::kF32, {2, 4}, data.data()},
                     {"a.bias", DType::kF16, {4}, data.data()},
                     {"b", DType::kI64, {1, 1}, data.data()}},
                    {{"format", "pt"}});
  std::ifstream in(path("seed.safetensors"), std::ios::binary);
  const std::vector<uint8_t> seed((std::istreambuf_iterator<char>(in)), {});

  const std::string alphabet = "{}[]\",:-0123456789 eE.FIUB";
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> bytes = seed;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % bytes.size();
      switch (rng() % 3) {
        case 0: bytes[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: bytes[pos] = static_cast<uint8_t>(rng()); break;
        default: bytes[pos] = static_cast<uint8_t>(alphabet[rng() % alphabet.size()]); break;
      }
    }
    if (rng() % 4 == 0) bytes.resize(rng() % (bytes.size() + 1));
    try {
      parse_safetensors_header(bytes.data(), bytes.size(), "fuzz");
      ++parsed;
    } catch (const Error&) {
      // expected for most mutations
    } catch (const std::exception& e) {
      ADD_FAILURE() << "round " << round << ": non-headscope exception: " << e.what();
    }
  }
  EXPECT_LT(parsed, 2000);  // the mutations reached the validation, not only unused bytes
}

}  // namespace
}  // namespace headscope
