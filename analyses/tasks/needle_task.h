// Needle in a haystack: filler sentences with one needle sentence that gives a name (the key) a
// "special number" (the value: 4 to 6 digit words), then a question about the key; the answer
// is the value.
//
// Layout: <bos> filler... needle filler... "\n question : what is the special number of KEY ?
// answer :" VALUE. The sample has exactly options.length tokens (at least kNeedleMinLength); the
// haystack is whole sentences, and the gap no sentence fits is closed with "\n" tokens at its end.
// The needle goes at the sentence boundary nearest depth * haystack length.
//
// metadata: depth, length, template, key, needle_begin, needle_end, value_begin, value_end
// (token positions, [begin, end)). corrupted: the needle's key swapped for another name, so the
// question has no answer in the text.
#pragma once

#include "analyses/tasks/task_options.h"
#include "analyses/tasks/task_sample.h"

namespace headscope {

// Room for the longest needle, the question and a few filler sentences.
inline constexpr int64_t kNeedleMinLength = 64;

// InvalidInput naming "length" (below kNeedleMinLength) or "depth" (outside [0, 1]).
TaskSample needle_task(const TaskOptions& options);

}  // namespace headscope
