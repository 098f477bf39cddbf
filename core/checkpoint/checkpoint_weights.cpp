#include "core/checkpoint/checkpoint_weights.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/base/json_file.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kSingleFile[] = "model.safetensors";
constexpr char kIndexFile[] = "model.safetensors.index.json";

// Shard names come from a downloaded file, so they must not reach outside the model directory.
bool stays_inside(const std::string& shard) {
  const fs::path path(shard);
  if (shard.empty() || path.is_absolute() || path.has_root_name()) return false;
  for (const auto& part : path) {
    if (part == "..") return false;
  }
  return true;
}

// Whether path names something; IoError naming it when it cannot even be inspected (a symlink
// loop, no permission on the directory). The throwing std::filesystem overloads would escape
// as std::filesystem::filesystem_error.
bool path_exists(const fs::path& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) return false;
  if (error) throw IoError(path.string() + ": cannot inspect: " + error.message());
  return true;
}

}  // namespace

CheckpointWeights CheckpointWeights::open(const std::string& dir) {
  CheckpointWeights weights;
  const fs::path root(dir);
  // SafetensorsFile (through MappedFile) refuses what exists but is not a regular file.
  if (path_exists(root / kSingleFile)) {
    weights.files_.push_back(SafetensorsFile::open((root / kSingleFile).string()));
    for (const auto& t : weights.files_[0].tensors()) weights.file_of_.emplace(t.name, 0);
    return weights;
  }
  if (!path_exists(root / kIndexFile)) {
    throw IoError(dir + ": no " + kSingleFile + " or " + kIndexFile + " in this directory");
  }

  const std::string index_path = (root / kIndexFile).string();
  const json index = read_json_file(index_path);
  const auto map = index.is_object() ? index.find("weight_map") : index.end();
  if (map == index.end() || !map->is_object()) {
    throw InvalidInput(index_path + ": expected an object with a \"weight_map\" object");
  }

  std::map<std::string, size_t> shard_index;  // shard file name -> index into files_
  for (const auto& item : map->items()) {
    const std::string& name = item.key();
    const std::string where = index_path + ": tensor '" + name + "'";
    if (!item.value().is_string()) throw InvalidInput(where + ": shard must be a file name");
    const std::string shard = item.value().get<std::string>();
    if (!stays_inside(shard)) {
      throw InvalidInput(where + ": shard '" + shard + "' is not inside the model directory");
    }
    auto [it, is_new] = shard_index.emplace(shard, weights.files_.size());
    if (is_new) {
      const fs::path shard_path = root / shard;
      if (!path_exists(shard_path)) throw IoError(where + ": shard '" + shard + "' does not exist");
      weights.files_.push_back(SafetensorsFile::open(shard_path.string()));
    }
    if (weights.files_[it->second].find(name) == nullptr) {
      throw InvalidInput(where + ": listed in shard '" + shard + "', which does not contain it");
    }
    weights.file_of_.emplace(name, it->second);
  }
  return weights;
}

std::optional<CheckpointWeights::Entry> CheckpointWeights::find(std::string_view name) const {
  const auto it = file_of_.find(name);
  if (it == file_of_.end()) return std::nullopt;
  const SafetensorsFile& file = files_[it->second];
  return Entry{&file, file.find(name)};
}

std::vector<std::string> CheckpointWeights::names() const {
  std::vector<std::string> out;
  out.reserve(file_of_.size());
  for (const auto& [name, file] : file_of_) out.push_back(name);
  return out;
}

uint64_t CheckpointWeights::total_numel() const {
  uint64_t total = 0;
  for (const auto& [name, file] : file_of_) total += files_[file].find(name)->numel();
  return total;
}

}  // namespace headscope
