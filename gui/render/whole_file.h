// Files that appear whole or not at all: written to a temporary name beside the target and
// renamed on success, so a failed or interrupted write leaves nothing (PNG, SVG, CSV exports).
#pragma once

#include <functional>
#include <string>

namespace headscope {

// Calls write(partial_path); when it returns true, renames the partial file to `path`. Throws
// IoError ("<path>: could not write the <what>") when it returns false or the rename fails,
// after removing the partial file.
void write_whole_file(const std::string& path, const std::string& what,
                      const std::function<bool(const std::string& partial)>& write);

}  // namespace headscope
