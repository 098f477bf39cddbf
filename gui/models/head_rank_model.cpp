#include "gui/models/head_rank_model.h"

#include <cmath>
#include <limits>
#include <utility>

namespace headscope::gui {

void HeadRankModel::set_values(std::shared_ptr<const HeadValues> values) {
  beginResetModel();
  values_ = std::move(values);
  endResetModel();
}

int HeadRankModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !values_) return 0;
  return static_cast<int>(values_->values.size());
}

int HeadRankModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant HeadRankModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !values_ || index.row() >= rowCount()) return {};
  const int64_t layer = index.row() / values_->heads, head = index.row() % values_->heads;
  const double value = values_->at(layer, head);
  switch (index.column()) {
    case kLayer:
      if (role == Qt::DisplayRole || role == kSortRole)
        return QVariant::fromValue<qlonglong>(layer);
      break;
    case kHead:
      if (role == Qt::DisplayRole || role == kSortRole) return QVariant::fromValue<qlonglong>(head);
      break;
    case kValue:
      if (role == Qt::DisplayRole) {
        return std::isnan(value) ? QStringLiteral("-") : QString::number(value, 'g', 6);
      }
      if (role == kSortRole) {
        return std::isnan(value) ? -std::numeric_limits<double>::infinity() : value;
      }
      if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
      break;
    default:
      break;
  }
  return {};
}

QVariant HeadRankModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kLayer:
      return tr("Layer");
    case kHead:
      return tr("Head");
    case kValue:
      return values_ && !values_->quantity.unit.empty()
                 ? tr("Value (%1)").arg(QString::fromStdString(values_->quantity.unit))
                 : tr("Value");
    default:
      return {};
  }
}

}  // namespace headscope::gui
