// The file panel's model under QAbstractItemModelTester, fully expanded, and its laziness:
// nothing below a file is listed until the view asks.
#include <functional>
#include <memory>

#include <gtest/gtest.h>
#include <QtTest/QAbstractItemModelTester>

#include "gui/models/file_tree_model.h"
#include "gui/models/open_file.h"
#include "tests/explorer/explorer_files.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::RunContents;
using test::write_newer_version_recording;
using test::write_recording;
using test::write_text_file;
using test::write_truncated_recording;

class FileTreeModelTest : public test::TempDirTest {};

// Depth-first: fetches every node, as a user expanding the whole tree would.
void expand_all(QAbstractItemModel& model, const QModelIndex& parent) {
  while (model.canFetchMore(parent)) model.fetchMore(parent);
  for (int row = 0; row < model.rowCount(parent); ++row) {
    expand_all(model, model.index(row, 0, parent));
  }
}

QModelIndex child_named(const QAbstractItemModel& model, const QModelIndex& parent,
                        const QString& name) {
  for (int row = 0; row < model.rowCount(parent); ++row) {
    const QModelIndex index = model.index(row, FileTreeModel::kName, parent);
    if (index.data().toString() == name) return index;
  }
  return {};
}

TEST_F(FileTreeModelTest, PassesTheModelTesterExpandedWholeWithTwoFiles) {
  write_recording(path("a.h5"), {RunContents{}, RunContents{6, false, true, 2}});
  write_recording(path("b.h5"), {RunContents{}}, false);
  FileTreeModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  // The tester would otherwise fetch from inside its handler of our rowsInserted, while that
  // insertion still counts as in flight; expand_all fetches instead, and the tester checks the
  // whole model after every insertion.
  tester.setUseFetchMore(false);
  model.add_file(OpenFile::open(path("a.h5")));
  model.add_file(OpenFile::open(path("b.h5")));
  expand_all(model, {});
  EXPECT_EQ(model.rowCount(), 2);
  const QModelIndex file = model.index(0, 0);
  EXPECT_EQ(file.data().toString(), "a.h5");
  const QModelIndex runs = child_named(model, file, "runs");
  ASSERT_TRUE(runs.isValid());
  EXPECT_EQ(model.rowCount(runs), 2);
  const QModelIndex run0 = child_named(model, runs, "0");
  const QModelIndex tokens = child_named(model, run0, "tokens");
  ASSERT_TRUE(tokens.isValid());
  EXPECT_EQ(tokens.siblingAtColumn(FileTreeModel::kType).data().toString(), "int32");
  EXPECT_EQ(tokens.siblingAtColumn(FileTreeModel::kShape).data().toString(), "[8] (pos)");
  const QModelIndex pattern = child_named(model, run0, "blocks.1.attn.hook_pattern");
  EXPECT_EQ(pattern.siblingAtColumn(FileTreeModel::kShape).data().toString(),
            "[3, 8, 8] (head, query, key)");
  EXPECT_EQ(pattern.data(FileTreeModel::kPathRole).toString(),
            "/runs/0/blocks.1.attn.hook_pattern");
  // Attributes, with their values; HDF5's dimension-scale bookkeeping is not shown.
  const QModelIndex stats = child_named(model, run0, "attention_stats");
  const QModelIndex block_size = child_named(model, stats, "@block_size");
  ASSERT_TRUE(block_size.isValid());
  EXPECT_EQ(block_size.siblingAtColumn(FileTreeModel::kShape).data().toString(), "4");
  EXPECT_EQ(child_named(model, run0, "@prompt").siblingAtColumn(FileTreeModel::kShape).data(),
            "explorer test");
  EXPECT_FALSE(child_named(model, child_named(model, run0, "pos"), "@CLASS").isValid());
  EXPECT_EQ(child_named(model, file, "@headscope_format")
                .siblingAtColumn(FileTreeModel::kShape)
                .data()
                .toString(),
            "1");
  const QModelIndex analysis =
      child_named(model, child_named(model, file, "analyses"), "retrieval_heads");
  EXPECT_EQ(child_named(model, analysis, "retrieval_score")
                .siblingAtColumn(FileTreeModel::kShape)
                .data()
                .toString(),
            "[2, 3] (layer, head)");
}

TEST_F(FileTreeModelTest, ListsNothingUntilAsked) {
  write_recording(path("a.h5"), {RunContents{}});
  FileTreeModel model;
  model.add_file(OpenFile::open(path("a.h5")));
  const QModelIndex file = model.index(0, 0);
  EXPECT_TRUE(model.hasChildren(file));
  EXPECT_TRUE(model.canFetchMore(file));
  EXPECT_EQ(model.rowCount(file), 0);
  model.fetchMore(file);
  EXPECT_FALSE(model.canFetchMore(file));
  const QModelIndex runs = child_named(model, file, "runs");
  ASSERT_TRUE(runs.isValid());
  EXPECT_TRUE(model.canFetchMore(runs));
  EXPECT_EQ(model.rowCount(runs), 0);
}

}  // namespace
}  // namespace headscope::gui
