// `headscope snr` end to end: needle queries on the shipped zoo model (the JSON summary, the
// HDF5 group opened labelled in xarray, the PNGs), IOI with small blocks on the trained IOI
// fixture, a dataset of token ids on every fixture family (GQA included), and one-line errors
// for bad options that write nothing.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base/text_file.h"
#include "tests/support/cli_run.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

std::string zoo_model() {
  return std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8";
}

nlohmann::json run_json(const std::string& args) {
  return test::run_cli_json(args + " --quiet");
}

bool has_xarray() {
  return std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' 2>/dev/null") == 0;
}

// A PNG's width and height from its IHDR chunk (big-endian, bytes 16 to 23).
std::pair<int64_t, int64_t> png_size(const std::string& path) {
  const std::string bytes = read_text_file(path);
  if (bytes.size() < 24 || bytes.compare(1, 3, "PNG") != 0) return {0, 0};
  const auto word = [&bytes](size_t at) {
    int64_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v * 256 + static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return {word(16), word(20)};
}

// One --dataset line: a span of `span` distinct token ids (first_id + (i * stride) mod span,
// stride coprime to span) read twice; each position of the second copy but its last needs the
// token after its twin in the first copy (induction).
std::string copied_span_record(int span, int first_id, int stride) {
  std::string tokens, queries;
  for (int i = 0; i < 2 * span; ++i) {
    tokens += (i ? "," : "") + std::to_string(first_id + (i * stride) % span);
  }
  for (int p = span; p < 2 * span - 1; ++p) {
    queries += std::string(p > span ? "," : "") + "{\"position\": " + std::to_string(p) +
               ", \"relevant\": [" + std::to_string(p + 1 - span) + "]}";
  }
  return "{\"tokens\": [" + tokens + "], \"queries\": [" + queries + "]}";
}

class SnrCli : public test::TempDirTest {};

TEST_F(SnrCli, NeedleOnTheZooModel) {
  const std::string out = (dir_ / "snr.h5").string();
  const std::string png = (dir_ / "snr.png").string();
  const std::string curves = (dir_ / "curves.png").string();
  const nlohmann::json j =
      run_json("snr " + zoo_model() +
               " --task niah --n 4 --length 256 --block-sizes 8,16,64 "
               "--topk-blocks 1,2 --out " +
               out + " --png " + png + " --curves-png " + curves + " --curves-heads 3");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["task"], "niah");
  EXPECT_EQ(j["block_sizes"], (nlohmann::json{8, 16, 64}));
  ASSERT_EQ(j["heads"].size(), 32u);
  const auto queries = j["queries"].get<int64_t>();
  EXPECT_GE(queries, 4 * 4);  // 4 to 6 answer tokens per sample
  for (const auto& routed : j["routed_queries"]) {
    EXPECT_GT(routed.get<int64_t>(), 0);
    EXPECT_LE(routed.get<int64_t>(), queries);
  }
  // The model retrieves the needle: some head ranks the needle's block first for most queries
  // at the smallest block size, and its measured SNR is clearly positive.
  double best_recall = 0.0, best_snr = -1e9;
  for (const auto& head : j["heads"]) {
    for (const auto& per_block : head["recall"]) {
      for (const auto& r : per_block) {
        ASSERT_TRUE(r.is_number());
        EXPECT_GE(r.get<double>(), 0.0);
        EXPECT_LE(r.get<double>(), 1.0);
      }
    }
    best_recall = std::max(best_recall, head["recall"][0][0].get<double>());
    best_snr = std::max(best_snr, head["snr_measured"][0].get<double>());
  }
  EXPECT_GE(best_recall, 0.9);
  EXPECT_GT(best_snr, 1.0);
  EXPECT_TRUE(std::filesystem::exists(png));
  // Three heads, two charts each, four 400 x 260 charts a row under a 30-pixel title
  // (gui/render/line_chart_image.h).
  EXPECT_EQ(png_size(curves), std::make_pair(int64_t{4 * 400}, int64_t{30 + 2 * 260}));

  if (!has_xarray()) GTEST_SKIP() << "Debian's python3-xarray or python3-h5netcdf is not installed";
  const std::string script =
      "import xarray as xr, numpy as np\n"
      "s = xr.open_dataset('" +
      out +
      "', engine='h5netcdf', group='analyses/sparsity_snr')\n"
      "assert s.delta_mu.dims == ('layer', 'head'), s.delta_mu.dims\n"
      "assert s.snr_measured.dims == ('layer', 'head', 'block_size'), s.snr_measured.dims\n"
      "assert s.recall.dims == ('layer', 'head', 'block_size', 'topk'), s.recall.dims\n"
      "assert s.query_rank.dims == ('layer', 'head', 'block_size', 'query'), s.query_rank.dims\n"
      "assert list(s.block_size.values) == [8, 16, 64], s.block_size.values\n"
      "assert list(s.topk.values) == [1, 2]\n"
      "assert s.attrs['task'] == 'niah' and s.attrs['key_conv'] == 1, s.attrs\n"
      "assert 'sqrt(2 * block_size)' in s.attrs['snr_theory_formula']\n"
      // recall@k from the per-query ranks.
      "r = s.query_rank.sel(block_size=16)\n"
      "hits = ((r > 0) & (r <= 2)).sum('query') / (r > 0).sum('query')\n"
      "assert np.allclose(hits, s.recall.sel(block_size=16, topk=2)), 'recall vs ranks'\n"
      // snr_theory from delta_mu and sigma.
      "t = s.delta_mu / (s.sigma * np.sqrt(2 * s.block_size))\n"
      "assert np.allclose(t, s.snr_theory), 'snr_theory'\n";
  std::ofstream(dir_ / "check.py") << script;
  const test::ShellResult check = test::shell("/usr/bin/python3 " + (dir_ / "check.py").string());
  EXPECT_EQ(check.status, 0) << check.output;
}

TEST_F(SnrCli, IoiWithSmallBlocksAndKeyConv) {
  const nlohmann::json j =
      run_json("snr " + test::fixture("zoo/ioi-2x4") +
               " --task ioi --n 8 --block-sizes 1,2,4 --topk-blocks 1 --key-conv 2");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["key_conv"], 2);
  EXPECT_EQ(j["queries"], 8);
  ASSERT_EQ(j["heads"].size(), 8u);
  EXPECT_EQ(j["routed_queries"][0], 8);  // B = 1: the IO name is always before the query
}

// A copied span as the user's own data: the second copy's positions each need the token after
// their twin in the first copy (induction), given as token ids and key positions.
TEST_F(SnrCli, DatasetOfOwnPrompts) {
  constexpr int kSpan = 48;
  const std::string record = copied_span_record(kSpan, 10, 7);
  const std::string data = path("data.jsonl");
  std::ofstream(data) << record << "\n\n" << record << "\n";
  const std::string out = path("snr.h5");
  const nlohmann::json j = run_json("snr " + zoo_model() + " --dataset " + data +
                                    " --block-sizes 8,16 --topk-blocks 1,2 --out " + out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["task"], "dataset");
  EXPECT_EQ(j["queries"], 2 * (kSpan - 1));
  for (const auto& routed : j["routed_queries"]) EXPECT_GT(routed.get<int64_t>(), 0);

  std::ofstream(path("bad.jsonl"))
      << record << "\n"
      << R"({"tokens": [1, 2], "queries": [{"position": 1, "relevant": [2]}]})"
      << "\n";
  const std::string never = path("never.h5");
  test::expect_one_line_errors(
      "snr " + zoo_model(),
      {{"--dataset " + path("bad.jsonl"),
        "bad.jsonl:2: queries[0].relevant[0]: expected a key position"},
       {"--dataset " + data + " --n 4", "--n, --length, --seed: only with --task"},
       {"--dataset " + data + " --task niah", "give exactly one of --task T or --dataset"},
       {"", "give exactly one of --task T or --dataset"}},
      "--quiet --out " + never, never);
}

// Token ids work on any model: every fixture family (llama, qwen2, qwen3: 2 key heads for 4
// query heads; mistral: 1) measures per query head, the file labelled by layer and head.
TEST_F(SnrCli, DatasetOnEveryFixtureFamilyPerQueryHead) {
  constexpr int kSpan = 32;
  const std::string data = path("data.jsonl");
  std::ofstream(data) << copied_span_record(kSpan, 7, 11) << "\n";
  for (const std::string& family : test::kFixtureFamilies) {
    SCOPED_TRACE(family);
    const std::string out = (dir_ / (family + ".h5")).string();
    const nlohmann::json j = run_json("snr " + test::fixture("hf-tiny/" + family) + " --dataset " +
                                      data + " --block-sizes 4,8 --topk-blocks 1,2 --out " + out);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["task"], "dataset");
    EXPECT_EQ(j["queries"], kSpan - 1);
    ASSERT_EQ(j["heads"].size(), 2u * 4u);  // 2 layers x 4 query heads
    EXPECT_EQ(j["heads"][7]["layer"], 1);
    EXPECT_EQ(j["heads"][7]["head"], 3);
    for (const auto& routed : j["routed_queries"]) EXPECT_GT(routed.get<int64_t>(), 0);
    if (!has_xarray()) continue;
    const std::string script =
        "import xarray as xr\n"
        "s = xr.open_dataset('" +
        out +
        "', engine='h5netcdf', group='analyses/sparsity_snr')\n"
        "assert s.snr_measured.dims == ('layer', 'head', 'block_size'), s.snr_measured.dims\n"
        "assert s.recall.dims == ('layer', 'head', 'block_size', 'topk'), s.recall.dims\n"
        "assert s.sizes['layer'] == 2 and s.sizes['head'] == 4, dict(s.sizes)\n"
        "assert list(s.block_size.values) == [4, 8], s.block_size.values\n"
        "assert s.attrs['task'] == 'dataset' and s.attrs['dataset'].endswith('data.jsonl')\n";
    std::ofstream(dir_ / "check.py") << script;
    const test::ShellResult check = test::shell("/usr/bin/python3 " + (dir_ / "check.py").string());
    EXPECT_EQ(check.status, 0) << check.output;
  }
}

TEST_F(SnrCli, BadInputIsOneLineAndWritesNothing) {
  const std::string out = (dir_ / "never.h5").string();
  test::expect_one_line_errors(
      "snr " + zoo_model(),
      {
          {"--task niah --block-sizes 0", "--block-sizes"},
          {"--task niah --block-sizes 32,16", "--block-sizes: give increasing values (32 then 16)"},
          {"--task niah --topk-blocks 0", "--topk-blocks"},
          {"--task niah --key-conv 0", "--key-conv"},
          {"--task colors", "--task: snr needs known relevant keys"},
          {"--task niah --length 64 --block-sizes 16,64",
           "--block-sizes: block size 64 routes none of the"},
          {"--task ioi --block-sizes 16", "give a longer --length or smaller block sizes"},
          {"--task niah --recall-target 2", "--recall-target"},
          {"--task niah --curves-heads -1 --curves-png " + (dir_ / "c.png").string(),
           "--curves-heads"},
          {"--task niah --curves-heads 2", "--curves-heads requires --curves-png"},
      },
      "--n 2 --quiet --out " + out, out);
}

}  // namespace
}  // namespace headscope
