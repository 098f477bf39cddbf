// Per-head score readers (analyses/retrieval/retrieval_file.h): what ablation's --from and the
// sparse configs read from a file written by AnalysisWriter.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/retrieval/retrieval_file.h"
#include "core/base/error.h"
#include "core/store/analysis_writer.h"
#include "tests/support/error_message.h"
#include "tests/support/model_summary.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

ModelSummary summary(int64_t layers, int64_t heads) {
  return test::made_up_model(layers, heads);
}

ModelConfig config(int64_t layers, int64_t heads) {
  ModelConfig c;
  c.n_layers = layers;
  c.n_heads = heads;
  return c;
}

void write_scores(const std::string& path, const std::vector<double>& values, int64_t layers,
                  int64_t heads) {
  AnalysisWriter out = AnalysisWriter::begin(path, kRetrievalAnalysis, summary(layers, heads));
  out.write_f64("score", {layers, heads}, values, {"layer", "head"});
  out.write_i64("count", {layers, heads}, std::vector<int64_t>(values.size(), 1));
  out.write_f64("flat", {static_cast<int64_t>(values.size())}, values);
  out.commit();
}

using HeadScores = test::TempDirTest;

TEST_F(HeadScores, ReadsWhatTheWriterWrote) {
  const std::string file = path("scores.h5");
  write_scores(file, {0.5, 0.25, 0.0, 1.5, 2.0, -1.0}, 2, 3);
  const auto expected = torch::tensor({{0.5, 0.25, 0.0}, {1.5, 2.0, -1.0}}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(read_head_scores(file, kRetrievalScoreDataset, config(2, 3)), expected));
  EXPECT_TRUE(torch::equal(read_retrieval_scores(file), expected));
  EXPECT_FALSE(read_score_grid(file, "/analyses/nothing/score").has_value());
}

TEST_F(HeadScores, RejectsMissingDatasetsWrongShapesAndTypes) {
  const std::string file = path("scores.h5");
  write_scores(file, std::vector<double>(6, 1.0), 2, 3);
  const std::string missing = test::error_message<InvalidInput>(
      [&] { read_head_scores(file, "/analyses/nothing/score", config(2, 3)); });
  EXPECT_NE(missing.find("no dataset /analyses/nothing/score"), std::string::npos) << missing;
  const std::string shape = test::error_message<InvalidInput>(
      [&] { read_head_scores(file, kRetrievalScoreDataset, config(3, 2)); });
  EXPECT_NE(shape.find("shape [2, 3] does not match the model's [3, 2]"), std::string::npos)
      << shape;
  const std::string integers = test::error_message<InvalidInput>(
      [&] { read_head_scores(file, "/analyses/retrieval_heads/count", config(2, 3)); });
  EXPECT_NE(integers.find(file + ": /analyses/retrieval_heads/count: expected floating-point"),
            std::string::npos)
      << integers;
  const std::string flat = test::error_message<InvalidInput>(
      [&] { read_head_scores(file, "/analyses/retrieval_heads/flat", config(2, 3)); });
  EXPECT_NE(flat.find("got 1 dimensions"), std::string::npos) << flat;
  const std::string absent = test::error_message<IoError>(
      [&] { read_head_scores(path("absent.h5"), kRetrievalScoreDataset, config(2, 3)); });
  EXPECT_NE(absent.find("absent.h5"), std::string::npos) << absent;
}

}  // namespace
}  // namespace headscope
