#include "gui/models/head_difference.h"

#include "core/base/error.h"

namespace headscope::gui {
namespace {

std::string shape_text(const HeadValues& v) {
  return "[" + std::to_string(v.layers) + ", " + std::to_string(v.heads) + "]";
}

}  // namespace

HeadValues head_difference(const HeadValues& a, const HeadValues& b) {
  if (a.layers != b.layers || a.heads != b.heads) {
    throw InvalidInput("cannot compare " + a.quantity.label + " " + shape_text(a) + " with " +
                       b.quantity.label + " " + shape_text(b) +
                       ": the [layer, head] shapes differ (another model?)");
  }
  HeadValues out;
  out.quantity.label = a.quantity.label + " - " + b.quantity.label;
  out.quantity.unit = a.quantity.unit == b.quantity.unit ? a.quantity.unit : "";
  out.layers = a.layers;
  out.heads = a.heads;
  out.values.reserve(a.values.size());
  // NaN propagates: a head without a value in either has no difference.
  for (size_t i = 0; i < a.values.size(); ++i) out.values.push_back(a.values[i] - b.values[i]);
  return out;
}

HeadComparison compare_head_values(const OpenFile& file_a, const HeadQuantity& a,
                                   const OpenFile& file_b, const HeadQuantity& b) {
  HeadComparison out;
  out.a = read_head_values(file_a, a);
  out.b = read_head_values(file_b, b);
  out.difference = head_difference(out.a, out.b);
  return out;
}

}  // namespace headscope::gui
