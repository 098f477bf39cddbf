// The options every command shares (cli/option_groups.h): one name and meaning everywhere,
// defaults shown in --help (CLI11 prints them as `TYPE:choices=default`), --out with --append/--force for every writer.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fixtures.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto& run = test::run_cli;

std::string zoo_model() { return test::fixture("zoo/ioi-2x4"); }

// Commands that load a model: each takes --device and the compute --dtype, with defaults shown.
const std::vector<std::string> kModelCommands = {"generate",   "record",      "retrieval", "ablate",
                                                 "importance", "sparse-eval", "patch",
                                                 "path-patch", "eap",         "snr"};

TEST(Options, EveryModelCommandTakesDeviceAndComputeDtypeWithDefaults) {
  for (const std::string& command : kModelCommands) {
    const auto help = run(command + " --help");
    ASSERT_EQ(help.status, 0) << command;
    EXPECT_THAT(help.output, HasSubstr("--device")) << command;
    EXPECT_THAT(help.output, HasSubstr("cpu, cuda or cuda:N")) << command;
    // The default ends the option's line or comes before its Excludes: --devices.
    EXPECT_THAT(help.output, ::testing::ContainsRegex("=cpu( |\n)"))
        << command << ": --device's default\n"
        << help.output;
    EXPECT_THAT(help.output, HasSubstr("--dtype")) << command;
    EXPECT_THAT(help.output, HasSubstr("Compute dtype")) << command;
    EXPECT_THAT(help.output, Not(HasSubstr("--compute-dtype"))) << command;
  }
}

TEST(Options, SampleCommandsShareTaskNLengthSeedBatch) {
  for (const char* command : {"ablate", "importance", "zoo eval"}) {
    const auto help = run(std::string(command) + " --help");
    ASSERT_EQ(help.status, 0) << command;
    for (const char* option : {"--task", "--n", "--length", "--seed", "--batch"}) {
      EXPECT_THAT(help.output, HasSubstr(option)) << command << " " << option;
    }
  }
}

TEST(Options, HelpShowsDefaults) {
  EXPECT_THAT(run("ablate --help").output, HasSubstr("=zero\n"));
  EXPECT_THAT(run("importance --help").output, HasSubstr("=0.9\n"));
  EXPECT_THAT(run("record --help").output, HasSubstr("=full\n"));
  EXPECT_THAT(run("sparse-eval --help").output, HasSubstr("=niah\n"));
  EXPECT_THAT(run("patch --help").output, HasSubstr("=denoise\n"));
  EXPECT_THAT(run("eap --help").output, HasSubstr("=eap-ig\n"));
}

TEST(Options, VersionNamesTheProject) {
  const auto version = run("--version");
  EXPECT_EQ(version.status, 0);
  EXPECT_THAT(version.output, ::testing::StartsWith("headscope 0."));
}

class OutputOptions : public test::TempDirTest {};

TEST_F(OutputOptions, EveryAnalysisWriterRefusesAnExistingFileWithoutAppendOrForce) {
  const std::string out = path("existing.h5");
  std::ofstream(out) << "precious\n";
  const std::string zoo = zoo_model();
  for (const std::string& command :
       {"ablate " + zoo + " --task ioi --heads 0.1 --n 2 --quiet --out " + out,
        "importance " + zoo + " --task ioi --n 2 --quiet --out " + out,
        "patch " + zoo + " --task ioi --n 2 --quiet --out " + out,
        "snr " + zoo + " --task ioi --n 2 --block-sizes 2 --quiet --out " + out,
        "eap " + zoo + " --task ioi --n 2 --top-n 10 --quiet --out " + out,
        "path-patch " + zoo + " --task ioi --n 2 --quiet --out " + out,
        "sparse-eval " + zoo + " --length 48 --config " + path("none") + " --quiet --out " + out,
        "retrieval " + zoo + " --length 48 --depth 0 --max-new-tokens 1 --quiet --out " + out,
        "record " + zoo + " --tokens 1,2 --quiet --out " + out}) {
    const auto r = run(command);
    EXPECT_EQ(r.status, 1) << command << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("--out: " + out + " exists; add --append")) << command;
    std::ifstream in(out);
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "precious") << command;
  }
}

TEST_F(OutputOptions, AppendAndForceExcludeEachOtherAndNeedOut) {
  const std::string zoo = zoo_model();
  const auto both = run("ablate " + zoo + " --task ioi --heads 0.1 --append --force --out " +
                        path("x.h5"));
  EXPECT_EQ(both.status, 1);
  EXPECT_THAT(both.output, HasSubstr("--append excludes --force"));
  const auto no_out = run("importance " + zoo + " --task ioi --append");
  EXPECT_EQ(no_out.status, 1);
  EXPECT_THAT(no_out.output, HasSubstr("--append requires --out"));
  const auto missing = run("ablate " + zoo + " --task ioi --heads 0.1 --n 2 --quiet --append --out " +
                           path("missing.h5"));
  EXPECT_EQ(missing.status, 1);
  EXPECT_THAT(missing.output, HasSubstr("--append: " + path("missing.h5") + " does not exist"));
}

TEST_F(OutputOptions, ForceReplacesAnAnalysisFileWhole) {
  const std::string out = path("scores.h5");
  const std::string zoo = zoo_model();
  const std::string ablate = "ablate " + zoo + " --task ioi --heads 0.1 --n 2 --quiet --out " + out;
  ASSERT_EQ(run(ablate).status, 0);
  const std::string importance = "importance " + zoo + " --task ioi --n 2 --quiet --out " + out;
  ASSERT_EQ(run(importance + " --append").status, 0);
  ASSERT_EQ(run(ablate + " --force").status, 0);
  // The replaced file holds only the last analysis.
  const auto groups = test::shell("/usr/bin/python3 -c \"import h5py, sys; "
                                  "print(sorted(h5py.File(sys.argv[1])['analyses']))\" " +
                                  out);
  if (groups.status != 0) GTEST_SKIP() << "Debian's python3-h5py is not installed";
  EXPECT_THAT(groups.output, HasSubstr("['ablation']"));
}

}  // namespace
}  // namespace headscope
