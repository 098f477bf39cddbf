// sparse-config and sparse-eval through the real binary, on a zoo model trained for two steps
// and a recording of its attention statistics; the explorer's export of a config sparse-eval
// ran writes what sparse-config wrote.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base/text_file.h"
#include "tests/support/cli_run.h"
#include "tests/support/tolerance.h"
#ifdef HEADSCOPE_GUI_MODELS
#include "gui/models/open_file.h"
#include "gui/models/sparse_config_export.h"
#endif

namespace headscope {
namespace {

using ::testing::HasSubstr;

constexpr auto& run = test::run_cli;

class SparseCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("headscope_sparse_cli_" + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    auto trained = run("zoo train tiny-ci --steps 2 --quiet --out " + path("model"));
    ASSERT_EQ(trained.status, 0) << trained.output;
    std::ofstream tokens(path("tokens.txt"));
    for (int r = 0; r < 2; ++r) {
      for (int i = 0; i < 80; ++i) tokens << (i ? "," : "") << (i * 37 + r * 11) % 300 + 5;
      tokens << "\n";
    }
    tokens.close();
    auto recorded = run("record " + path("model") + " --tokens-file " + path("tokens.txt") +
                        " --attention stats --window 16 --stats-block-size 16 --allow-long-context "
                        "--quiet --out " +
                        path("rec.h5"));
    ASSERT_EQ(recorded.status, 0) << recorded.output;
  }
  static void TearDownTestSuite() {
    std::error_code error;
    std::filesystem::remove_all(*dir_, error);
    delete dir_;
  }
  static std::string path(const std::string& name) { return (*dir_ / name).string(); }
  static nlohmann::json read_json(const std::string& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
  }
  static std::filesystem::path* dir_;
};

std::filesystem::path* SparseCli::dir_ = nullptr;

TEST_F(SparseCli, WritesEveryFormatFromRecordedStatistics) {
  for (const std::string format : {"duo", "moa", "minference", "headscope"}) {
    auto r = run("sparse-config " + path("rec.h5") + " --format " + format +
                 " --sparsity 0.5 --out " + path(format));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr(format + " config for 2 layers x 4 heads"));
  }
  std::ifstream tsv(path("duo/full_attention_heads.tsv"));
  std::string line;
  int rows = 0;
  while (std::getline(tsv, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), '\t'), 3);
  }
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(read_json(path("duo/config.json"))["recent_size"], 16);  // the recording's window
  auto moa = read_json(path("moa/moa_alpha_beta.json"));
  EXPECT_EQ(moa["alphas"].size(), 2u);
  EXPECT_EQ(moa["betas"][1].size(), 4u);
  auto minference = read_json(path("minference/minference_best_pattern.json"));
  ASSERT_EQ(minference.size(), 2u);
  EXPECT_EQ(minference[0].size(), 4u);
  auto config = read_json(path("headscope/sparse_config.json"));
  EXPECT_EQ(config["parameters"]["score"], "stats");
  int streaming = 0;
  for (const auto& layer : config["heads"]) {
    for (const auto& head : layer) streaming += head["kind"] == "streaming";
  }
  EXPECT_EQ(streaming, 4);
}

TEST_F(SparseCli, EvaluatesAConfigAgainstDenseAndRandomHeads) {
  ASSERT_EQ(run("sparse-config " + path("rec.h5") +
                " --format headscope --sparsity 0.5 --window "
                "4 --out " +
                path("eval_cfg"))
                .status,
            0);
  auto r = run("sparse-eval " + path("model") + " --config " + path("eval_cfg") + " --scores " +
               path("rec.h5") +
               " --sparsity 1 --window 4 --task niah --n 2 --length "
               "64,80 --allow-long-context --random-configs 1 --quiet --export-json " +
               path("eval.json") + " --out " + path("eval.h5"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto rows = read_json(path("eval.json"))["rows"];
  // dense, config, its random twin, stats@100%, its random twin; two lengths each.
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[0]["config"], "dense");
  EXPECT_EQ(rows[0]["kept_fraction"], 1.0);
  EXPECT_EQ(rows[2]["config"], "config@50.0%");
  const double kept = rows[2]["kept_fraction"];
  EXPECT_LT(kept, 1.0);
  EXPECT_EQ(rows[4]["config"], "random@50.0%#0");
  EXPECT_DOUBLE_EQ(rows[4]["kept_fraction"].get<double>(), kept);  // same heads, other places
  EXPECT_EQ(rows[6]["config"], "stats@100.0%");
  // Every head streaming with sink 4, window 4 at 64 tokens: closed form of the kept fraction.
  double expected = 0;
  for (int i = 0; i < 64; ++i) expected += std::min(i + 1, 4 + std::min(4, std::max(0, i + 1 - 4)));
  // Exact counts, then float64 divisions and means over heads, layers and runs (a few dozen
  // roundings of values at most 1), and a decimal round trip through JSON (exact for doubles).
  EXPECT_TRUE(test::tol::within(rows[6]["kept_fraction"].get<double>(), expected / (64 * 65 / 2.0),
                                test::tol::gamma(64, test::tol::kFloat64), "kept fraction"));

  // The same results in /analyses/sparse_eval, on named axes, with every parameter.
  if (std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
    GTEST_SKIP() << "Debian's python3-h5py is not installed";
  }
  std::ofstream(path("check.py")) << R"PY(
import json, sys
import h5py, numpy as np
g = h5py.File(sys.argv[1], "r")["analyses/sparse_eval"]
rows = json.load(open(sys.argv[2]))["rows"]
names = [n.decode() for n in g["config"][:]]
assert names == ["dense", "config@50.0%", "random@50.0%#0", "stats@100.0%", "random@100.0%#0"], names
assert g["length"][:].tolist() == [64, 80]
for key in ("accuracy", "token_accuracy", "kept_fraction"):
    d = g[key]
    assert [dim.label for dim in d.dims] == ["config", "length"], key
    assert d.dims[1][0][:].tolist() == [64, 80]
    assert d[:].ravel().tolist() == [row[key] for row in rows], key
assert g["sparse_heads"][:].tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
kind = g["head_kind"]
assert kind.shape == (5, 2, 4) and [dim.label for dim in kind.dims] == ["config", "layer", "head"]
assert (kind[3] == 1).all() and (g["head_window"][3] == 4).all() and (kind[0] == 0).all()
a = g.attrs
assert (a["task"], a["samples"], a["seed"], a["random"], a["recent"], a["sink"]) == ("niah", 2, 1, 1, 4, -1), dict(a)
assert a["lengths"].tolist() == [64, 80] and a["sparsities"].tolist() == [1.0]
assert a["config_dir"].endswith("eval_cfg") and a["scores"].endswith("rec.h5")
assert (a["device"], a["dtype"], a["score"], a["kind"], a["batch_size"]) == ("cpu", "auto", "auto", "streaming", 4)
# The samples every config read: 2 per length, each exactly as long as its length.
tokens, offset, length = g["sample_tokens"], g["sample_offset"][:], g["sample_length"][:]
assert [dim.label for dim in g["sample_offset"].dims] == ["length", "sample"]
assert length.tolist() == [[64, 64], [80, 80]] and offset.ravel().tolist() == [0, 64, 128, 208]
assert tokens.dtype == np.int32 and tokens.shape == (288,)
span = g["answer_span"][:]
assert span.shape == (2, 2, 2) and (span[..., 0] < span[..., 1]).all() and (span[..., 1] <= length).all()
root = h5py.File(sys.argv[1], "r").attrs
assert (root["n_layers"], root["n_heads"], root["headscope_format"]) == (2, 4, 1)
print("sparse_eval ok")
)PY";
  const auto check = test::shell("/usr/bin/python3 " + path("check.py") + " " + path("eval.h5") +
                                 " " + path("eval.json"));
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("sparse_eval ok"));
}

// What sparse-config wrote, evaluated by sparse-eval and exported again by the explorer (its
// sparse-config view calls gui/models' export): DuoAttention's gates byte for byte with the same
// sink, window and sparsity; headscope's heads the same (its parameters say where each came from).
TEST_F(SparseCli, ExplorerExportEqualsSparseConfig) {
#ifndef HEADSCOPE_GUI_MODELS
  GTEST_SKIP() << "built without Qt 6: no explorer";
#else
  for (const std::string format : {"duo", "headscope"}) {
    SCOPED_TRACE(format);
    const std::string written = path("export_" + format), exported = written + "_explorer";
    auto r = run("sparse-config " + path("rec.h5") + " --format " + format +
                 " --sparsity 0.5 --quiet --out " + written);
    ASSERT_EQ(r.status, 0) << r.output;
    r = run(
        "sparse-eval " + path("model") + " --config " + written +
        " --random-configs 0 --task niah --n 1 --length 64 --allow-long-context --quiet --out " +
        written + ".h5");
    ASSERT_EQ(r.status, 0) << r.output;
    const gui::SparseEvalConfigs configs =
        gui::read_sparse_eval_configs(*gui::OpenFile::open(written + ".h5"));
    ASSERT_EQ(configs.names.size(), 2u);  // dense, then the config
    const SparseFormat kind = format == "duo" ? SparseFormat::kDuo : SparseFormat::kHeadscope;
    gui::export_sparse_eval_config(configs, 1, kind, exported);
    if (kind == SparseFormat::kDuo) {
      EXPECT_EQ(read_text_file(exported + "/" + kDuoGatesFile),
                read_text_file(written + "/" + kDuoGatesFile));
      const auto a = read_json(exported + "/" + kDuoConfigFile);
      const auto b = read_json(written + "/" + kDuoConfigFile);
      for (const char* key : {"sink_size", "recent_size", "sparsity"}) EXPECT_EQ(a[key], b[key]);
    } else {
      const auto a = read_json(exported + "/" + kSparseConfigFile);
      const auto b = read_json(written + "/" + kSparseConfigFile);
      for (const char* key : {"format", "version", "n_layers", "n_heads", "heads"}) {
        EXPECT_EQ(a[key], b[key]) << key;
      }
      EXPECT_EQ(a["parameters"]["config"], configs.names[1]);
    }
  }
#endif
}

TEST_F(SparseCli, BadInputEndsInOneLineAndExitOne) {
  auto format = run("sparse-config " + path("rec.h5") + " --format flash --out " + path("x"));
  EXPECT_EQ(format.status, 1);
  EXPECT_THAT(format.output,
              HasSubstr("--format: expected duo, moa, minference or headscope, got 'flash'"));
  auto sparsity =
      run("sparse-config " + path("rec.h5") + " --format duo --sparsity 1.5 --out " + path("x"));
  EXPECT_EQ(sparsity.status, 1);
  EXPECT_THAT(sparsity.output, HasSubstr("--sparsity: expected a number in [0, 1], got '1.5'"));
  // A config for another model shape.
  std::filesystem::create_directories(path("big"));
  std::ofstream(path("big/sparse_config.json"))
      << R"({"format": "headscope-sparse", "version": 1, "n_layers": 3, "n_heads": 4, "heads": )"
      << R"([[{"kind":"full"},{"kind":"full"},{"kind":"full"},{"kind":"full"}],)"
      << R"([{"kind":"full"},{"kind":"full"},{"kind":"full"},{"kind":"full"}],)"
      << R"([{"kind":"full"},{"kind":"full"},{"kind":"full"},{"kind":"full"}]]})";
  auto shape =
      run("sparse-eval " + path("model") + " --config " + path("big") + " --n 1 --length 64");
  EXPECT_EQ(shape.status, 1);
  EXPECT_THAT(shape.output, HasSubstr("the config is for 3 layers x 4 heads, the model has 2 x 4"));
  // Each ctest process runs one test: this one writes its own config of the model's shape.
  std::filesystem::create_directories(path("dense"));
  std::ofstream(path("dense/sparse_config.json"))
      << R"({"format": "headscope-sparse", "version": 1, "n_layers": 2, "n_heads": 4, "heads": )"
      << R"([[{"kind":"full"},{"kind":"full"},{"kind":"full"},{"kind":"full"}],)"
      << R"([{"kind":"full"},{"kind":"full"},{"kind":"full"},{"kind":"full"}]]})";
  auto task = run("sparse-eval " + path("model") + " --config " + path("dense") +
                  " --task sudoku --n 1 --length 64");
  EXPECT_EQ(task.status, 1);
  EXPECT_THAT(task.output, HasSubstr("--task: expected niah"));
  EXPECT_THAT(task.output, HasSubstr("got 'sudoku'"));
  // --out is checked before the evaluation runs.
  std::ofstream(path("notes.txt")) << "not hdf5\n";
  auto not_hdf5 = run("sparse-eval " + path("model") + " --config " + path("dense") +
                      " --n 1 --length 64 --quiet --append --out " + path("notes.txt"));
  EXPECT_EQ(not_hdf5.status, 1);
  EXPECT_THAT(not_hdf5.output, HasSubstr(path("notes.txt")));
  EXPECT_EQ(std::count(not_hdf5.output.begin(), not_hdf5.output.end(), '\n'), 1) << not_hdf5.output;
  auto no_dir = run("sparse-eval " + path("model") + " --config " + path("dense") +
                    " --n 1 --length 64 --quiet --out " + path("no/such/eval.h5"));
  EXPECT_EQ(no_dir.status, 1);
  EXPECT_THAT(no_dir.output, HasSubstr("directory " + path("no/such") + " does not exist"));
  auto neither = run("sparse-eval " + path("model"));
  EXPECT_EQ(neither.status, 1);
  EXPECT_THAT(neither.output, HasSubstr("give --config DIR and/or --scores"));
}

}  // namespace
}  // namespace headscope
