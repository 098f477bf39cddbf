// The main file of a recording whose runs were written by several processes, each to its own
// part file (core/store/part_file_schema.h): written last, by one process, it copies in the
// runs the part files hold and says which are missing, so a rank that died loses no other
// rank's runs and the main file is an ordinary recording.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/store/recording_schema.h"
#include "core/store/staged_file.h"

namespace headscope {

// The part file of `rank` beside `path`: OUT.h5 -> OUT.rank<k>.h5 (the extension stays last).
std::string part_file_path(const std::string& path, int64_t rank);

struct GatheredRecording {
  std::vector<int64_t> copied;          // main-file indices of the runs copied in, ascending
  std::vector<int64_t> missing;         // of [0, run_count), the runs no part file holds
  std::vector<std::string> unreadable;  // "PART: why" for each part file that could not be read
};

// Writes `path` (staged: it appears complete or not at all): the root attributes and model of
// `model`, and as /runs/<i> a copy of each run of `parts` whose run_index is i, without that
// attribute (the run one process would have written). A part file that is missing or cannot
// be read gives nothing and is reported, not an error: the point is to keep what the other
// parts hold.
GatheredRecording gather_part_files(const std::string& path, StagedFile::Target target,
                                    const ModelSummary& model,
                                    const std::vector<std::string>& parts, int64_t run_count);

}  // namespace headscope
