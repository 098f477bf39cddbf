#include "dist/work_split.h"

#include "core/base/error.h"
#include "dist/byte_codec.h"

namespace headscope {

std::vector<uint8_t> WorkSplit::runs(const std::vector<double>& costs) const {
  if (!active()) return std::vector<uint8_t>(costs.size(), 1);
  std::vector<uint8_t> mine(costs.size(), 0);
  for (const int64_t b : share(costs)) mine.at(static_cast<size_t>(b)) = 1;
  return mine;
}

std::vector<std::string> exchange_items(const WorkSplit& split,
                                        const std::map<int64_t, std::string>& mine, int64_t count,
                                        const std::string& what) {
  std::vector<std::string> parts;
  if (split.active()) {
    ByteWriter out;
    out.put<uint64_t>(mine.size());
    for (const auto& [index, bytes] : mine) {
      out.put(index);
      out.put_string(bytes);
    }
    parts = split.all_gather(out.bytes());
  }
  std::vector<std::string> items(static_cast<size_t>(count));
  std::vector<uint8_t> seen(items.size(), 0);
  const auto add = [&](int64_t index, std::string bytes, const std::string& from) {
    if (index < 0 || index >= count) {
      throw IoError(from + ": item " + std::to_string(index) + " outside the " +
                    std::to_string(count));
    }
    if (seen[static_cast<size_t>(index)] != 0) {
      throw IoError(from + ": item " + std::to_string(index) + " came twice");
    }
    seen[static_cast<size_t>(index)] = 1;
    items[static_cast<size_t>(index)] = std::move(bytes);
  };
  if (!split.active()) {
    for (const auto& [index, bytes] : mine) add(index, bytes, what);
  }
  for (size_t rank = 0; rank < parts.size(); ++rank) {
    const std::string from = what + " of rank " + std::to_string(rank);
    ByteReader in(parts[rank], from);
    const auto n = in.get<uint64_t>();
    for (uint64_t k = 0; k < n; ++k) {
      const auto index = in.get<int64_t>();
      add(index, in.get_string(), from);
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (seen[i] == 0) throw IoError(what + ": no process returned item " + std::to_string(i));
  }
  return items;
}

}  // namespace headscope
