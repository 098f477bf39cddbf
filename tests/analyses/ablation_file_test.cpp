#include <filesystem>

#include <gtest/gtest.h>
#include <hdf5.h>
#include <torch/torch.h>

#include "analyses/ablation/analysis_file.h"
#include "core/error.h"
#include "core/recording_reader.h"
#include "tests/support/error_message.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

ModelSummary summary(int64_t layers, int64_t heads) {
  ModelSummary s;
  s.family = "llama";
  s.n_layers = layers;
  s.n_heads = heads;
  s.n_kv_heads = heads;
  s.d_head = 4;
  s.d_model = 4 * heads;
  s.vocab_size = 16;
  s.config_json = "{}";
  return s;
}

ModelConfig config(int64_t layers, int64_t heads) {
  ModelConfig c;
  c.n_layers = layers;
  c.n_heads = heads;
  return c;
}

void write_scores(const std::string& path, const std::vector<double>& values, int64_t layers,
                  int64_t heads) {
  AnalysisGroupWriter out(path, "retrieval_heads", summary(layers, heads));
  out.write_f64("score", {layers, heads}, values, {"layer", "head"});
  out.set_attribute("threshold", 0.1);
  out.commit();
}

using AblationFile = test::TempDirTest;

TEST_F(AblationFile, ScoresRoundTripAndTheFileIsARecording) {
  const std::string file = path("scores.h5");
  write_scores(file, {0.5, 0.25, 0.0, 1.5, 2.0, -1.0}, 2, 3);
  EXPECT_FALSE(std::filesystem::exists(file + ".partial"));
  const auto scores = read_head_scores(file, kRetrievalScoreDataset, config(2, 3));
  EXPECT_TRUE(
      torch::equal(scores, torch::tensor({{0.5, 0.25, 0.0}, {1.5, 2.0, -1.0}}, torch::kFloat64)));
  const RecordingReader reader = RecordingReader::open(file);
  EXPECT_EQ(reader.model().n_layers, 2);
  EXPECT_EQ(reader.run_count(), 0);
}

TEST_F(AblationFile, RejectsMissingDatasetAndShapeMismatch) {
  const std::string file = path("scores.h5");
  write_scores(file, std::vector<double>(6, 1.0), 2, 3);
  const std::string missing = test::error_message<InvalidInput>(
      [&] { read_head_scores(file, "/analyses/nothing/score", config(2, 3)); });
  EXPECT_NE(missing.find("no dataset /analyses/nothing/score"), std::string::npos) << missing;
  const std::string shape = test::error_message<InvalidInput>(
      [&] { read_head_scores(file, kRetrievalScoreDataset, config(3, 2)); });
  EXPECT_NE(shape.find("shape [2, 3] does not match the model's [3, 2]"), std::string::npos)
      << shape;
  const std::string absent = test::error_message<IoError>(
      [&] { read_head_scores(path("absent.h5"), kRetrievalScoreDataset, config(2, 3)); });
  EXPECT_NE(absent.find("absent.h5"), std::string::npos) << absent;
}

TEST_F(AblationFile, ReplacesAGroupAndKeepsOthers) {
  const std::string file = path("scores.h5");
  write_scores(file, std::vector<double>(6, 1.0), 2, 3);
  {
    AnalysisGroupWriter out(file, "other", summary(2, 3));
    out.write_i64("mask", {2, 3}, std::vector<int64_t>(6, 1), {"layer", "head"});
    out.commit();
  }
  write_scores(file, std::vector<double>(6, 7.0), 2, 3);
  EXPECT_EQ(read_head_scores(file, kRetrievalScoreDataset, config(2, 3))[1][2].item<double>(), 7.0);
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  EXPECT_GT(H5Lexists(f, "/analyses/other", H5P_DEFAULT), 0);
  EXPECT_EQ(H5Lexists(f, "/analyses/.partial_retrieval_heads", H5P_DEFAULT), 0);
  H5Fclose(f);
}

TEST_F(AblationFile, AnUncommittedWriterLeavesNothing) {
  const std::string fresh = path("fresh.h5");
  {
    AnalysisGroupWriter out(fresh, "retrieval_heads", summary(2, 3));
    out.write_f64("score", {2, 3}, std::vector<double>(6, 1.0));
  }
  EXPECT_FALSE(std::filesystem::exists(fresh));
  EXPECT_FALSE(std::filesystem::exists(fresh + ".partial"));

  const std::string file = path("scores.h5");
  write_scores(file, std::vector<double>(6, 1.0), 2, 3);
  {
    AnalysisGroupWriter out(file, "retrieval_heads", summary(2, 3));
    out.write_f64("score", {2, 3}, std::vector<double>(6, 9.0));
  }
  EXPECT_EQ(read_head_scores(file, kRetrievalScoreDataset, config(2, 3))[0][0].item<double>(), 1.0);
}

TEST_F(AblationFile, RejectsAFileOfAnotherModelBeforeWriting) {
  const std::string file = path("scores.h5");
  write_scores(file, std::vector<double>(6, 1.0), 2, 3);
  const std::string message =
      test::error_message<InvalidInput>([&] { check_analysis_target(file, summary(4, 8)); });
  EXPECT_NE(message.find("2 layers x 3 heads; this one has 4 x 8"), std::string::npos) << message;
  EXPECT_NE(test::error_message<IoError>([&] {
              check_analysis_target(path("no/such/dir/x.h5"), summary(2, 3));
            }).find("does not exist"),
            std::string::npos);
  check_analysis_target(path("new.h5"), summary(2, 3));
  check_analysis_target(file, summary(2, 3));
}

}  // namespace
}  // namespace headscope
