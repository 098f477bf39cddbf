// The explorer's tables of ranked rows (heads, slice entries, samples, edges) look and behave
// alike: whole rows selected one at a time, no row numbers, columns fitted to their contents.
#pragma once

#include <QtGui/QStandardItem>
#include <QtWidgets/QTableView>

namespace headscope::gui {

// A cell of a QStandardItemModel table holding a number as a number, so that it sorts as one.
QStandardItem* number_item(double value);

QTableView* make_row_table(QAbstractItemModel* model, QWidget* parent);

// The same, sortable by a click on a header, sorted by `column` (highest first) to begin with.
QTableView* make_sorted_row_table(QAbstractItemModel* model, int column, QWidget* parent);

}  // namespace headscope::gui
