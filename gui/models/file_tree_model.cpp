#include "gui/models/file_tree_model.h"

#include <utility>

#include "core/base/error.h"
#include "gui/models/hdf5_lock.h"

namespace headscope::gui {

struct FileTreeModel::Node {
  Node* parent = nullptr;
  int row = 0;
  const OpenFile* file = nullptr;  // null only on the invisible root
  H5Entry entry;
  bool fetched = false;
  std::vector<std::unique_ptr<Node>> children;

  bool may_have_children() const { return fetched ? !children.empty() : entry.has_children; }
};

FileTreeModel::FileTreeModel(QObject* parent)
    : QAbstractItemModel(parent), root_(std::make_unique<Node>()) {
  root_->fetched = true;
}

FileTreeModel::~FileTreeModel() = default;

void FileTreeModel::add_file(std::shared_ptr<const OpenFile> file) {
  const int row = static_cast<int>(root_->children.size());
  beginInsertRows({}, row, row);
  auto node = std::make_unique<Node>();
  node->parent = root_.get();
  node->row = row;
  node->file = file.get();
  node->entry = H5Entry{H5EntryKind::kGroup, file->name(), "/", "file"};
  node->entry.has_children = true;
  root_->children.push_back(std::move(node));
  files_.push_back(std::move(file));
  endInsertRows();
}

FileTreeModel::Node* FileTreeModel::node(const QModelIndex& index) const {
  return index.isValid() ? static_cast<Node*>(index.internalPointer()) : root_.get();
}

QModelIndex FileTreeModel::index(int row, int column, const QModelIndex& parent) const {
  if (column < 0 || column >= kColumnCount || row < 0) return {};
  if (parent.isValid() && parent.column() != 0) return {};
  const Node* p = node(parent);
  if (row >= static_cast<int>(p->children.size())) return {};
  return createIndex(row, column, p->children[static_cast<size_t>(row)].get());
}

QModelIndex FileTreeModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) return {};
  const Node* p = node(child)->parent;
  if (p == root_.get()) return {};
  return createIndex(p->row, 0, const_cast<Node*>(p));
}

int FileTreeModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return 0;
  return static_cast<int>(node(parent)->children.size());
}

int FileTreeModel::columnCount(const QModelIndex&) const {
  return kColumnCount;
}

bool FileTreeModel::hasChildren(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return false;
  return node(parent)->may_have_children();
}

bool FileTreeModel::canFetchMore(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return false;
  return !node(parent)->fetched;
}

void FileTreeModel::fetchMore(const QModelIndex& parent) {
  Node* n = node(parent);
  if (n->fetched || (parent.isValid() && parent.column() != 0)) return;
  n->fetched = true;
  // Attributes have no members; a dataset's children are its attributes.
  if (n->entry.kind == H5EntryKind::kAttribute) return;
  std::vector<H5Entry> entries;
  try {
    auto lock = hdf5_lock();
    entries = list_h5_children(n->file->handle(), n->file->path(), n->entry.path);
  } catch (const Error& e) {
    // The node keeps no members; hasChildren now says so. Reported after the model is
    // consistent again.
    if (n->entry.has_children) {
      n->entry.has_children = false;
      emit dataChanged(parent.siblingAtColumn(0), parent.siblingAtColumn(kColumnCount - 1));
    }
    emit read_failed(QString::fromStdString(e.what()));
    return;
  }
  if (entries.empty()) {
    if (parent.isValid()) emit dataChanged(parent, parent.siblingAtColumn(kColumnCount - 1));
    return;
  }
  beginInsertRows(parent, 0, static_cast<int>(entries.size()) - 1);
  for (H5Entry& entry : entries) {
    auto child = std::make_unique<Node>();
    child->parent = n;
    child->row = static_cast<int>(n->children.size());
    child->file = n->file;
    child->entry = std::move(entry);
    child->fetched = !child->entry.has_children;
    n->children.push_back(std::move(child));
  }
  endInsertRows();
}

QVariant FileTreeModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const Node* n = node(index);
  const H5Entry& e = n->entry;
  if (role == kPathRole) return QString::fromStdString(e.path);
  if (role == Qt::ToolTipRole && n->parent == root_.get()) {
    return QString::fromStdString(n->file->path());
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case kName:
      return QString::fromStdString(e.kind == H5EntryKind::kAttribute ? "@" + e.name : e.name);
    case kType:
      return QString::fromStdString(e.type);
    case kShape:
      if (e.kind == H5EntryKind::kDataset) {
        return QString::fromStdString(describe_shape(e.shape, e.dimensions));
      }
      if (e.kind == H5EntryKind::kAttribute) {
        return QString::fromStdString(e.shape.empty() ? e.value : describe_shape(e.shape, {}));
      }
      return {};
    default:
      return {};
  }
}

QVariant FileTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kName:
      return tr("Name");
    case kType:
      return tr("Type");
    case kShape:
      return tr("Shape / value");
    default:
      return {};
  }
}

}  // namespace headscope::gui
