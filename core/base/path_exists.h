// Whether something exists at a path (a file, a directory, a dangling name is not): the one
// check the output and staging code asks before choosing new, append or replace.
#pragma once

#include <string>

namespace headscope {

bool path_exists(const std::string& path);

}  // namespace headscope
