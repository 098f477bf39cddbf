// README.md of an export: what each file is and how to open it, naming the runs, hooks and
// shapes of this recording.
#pragma once

#include <string>

#include "notebooks_export/recording_contents.h"

namespace headscope {

std::string export_readme(const RecordingContents& contents);

}  // namespace headscope
