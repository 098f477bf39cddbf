// `--device cpu,cpu,...`: pipeline placement of a model's layers from the command line
// (core/model/layer_placement.h). On the CPU the placement runs the same kernels on the same
// values, so the recording is the one a single device writes, bit for bit.
#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "tests/support/cli_run.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

class PipelineCli : public test::TempDirTest {
 protected:
  std::string record(const std::string& family, const std::string& out) {
    return "record " + test::fixture("hf-tiny/" + family) + " --tokens 3,1,4,1,5,9,2,6,5,3 --out " +
           out +
           " --attention both --hooks blocks.*.hook_resid_post,blocks.*.attn.hook_z "
           "--save-logits --quiet";
  }
};

TEST_F(PipelineCli, RecordOnTwoCpuDevicesEqualsOneDevice) {
  for (const std::string family : {"llama", "gpt2"}) {
    SCOPED_TRACE(family);
    const std::string one = path(family + "_one.h5"), two = path(family + "_two.h5");
    auto r = test::run_cli(record(family, one) + " --device cpu");
    ASSERT_EQ(r.status, 0) << r.output;
    r = test::run_cli(record(family, two) + " --device cpu,cpu");
    ASSERT_EQ(r.status, 0) << r.output;
    r = test::shell("/usr/bin/python3 " + std::string(HEADSCOPE_SOURCE_DIR) +
                    "/tests/cli/same_recording.py " + one + " " + two);
    EXPECT_EQ(r.status, 0) << r.output;
  }
}

// Each bad list: exit status 1, one line naming the option, no file.
TEST_F(PipelineCli, BadDeviceListsFailWithOneLineNamingTheOption) {
  const std::string out = path("x.h5");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"--device cpu,gpu",
       "--device: expected cpu, cuda or cuda:N, or a comma-separated list of them "
       "(cuda:0,cuda:1), got 'cpu,gpu'"},
      {"--device cpu,", "--device: expected cpu, cuda or cuda:N, or a comma-separated"},
      {"--device cpu --devices auto", "--device excludes --devices"},
      // llama's fixture has two layers.
      {"--device cpu,cpu,cpu", "layer placement: 3 devices for 2 layers"},
      // Options that build the model whole on one device take one.
      {"--random-weights --device cpu,cpu", "--device cpu,cpu: this takes one device"}};
  if (!torch::cuda::is_available()) {
    cases.emplace_back("--devices auto",
                       "--devices auto: this build of headscope sees no CUDA device");
  }
  for (const auto& [options, message] : cases) {
    const auto r = test::run_cli(record("llama", out) + " " + options);
    EXPECT_EQ(r.status, 1) << options;
    EXPECT_THAT(r.output, HasSubstr("headscope: error: " + message)) << options;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(std::filesystem::exists(out)) << options;
  }
}

}  // namespace
}  // namespace headscope
