#include "core/store/partial_group.h"

#include <utility>

#include "core/base/error.h"
#include "core/store/recording_schema.h"

namespace headscope {

PartialGroup::PartialGroup(hid_t location, const std::string& parent, std::string name,
                           H5Where where)
    : name_(std::move(name)), where_(std::move(where)) {
  HS_ASSERT(!parent.empty() && parent[0] == '/');
  const H5Where parent_where{where_.file, parent};
  // h5_path_exists walks a path relative to the object it is given: the root here.
  H5Id root =
      h5_own(H5Oopen(location, "/", H5P_DEFAULT), H5Kind::kObject, parent_where, "open root group");
  for (size_t end = parent.find('/', 1);; end = parent.find('/', end + 1)) {
    const std::string prefix = parent.substr(0, end);
    if (!h5_path_exists(root.get(), prefix.substr(1), parent_where)) {
      if (created_.empty()) created_ = prefix;
      h5_own(H5Gcreate2(root.get(), prefix.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             H5Kind::kGroup, {where_.file, prefix}, "create group");
    }
    if (end == std::string::npos) break;
  }
  parent_ = h5_own(H5Gopen2(root.get(), parent.c_str(), H5P_DEFAULT), H5Kind::kGroup, parent_where,
                   "open group");
  const std::string partial = partial_name();
  if (h5_path_exists(parent_.get(), partial, where_)) {
    h5_check(H5Ldelete(parent_.get(), partial.c_str(), H5P_DEFAULT), where_,
             "delete an interrupted " + partial);
  }
  group_ = h5_own(H5Gcreate2(parent_.get(), partial.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  H5Kind::kGroup, where_, "create group");
}

PartialGroup::PartialGroup(PartialGroup&& other) noexcept
    : parent_(std::move(other.parent_)),
      group_(std::move(other.group_)),
      name_(std::move(other.name_)),
      where_(std::move(other.where_)),
      created_(std::exchange(other.created_, std::string())),
      committed_(other.committed_) {}

std::string PartialGroup::partial_name() const {
  return kPartialRunPrefix + name_;
}

hid_t PartialGroup::get() const {
  HS_ASSERT(!committed_ && group_ && "group writer used after commit");
  return group_.get();
}

void PartialGroup::commit() {
  HS_ASSERT(!committed_ && group_ && "group committed twice");
  group_.reset();
  if (h5_path_exists(parent_.get(), name_, where_)) {
    h5_check(H5Ldelete(parent_.get(), name_.c_str(), H5P_DEFAULT), where_,
             "replace the earlier " + name_);
  }
  h5_check(H5Lmove(parent_.get(), partial_name().c_str(), parent_.get(), name_.c_str(), H5P_DEFAULT,
                   H5P_DEFAULT),
           where_, "commit");
  committed_ = true;
  h5_check(H5Fflush(parent_.get(), H5F_SCOPE_LOCAL), where_, "flush file");
  parent_.reset();
}

void PartialGroup::abandon() noexcept {
  if (committed_ || !parent_) return;
  group_.reset();
  if (H5Ldelete(parent_.get(), partial_name().c_str(), H5P_DEFAULT) < 0) H5Eclear2(H5E_DEFAULT);
  // An absolute path resolves from the root of the file parent_ is in.
  if (!created_.empty() && H5Ldelete(parent_.get(), created_.c_str(), H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
  }
  parent_.reset();
}

}  // namespace headscope
