// Circuits on disk (analyses/circuits/circuit_file.h): written and read back, listed, per-head
// datasets of other analyses read as circuits, the FILE[:name] argument syntax, and the errors
// that name the file and dataset.
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyses/circuits/circuit_file.h"
#include "analyses/circuits/circuit_overlap_file.h"
#include "core/base/error.h"
#include "core/store/analysis_writer.h"
#include "core/store/circuit_schema.h"
#include "core/store/recording_schema.h"
#include "tests/support/error_message.h"
#include "tests/support/model_summary.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using test::error_message;
using ::testing::HasSubstr;

Circuit example_circuit(double offset) {
  Circuit c;
  c.n_layers = 2;
  c.n_heads = 3;
  c.scores = {0.5 + offset, NAN, 2.0, -1.0, 0.25, 3.0};
  c.selection = CircuitSelection::top(2, false);
  c.selected = select_heads(c.scores, c.selection, "example");
  c.method = "path_patching";
  c.task = "ioi";
  return c;
}

class CircuitFileTest : public test::TempDirTest {
 protected:
  void write(const std::string& file, const std::string& name, const Circuit& c) {
    const OutputMode mode = std::filesystem::exists(file) ? OutputMode::kAppend : OutputMode::kNew;
    AnalysisWriter out = write_circuit({file, test::made_up_model(2, 3), mode}, name, c);
    out.set_attribute("", "steps", 5);
    out.commit();
  }
};

TEST_F(CircuitFileTest, WritesAndReadsBackBesideOtherCircuits) {
  const std::string file = path("c.h5");
  Circuit ioi = example_circuit(0);
  ioi.edges = {{"a0.h1", "logits", 0.75}, {"m0", "a1.h2", -0.5}};
  write(file, "ioi", ioi);
  Circuit colors = example_circuit(1);
  colors.task = "colors";
  colors.selection = CircuitSelection::at_least(1.0, true);
  colors.selected = select_heads(colors.scores, colors.selection, "colors");
  write(file, "colors", colors);
  EXPECT_EQ(circuit_names(file), (std::vector<std::string>{"colors", "ioi"}));

  const Circuit back = read_circuit(file, "ioi");
  EXPECT_EQ(back.n_layers, 2);
  EXPECT_EQ(back.n_heads, 3);
  ASSERT_EQ(back.scores.size(), 6u);
  EXPECT_TRUE(std::isnan(back.scores[1]));
  EXPECT_EQ(back.scores[5], 3.0);
  EXPECT_EQ(back.selected, (std::vector<uint8_t>{0, 0, 1, 0, 0, 1}));
  EXPECT_EQ(back.method, "path_patching");
  EXPECT_EQ(back.task, "ioi");
  EXPECT_EQ(back.selection.rule, "top_k");
  EXPECT_EQ(back.selection.top_k, 2);
  ASSERT_EQ(back.edges.size(), 2u);
  EXPECT_EQ(back.edges[1].sender, "m0");
  EXPECT_EQ(back.edges[1].receiver, "a1.h2");
  EXPECT_EQ(back.edges[1].score, -0.5);

  const Circuit other = read_circuit(file, "colors");
  EXPECT_EQ(other.selection.rule, "threshold");
  EXPECT_EQ(other.selection.threshold, 1.0);
  EXPECT_TRUE(other.selection.abs);
  EXPECT_EQ(other.selected, (std::vector<uint8_t>{1, 0, 1, 1, 0, 1}));
  EXPECT_TRUE(other.edges.empty());
}

TEST_F(CircuitFileTest, ArgumentsNameACircuitTheOnlyOneOrADataset) {
  EXPECT_EQ(CircuitSource::parse("a.h5").file, "a.h5");
  const CircuitSource named = CircuitSource::parse("dir/a.h5:ioi");
  EXPECT_EQ(named.file, "dir/a.h5");
  EXPECT_EQ(named.name, "ioi");
  const CircuitSource dataset = CircuitSource::parse("a.h5:/analyses/head_importance/importance");
  EXPECT_EQ(dataset.file, "a.h5");
  EXPECT_EQ(dataset.dataset, "/analyses/head_importance/importance");
  EXPECT_EQ(dataset.text(), "a.h5:/analyses/head_importance/importance");
  EXPECT_THAT(error_message<InvalidInput>([] { CircuitSource::parse("a.h5:"); }),
              HasSubstr("'a.h5:': expected FILE, FILE:NAME (a circuit) or FILE:/path/to/dataset"));

  // A file whose name holds ':' is itself.
  const std::string odd = path("run:1.h5");
  write(odd, "ioi", example_circuit(0));
  EXPECT_EQ(CircuitSource::parse(odd).file, odd);

  CircuitSource only = CircuitSource::parse(odd);
  EXPECT_EQ(load_circuit(only).task, "ioi");
  EXPECT_EQ(only.text(), odd + ":ioi");
}

TEST_F(CircuitFileTest, PerHeadDatasetsOfAnyAnalysisAreCircuitsWithScores) {
  const std::string file = path("scores.h5");
  {
    AnalysisWriter out = AnalysisWriter::begin(file, "head_importance", test::made_up_model(2, 3));
    out.write_f64("importance", {2, 3}, {1, 2, 3, 4, 5, 6}, {"layer", "head"});
    out.write_i64("mask", {2, 3}, {1, 0, 1, 1, 0, 0}, {"layer", "head"});
    out.write_f64("curve", {4}, {1, 2, 3, 4});
    out.write_strings("names", {"a", "b"});
    out.commit();
  }
  CircuitSource source = CircuitSource::parse(file + ":/analyses/head_importance/importance");
  const Circuit c = load_circuit(source);
  EXPECT_EQ(c.scores, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(c.selected_count(), 0);
  EXPECT_EQ(c.method, "/analyses/head_importance/importance");
  EXPECT_EQ(read_head_dataset(file, "/analyses/head_importance/mask").scores,
            (std::vector<double>{1, 0, 1, 1, 0, 0}));

  const auto message = [&](const std::string& dataset) {
    return error_message<InvalidInput>([&] { read_head_dataset(file, dataset); });
  };
  EXPECT_THAT(message("/analyses/nothing"), HasSubstr(file + " has no dataset /analyses/nothing"));
  EXPECT_THAT(message("/analyses/head_importance/curve"),
              HasSubstr(file + ": /analyses/head_importance/curve: shape [4] is not the model's "
                               "[layer, head] [2, 3]"));
  EXPECT_THAT(message("/analyses/head_importance/names"),
              HasSubstr(file + ": /analyses/head_importance/names: expected numbers per head"));
}

TEST_F(CircuitFileTest, MissingAndAmbiguousCircuitsAreNamed) {
  const std::string file = path("c.h5");
  EXPECT_THAT(error_message<IoError>([&] { read_circuit(file, "ioi"); }), HasSubstr(file));
  {
    AnalysisWriter out = AnalysisWriter::begin(file, "other", test::made_up_model(2, 3));
    out.write_f64("x", {1}, {1.0});
    out.commit();
  }
  CircuitSource bare = CircuitSource::parse(file);
  EXPECT_THAT(error_message<InvalidInput>([&] { load_circuit(bare); }),
              HasSubstr(file + " has no circuits (/analyses/circuits)"));
  write(file, "ioi", example_circuit(0));
  write(file, "colors", example_circuit(0));
  EXPECT_THAT(error_message<InvalidInput>([&] { load_circuit(bare); }),
              HasSubstr(file + " holds 2 circuits (colors, ioi); name one as FILE:NAME"));
  EXPECT_THAT(error_message<InvalidInput>([&] { read_circuit(file, "induction"); }),
              HasSubstr(file + " has no circuit 'induction' (it has: colors, ioi)"));
  EXPECT_THAT(error_message<InvalidInput>([&] {
                write_circuit({file, test::made_up_model(4, 8)}, "big", example_circuit(0));
              }),
              HasSubstr("a circuit of 2 x 3 heads for a model of 4 x 8"));
}

// The overlap analysis holds exactly the datasets the schema (and so docs/FORMAT.md) names,
// and the matrix mirrors the asymmetric containment.
TEST_F(CircuitFileTest, OverlapAnalysisHoldsTheSchemaDatasets) {
  Circuit a = example_circuit(0), b = example_circuit(1);
  b.selected = {1, 0, 1, 1, 0, 0};
  const OverlapOptions options = OverlapOptions().with_permutations(100);
  const auto matrix = overlap_matrix({&a, &b}, options);
  EXPECT_EQ(matrix[0][1].containment_a, 0.5);
  EXPECT_EQ(matrix[0][1].containment_b, 1.0 / 3);
  EXPECT_EQ(matrix[1][0].containment_a, 1.0 / 3);
  EXPECT_EQ(matrix[1][0].size_a, 3);
  EXPECT_EQ(matrix[1][0].permutation_p, matrix[0][1].permutation_p);
  EXPECT_EQ(matrix[1][1].jaccard, 1.0);

  const std::string file = path("overlap.h5");
  write_circuit_overlap({file, test::made_up_model(2, 3), OutputMode::kNew},
                        {{"a", "x.h5:a", 2}, {"b", "x.h5:b", 3}}, matrix, options, std::nullopt);
  std::vector<std::string> expected{kCircuitOverlapSize, kCircuitOverlapSource};
  for (const CircuitOverlapDataset& dataset : kCircuitOverlapDatasets) {
    expected.push_back(dataset.name);
  }
  std::sort(expected.begin(), expected.end());
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t group = H5Gopen2(f, "/analyses/circuit_overlap", H5P_DEFAULT);
  EXPECT_EQ(dataset_paths(group, {file, "/analyses/circuit_overlap"}), expected);
  H5Gclose(group);
  H5Fclose(f);
}

TEST_F(CircuitFileTest, XarrayOpensACircuitWithNamedAxes) {
  if (std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' 2>/dev/null") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 cannot import xarray and h5netcdf";
  }
  const std::string file = path("c.h5");
  Circuit c = example_circuit(0);
  c.edges = {{"a0.h1", "logits", 0.75}};
  write(file, "ioi", c);
  const test::ShellResult check = test::shell(
      "/usr/bin/python3 -c \"import xarray as xr; ds = xr.open_dataset('" + file +
      "', engine='h5netcdf', group='analyses/circuits/ioi'); "
      "print(ds.scores.dims, ds.selected.dims, ds.selected.dtype, int(ds.selected.sum()), "
      "ds.attrs['method'], ds.attrs['selection'], ds.attrs['top_k'], ds.attrs['steps'])\"");
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_EQ(check.output, "('layer', 'head') ('layer', 'head') uint8 2 path_patching top_k 2 5\n");
}

}  // namespace
}  // namespace headscope
