// The token sequences an analysis scored, stored with its results so that any sample can be
// looked at, rerun or recomputed independently without rebuilding it from seeds.
//
// Sequences have different lengths, so they are stored ragged, in three datasets of the analysis
// group (h5py: tokens[offset[i] : offset[i] + length[i]] is sequence i):
//   <prefix>_tokens int32 [N]   every sequence, concatenated in sample order (axis <prefix>_token)
//   <prefix>_offset int64 [...] where each sequence starts in <prefix>_tokens
//   <prefix>_length int64 [...] its length
// offset and length have the shape and axes the caller gives (e.g. [sample], or [length,
// sample] for a grid), the sequences listed in row-major order of that shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/tasks/task_sample.h"
#include "core/store/analysis_writer.h"

namespace headscope {

void write_sample_tokens(AnalysisWriter& out, const std::string& prefix,
                         const std::vector<std::vector<int32_t>>& sequences,
                         const std::vector<int64_t>& shape, const std::vector<std::string>& axes);

// One axis named "sample" over the sequences.
void write_sample_tokens(AnalysisWriter& out, const std::string& prefix,
                         const std::vector<std::vector<int32_t>>& sequences);

// Task samples as scored: sample_tokens / sample_offset / sample_length as above, answer_span
// int64 [..., 2] ([begin, end) of the answer in the sample's tokens; axis span_edge, written
// here) and distractor int32 [...] (the token compared against in the logit difference, -1
// when the task has none).
void write_task_samples(AnalysisWriter& out, const std::vector<TaskSample>& samples,
                        const std::vector<int64_t>& shape, const std::vector<std::string>& axes);

}  // namespace headscope
