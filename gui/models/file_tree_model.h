// The file panel's model: every open file as a tree of its groups, datasets and attributes,
// with type and shape columns. Lazy: a group's members are listed when the view expands it
// (canFetchMore/fetchMore), and no dataset's values are ever read here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <QtCore/QAbstractItemModel>

#include "gui/models/hdf5_listing.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

class FileTreeModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column { kName, kType, kShape, kColumnCount };
  // The object's absolute path in its file ("/runs/0/tokens"); on a file row, "/".
  static constexpr int kPathRole = Qt::UserRole + 1;

  explicit FileTreeModel(QObject* parent = nullptr);
  ~FileTreeModel() override;

  // Appends a file as a top-level row, its root's members not yet listed.
  void add_file(std::shared_ptr<const OpenFile> file);
  const std::vector<std::shared_ptr<const OpenFile>>& files() const { return files_; }

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  bool hasChildren(const QModelIndex& parent = {}) const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;

 signals:
  // Listing a group failed (a file damaged past its first pages); the message names the file
  // and object. The group then shows no members.
  void read_failed(const QString& message);

 private:
  struct Node;
  Node* node(const QModelIndex& index) const;

  std::unique_ptr<Node> root_;
  std::vector<std::shared_ptr<const OpenFile>> files_;
};

}  // namespace headscope::gui
