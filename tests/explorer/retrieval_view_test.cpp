// The retrieval-heads view: heads ranked by the analysis's score, the selected head's
// per-sample scores with each sample's grid point, both under QAbstractItemModelTester, and a
// file without the analysis says so.
#include <gtest/gtest.h>
#include <QtCore/QSortFilterProxyModel>
#include <QtTest/QAbstractItemModelTester>
#include <QtWidgets/QTableView>

#include "gui/app/main_window.h"
#include "gui/models/retrieval_samples.h"
#include "gui/views/retrieval_view.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;

constexpr int64_t kSamples = 5;

double sample_score(int64_t s, int64_t l, int64_t h) {
  return 0.1 * static_cast<double>(s) + 0.01 * static_cast<double>(l * kHeads + h);
}

void write_retrieval(const std::string& path) {
  test::write_recording(path, {test::RunContents{8, false, false}}, false);
  AnalysisWriter out = AnalysisWriter::begin(path, "retrieval_heads", test::explorer_model());
  std::vector<double> score, per_sample;
  for (int64_t l = 0; l < kLayers; ++l) {
    for (int64_t h = 0; h < kHeads; ++h) score.push_back(test::analysis_score(l, h));
  }
  for (int64_t s = 0; s < kSamples; ++s) {
    for (int64_t l = 0; l < kLayers; ++l) {
      for (int64_t h = 0; h < kHeads; ++h) per_sample.push_back(sample_score(s, l, h));
    }
  }
  out.write_f64("score", {kLayers, kHeads}, score, {"layer", "head"});
  out.write_f64("per_sample", {kSamples, kLayers, kHeads}, per_sample, {"sample", "layer", "head"});
  out.write_i64("length", {kSamples}, {100, 100, 200, 200, 300}, {"sample"});
  out.write_f64("depth", {kSamples}, {0.0, 0.5, 0.0, 0.5, 1.0}, {"sample"});
  out.write_i64("needle", {kSamples}, {0, 0, 0, 0, 0}, {"sample"});
  out.write_i64("accepted", {kSamples}, {1, 0, 1, 1, 0}, {"sample"});
  out.write_f64("rouge", {kSamples}, {1.0, 0.2, 0.9, 0.8, 0.0}, {"sample"});
  out.commit();
}

class RetrievalViewTest : public test::TempDirTest {
 protected:
  void TearDown() override {
    window_.reset();
    TempDirTest::TearDown();
  }
  std::unique_ptr<MainWindow> window_;
};

TEST_F(RetrievalViewTest, RanksHeadsAndListsTheSelectedHeadsSamples) {
  write_retrieval(path("r.h5"));
  window_ = std::make_unique<MainWindow>();
  window_->resize(1200, 800);
  window_->show();
  auto& view = *static_cast<RetrievalView*>(window_->view("retrieval"));
  QAbstractItemModelTester heads(view.head_table()->model(),
                                 QAbstractItemModelTester::FailureReportingMode::Fatal);
  QAbstractItemModelTester samples(view.sample_table()->model(),
                                   QAbstractItemModelTester::FailureReportingMode::Fatal);
  ASSERT_TRUE(window_->open_files({path("r.h5")}).empty());
  window_->show_view("retrieval");
  window_->workspace().select({0, 0, 1, 2});
  test::wait_idle(*window_);
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  EXPECT_TRUE(view.message().contains("5 samples, 3 accepted")) << view.message().toStdString();
  // Highest score first: layer 1, head 0.
  QAbstractItemModel& head_rows = *view.head_table()->model();
  EXPECT_EQ(head_rows.rowCount(), kLayers * kHeads);
  EXPECT_EQ(head_rows.index(0, 0).data().toInt(), 1);
  EXPECT_EQ(head_rows.index(0, 1).data().toInt(), 0);

  // The selected head's samples, highest score first (the last sample).
  QAbstractItemModel& sample_rows = *view.sample_table()->model();
  ASSERT_EQ(sample_rows.rowCount(), kSamples);
  EXPECT_EQ(sample_rows.index(0, RetrievalSampleModel::kSample).data().toInt(), 4);
  EXPECT_EQ(sample_rows.index(0, RetrievalSampleModel::kScore).data().toDouble(),
            sample_score(4, 1, 2));
  EXPECT_EQ(sample_rows.index(0, RetrievalSampleModel::kLength).data().toInt(), 300);
  EXPECT_EQ(sample_rows.index(0, RetrievalSampleModel::kAccepted).data().toString(), "no");
  EXPECT_EQ(sample_rows.headerData(RetrievalSampleModel::kScore, Qt::Horizontal).toString(),
            "score of 1.2");

  // A click on a head row selects that head everywhere, and the samples follow.
  emit view.head_table()->clicked(head_rows.index(0, 0));
  EXPECT_EQ(window_->workspace().selection(), (HeadSelection{0, 0, 1, 0}));
  EXPECT_EQ(sample_rows.index(0, RetrievalSampleModel::kScore).data().toDouble(),
            sample_score(4, 1, 0));
  const QStringList csv = view.csv().split('\n', Qt::SkipEmptyParts);
  ASSERT_EQ(csv.size(), kSamples + 1);
  EXPECT_EQ(csv[0], "sample,length,depth,needle,accepted,ROUGE-1,score of 1.0");
  EXPECT_EQ(csv[1], "0,100,0,0,yes,1," + QString::number(sample_score(0, 1, 0), 'g', 17));
}

TEST_F(RetrievalViewTest, AFileWithoutTheAnalysisSaysSo) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  window_ = std::make_unique<MainWindow>();
  window_->open_files({path("a.h5")});
  window_->workspace().select({0, 0, 0, 0});
  test::wait_idle(*window_);
  auto& view = *static_cast<RetrievalView*>(window_->view("retrieval"));
  EXPECT_TRUE(view.message().contains("has no retrieval-heads analysis"))
      << view.message().toStdString();
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.csv().isEmpty());
}

}  // namespace
}  // namespace headscope::gui
