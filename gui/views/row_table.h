// The explorer's tables of ranked rows (heads, slice entries, samples, edges) look and behave
// alike: whole rows selected one at a time, no row numbers, columns fitted to their contents.
#pragma once

#include <QtWidgets/QTableView>

namespace headscope::gui {

QTableView* make_row_table(QAbstractItemModel* model, QWidget* parent);

// The same, sortable by a click on a header, sorted by `column` (highest first) to begin with.
QTableView* make_sorted_row_table(QAbstractItemModel* model, int column, QWidget* parent);

}  // namespace headscope::gui
