#include "analyses/sample_tokens.h"

#include <functional>
#include <numeric>

#include "core/base/error.h"

namespace headscope {

void write_sample_tokens(AnalysisWriter& out, const std::string& prefix,
                         const std::vector<std::vector<int32_t>>& sequences,
                         const std::vector<int64_t>& shape, const std::vector<std::string>& axes) {
  HS_ASSERT(std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>()) ==
            static_cast<int64_t>(sequences.size()));
  std::vector<int32_t> tokens;
  std::vector<int64_t> offset, length;
  for (const auto& sequence : sequences) {
    offset.push_back(static_cast<int64_t>(tokens.size()));
    length.push_back(static_cast<int64_t>(sequence.size()));
    tokens.insert(tokens.end(), sequence.begin(), sequence.end());
  }
  out.write_array(prefix + "_tokens", DType::kI32, {static_cast<int64_t>(tokens.size())},
                  tokens.data(), {prefix + "_token"});
  out.write_i64(prefix + "_offset", shape, offset, axes);
  out.write_i64(prefix + "_length", shape, length, axes);
}

void write_sample_tokens(AnalysisWriter& out, const std::string& prefix,
                         const std::vector<std::vector<int32_t>>& sequences) {
  write_sample_tokens(out, prefix, sequences, {static_cast<int64_t>(sequences.size())},
                      {"sample"});
}

void write_task_samples(AnalysisWriter& out, const std::vector<TaskSample>& samples,
                        const std::vector<int64_t>& shape, const std::vector<std::string>& axes) {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<int64_t> span;
  std::vector<int32_t> distractor;
  for (const TaskSample& sample : samples) {
    tokens.push_back(sample.tokens);
    span.push_back(sample.answer_begin);
    span.push_back(sample.answer_end);
    distractor.push_back(sample.distractor);
  }
  write_sample_tokens(out, "sample", tokens, shape, axes);
  out.write_scale("span_edge", std::vector<std::string>{"begin", "end"});
  std::vector<int64_t> span_shape = shape;
  std::vector<std::string> span_axes = axes;
  span_shape.push_back(2);
  span_axes.push_back("span_edge");
  out.write_i64("answer_span", span_shape, span, span_axes);
  out.write_array("distractor", DType::kI32, shape, distractor.data(), axes);
}

}  // namespace headscope
