// Names of a recording split over the ranks of a distributed launch (docs/FORMAT.md, "Part
// files"; docs/DISTRIBUTED.md). Each rank writes its runs to its own part file beside the
// output, OUT.rank<k>.h5, an ordinary recording whose runs carry run_index, their index in the
// main file; rank 0 copies them into the main file OUT.h5 as /runs/<i>, and /runs's attribute
// missing_runs lists the indices no part file held (empty when the launch finished).
#pragma once

namespace headscope {

// int64 attribute of a part file's run: its index i in the main file's /runs/<i>.
inline constexpr char kAttrRunIndex[] = "run_index";
// int64 [n] attribute of the main file's /runs: the runs of the launch no part file holds.
inline constexpr char kAttrMissingRuns[] = "missing_runs";
// Between a part file's stem and its extension: OUT.h5 -> OUT.rank1.h5.
inline constexpr char kPartFileInfix[] = ".rank";

}  // namespace headscope
