// read_text_file: whole regular files only, up to a limit; devices, pipes, directories and
// oversized files are errors naming the option and the path, and none of them is read forever.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/base/text_file.h"
#include "tests/support/error_message.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

class TextFile : public test::TempDirTest {};

TEST_F(TextFile, ReadsARegularFileWhole) {
  std::ofstream(path("a.txt"), std::ios::binary) << "line 1\nline 2";
  EXPECT_EQ(read_text_file(path("a.txt")), "line 1\nline 2");
  EXPECT_EQ(read_text_file(path("a.txt"), "--x", 13), "line 1\nline 2");
}

TEST_F(TextFile, RefusesDevicesPipesAndDirectories) {
  EXPECT_THAT(test::error_message<IoError>([] { read_text_file("/dev/zero", "--haystack"); }),
              "--haystack: /dev/zero is not a regular file (a device, FIFO or socket); give a "
              "file");
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  EXPECT_THAT(test::error_message<IoError>([&] { read_text_file(path("fifo")); }),
              HasSubstr("is not a regular file"));
  EXPECT_THAT(test::error_message<IoError>([&] { read_text_file(path("")); }),
              HasSubstr("is a directory"));
  EXPECT_THAT(test::error_message<IoError>([&] { read_text_file(path("none"), "--needles"); }),
              HasSubstr("--needles: cannot open " + path("none") + ": No such file"));
}

TEST_F(TextFile, RefusesFilesOverTheLimit) {
  std::ofstream(path("b.txt")) << std::string(100, 'x');
  EXPECT_THAT(test::error_message<IoError>([&] { read_text_file(path("b.txt"), "--file", 99); }),
              HasSubstr("--file: " + path("b.txt") + " is larger than"));
  EXPECT_EQ(read_text_file(path("b.txt"), "--file", 100).size(), 100u);
}

}  // namespace
}  // namespace headscope
