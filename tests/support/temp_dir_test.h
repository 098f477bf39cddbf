// Scratch paths for tests, unique per process: several builds of a suite (worktrees, CI jobs)
// may run at once on one machine, so no fixed name in the temporary directory is safe.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace headscope::test {

// temp_directory_path()/headscope_<stem>_<pid>; the caller creates and removes it.
inline std::filesystem::path unique_temp_path(const std::string& stem) {
  return std::filesystem::temp_directory_path() /
         ("headscope_" + stem + "_" + std::to_string(::getpid()));
}

// A gtest fixture owning a fresh directory per test and process, removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = unique_temp_path(std::string(info->test_suite_name()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

}  // namespace headscope::test
