// explore.ipynb of an export: an nbformat 4.5 notebook whose code cells read the recording with
// plain h5py, xarray and matplotlib (no headscope code), plot one head's pattern and the
// layer x head grid of mean attention entropy, and save both figures next to the recording.
// Every cell copes with runs holding patterns, attention_stats, both or neither.
#pragma once

#include <nlohmann/json.hpp>

#include "notebooks_export/recording_contents.h"

namespace headscope {

nlohmann::ordered_json example_notebook(const RecordingContents& contents);

}  // namespace headscope
