// A group that readers see only complete: built as PARENT/.partial_NAME (items 7 and 9 of
// core/store/recording_schema.h), linked as PARENT/NAME by commit(), deleted when destroyed
// uncommitted (an exception, an interrupted prompt). Runs and analyses are both written so.
#pragma once

#include <string>

#include "core/store/hdf5_handle.h"

namespace headscope {

class PartialGroup {
 public:
  // Creates PARENT/.partial_NAME in the file of `location`, first deleting one of that name a
  // crash left behind. `parent` is an absolute path (/runs, /analyses, /analyses/circuits); the
  // groups of it that are missing are created, and deleted again with the partial group when
  // that is abandoned. `where` names the group as it will be once committed (PARENT/NAME), for
  // messages.
  PartialGroup(hid_t location, const std::string& parent, std::string name, H5Where where);
  PartialGroup(PartialGroup&& other) noexcept;
  PartialGroup& operator=(PartialGroup&&) = delete;
  ~PartialGroup() { abandon(); }

  // The group being written; only before commit().
  hid_t get() const;
  bool committed() const { return committed_; }
  const H5Where& where() const { return where_; }

  // Closes the group, links it as PARENT/NAME (replacing an object of that name), removes the
  // partial name and flushes the file. No call but committed() and where() may follow.
  void commit();

 private:
  // Deletes the partial group, and the groups of the parent this made; never throws (a group that
  // survives a failure here is invisible to readers and deleted by the next writer).
  void abandon() noexcept;
  std::string partial_name() const;

  H5Id parent_;
  H5Id group_;  // closed by commit()
  std::string name_;
  H5Where where_;
  // The outermost group of the parent's path this created ("" when it existed whole): deleting
  // it deletes every group made for this one.
  std::string created_;
  bool committed_ = false;  // set only once the group has its name: a failed commit abandons
};

}  // namespace headscope
