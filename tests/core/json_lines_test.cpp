// read_json_lines, the one reader of the JSON Lines inputs (--dataset of snr and patch,
// --needles): blank lines skipped, each record named FILE:LINE, non-objects and unknown fields
// refused where the format lists its fields, and an empty file an error naming it.
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/base/json_file.h"
#include "tests/support/error_message.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

class JsonLines : public test::TempDirTest {
 protected:
  // Each record's `a` and where it was read.
  std::vector<std::string> read(const std::string& text, bool only_fields = true) {
    const std::string file = path("data.jsonl");
    std::ofstream(file, std::ios::binary) << text;
    std::vector<std::string> seen;
    read_json_lines(
        file, "--dataset", {"a", "b"},
        [&seen](const nlohmann::json& record, const std::string& where) {
          seen.push_back(where + " " + record.at("a").dump());
        },
        only_fields);
    return seen;
  }
};

TEST_F(JsonLines, SkipsBlankLinesAndNamesEachRecordsLine) {
  const std::string file = path("data.jsonl");
  EXPECT_EQ(read("{\"a\": 1}\n\n  \t\r\n{\"a\": 2, \"b\": 0}\r\n{\"a\": 3}"),
            (std::vector<std::string>{file + ":1 1", file + ":4 2", file + ":5 3"}));
}

TEST_F(JsonLines, BadLinesNameFileAndLine) {
  const std::string file = path("data.jsonl");
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read("{\"a\": 1}\n{oops\n"); }),
              HasSubstr(file + ":2: not valid JSON ("));
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read("\n[1, 2]\n"); }),
              HasSubstr(file + ":2: expected a JSON object with a and b, got array"));
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read("{\"a\": 1, \"c\": 2}\n"); }),
              HasSubstr(file + ":1: c: unknown field; expected a, b"));
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read("\n \n"); }),
              HasSubstr(file + ": no records; expected one JSON object per line with a and b"));
  EXPECT_THAT(test::error_message<IoError>([&] {
                read_json_lines(path("none.jsonl"), "--needles", {"a"},
                                [](const nlohmann::json&, const std::string&) {});
              }),
              HasSubstr("--needles: cannot open"));
}

TEST_F(JsonLines, OtherFieldsPassWhereTheFormatAllowsThem) {
  EXPECT_EQ(read("{\"a\": 1, \"c\": 2}\n", false).size(), 1u);
}

}  // namespace
}  // namespace headscope
