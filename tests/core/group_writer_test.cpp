// The parts RunWriter and AnalysisWriter share (core/store/group_writer.h): PartialGroup's
// publish-or-delete life, and attributes either writer can set, lists included.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>
#include <utility>
#include <vector>

#include "core/store/partial_group.h"
#include "core/store/recording_writer.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

class GroupWriterTest : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = path("groups.h5");
    file_ = H5Fcreate(path_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file_, 0);
  }
  void TearDown() override {
    if (file_ >= 0) H5Fclose(file_);
    TempDirTest::TearDown();
  }

  bool exists(const std::string& object) const {
    // H5Lexists fails, rather than answering no, when a parent is missing.
    const size_t slash = object.rfind('/');
    if (slash > 0 && !exists(object.substr(0, slash))) return false;
    return H5Lexists(file_, object.c_str(), H5P_DEFAULT) > 0;
  }

  void make_group(const std::string& name) {
    const hid_t group = H5Gcreate2(file_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(group, 0) << name;
    H5Gclose(group);
  }

  PartialGroup partial(const std::string& name) const {
    return PartialGroup(file_, "/analyses", name, {path_, "/analyses/" + name});
  }

  std::string path_;
  hid_t file_ = H5I_INVALID_HID;
};

TEST_F(GroupWriterTest, CommitPublishesTheGroupUnderItsName) {
  PartialGroup group = partial("scores");
  EXPECT_TRUE(exists("/analyses/.partial_scores"));
  EXPECT_FALSE(exists("/analyses/scores"));
  const hid_t child = H5Gcreate2(group.get(), "inner", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(child, 0);
  H5Gclose(child);
  group.commit();
  EXPECT_TRUE(group.committed());
  EXPECT_TRUE(exists("/analyses/scores/inner"));
  EXPECT_FALSE(exists("/analyses/.partial_scores"));
}

TEST_F(GroupWriterTest, AbandonedGroupIsDeletedWithTheParentItMade) {
  { PartialGroup group = partial("scores"); }
  EXPECT_FALSE(exists("/analyses"));

  make_group("/analyses");
  make_group("/analyses/other");
  { PartialGroup group = partial("scores"); }
  EXPECT_TRUE(exists("/analyses/other"));
  EXPECT_FALSE(exists("/analyses/.partial_scores"));
}

TEST_F(GroupWriterTest, ReplacesTheEarlierGroupAndALeftoverPartial) {
  make_group("/analyses");
  make_group("/analyses/scores");
  make_group("/analyses/scores/old");
  make_group("/analyses/.partial_scores");
  make_group("/analyses/.partial_scores/crashed");
  PartialGroup group = partial("scores");
  EXPECT_FALSE(exists("/analyses/.partial_scores/crashed"));
  EXPECT_TRUE(exists("/analyses/scores/old"));  // the earlier group stays until commit
  group.commit();
  EXPECT_TRUE(exists("/analyses/scores"));
  EXPECT_FALSE(exists("/analyses/scores/old"));
}

TEST_F(GroupWriterTest, AMovedGroupIsDeletedOnceByItsLastOwner) {
  std::vector<PartialGroup> owners;
  {
    PartialGroup group = partial("scores");
    owners.push_back(std::move(group));
  }
  EXPECT_TRUE(exists("/analyses/.partial_scores"));
  owners.clear();
  EXPECT_FALSE(exists("/analyses"));
}

// RunWriter gets list attributes from GroupWriter, as AnalysisWriter always had them.
TEST_F(GroupWriterTest, RunsTakeListAttributes) {
  H5Fclose(file_);
  file_ = H5I_INVALID_HID;
  const std::string recording = path("recording.h5");
  ModelSummary model;
  model.family = "gpt2";
  model.n_layers = model.n_heads = model.n_kv_heads = 1;
  model.d_head = model.d_model = 4;
  model.vocab_size = 8;
  model.config_json = "{}";
  {
    RecordingWriter writer = RecordingWriter::create(recording, model);
    RunWriter run = writer.begin_run();
    run.write_tokens({1, 2, 3});
    run.set_attribute("", "lengths", std::vector<int64_t>{64, 128});
    run.set_attribute(kTokens, "weights", std::vector<double>{0.25, 0.5});
    run.commit();
  }
  const hid_t file = H5Fopen(recording.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  std::vector<int64_t> lengths(2);
  const hid_t a = H5Aopen_by_name(file, "/runs/0", "lengths", H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(a, 0);
  EXPECT_GE(H5Aread(a, H5T_NATIVE_INT64, lengths.data()), 0);
  H5Aclose(a);
  std::vector<double> weights(2);
  const hid_t b = H5Aopen_by_name(file, "/runs/0/tokens", "weights", H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(b, 0);
  EXPECT_GE(H5Aread(b, H5T_NATIVE_DOUBLE, weights.data()), 0);
  H5Aclose(b);
  H5Fclose(file);
  EXPECT_EQ(lengths, (std::vector<int64_t>{64, 128}));
  EXPECT_EQ(weights, (std::vector<double>{0.25, 0.5}));
}

}  // namespace
}  // namespace headscope
