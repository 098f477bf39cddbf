#include "analyses/snr/snr_queries.h"

#include "core/base/error.h"

namespace headscope {
namespace {

int64_t metadata_int(const TaskSample& sample, const char* key) {
  const auto it = sample.metadata.find(key);
  HS_ASSERT(it != sample.metadata.end());
  return std::stoll(it->second);
}

}  // namespace

const std::vector<std::string>& snr_task_names() {
  static const std::vector<std::string> names = {"niah", "induction", "ioi"};
  return names;
}

std::vector<SnrQuery> snr_queries(const TaskSample& sample, int64_t index) {
  std::vector<SnrQuery> out;
  if (sample.task == "niah") {
    const int64_t value_begin = metadata_int(sample, "value_begin");
    for (int64_t a = sample.answer_begin; a < sample.answer_end; ++a) {
      out.push_back({index, a - 1, {value_begin + (a - sample.answer_begin)}});
    }
  } else if (sample.task == "induction") {
    const int64_t repeat = metadata_int(sample, "repeat_length");
    for (int64_t a = sample.answer_begin; a < sample.answer_end; ++a) {
      out.push_back({index, a - 1, {a - repeat}});
    }
  } else if (sample.task == "ioi") {
    out.push_back({index, sample.answer_begin - 1, {metadata_int(sample, "io_pos")}});
  } else {
    throw InvalidInput(
        "--task: snr needs a task whose relevant keys are known (niah, induction, "
        "ioi), not '" +
        sample.task + "'");
  }
  for (const SnrQuery& q : out) {
    HS_ASSERT(!q.relevant.empty() && q.relevant.back() <= q.position);
    HS_ASSERT(sample.tokens[static_cast<size_t>(q.relevant.front())] ==
              sample.tokens[static_cast<size_t>(q.position + 1)]);
  }
  return out;
}

}  // namespace headscope
