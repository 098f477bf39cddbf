// AnalysisWriter (core/store/analysis_writer.h): creating or opening the file, dimension scales,
// strings, attributes, the atomic commit, and the errors on bad files and names.
#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/store/analysis_writer.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/recording_reader.h"
#include "core/store/recording_writer.h"
#include "tests/support/error_message.h"
#include "tests/support/model_summary.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using test::error_message;
using ::testing::HasSubstr;

ModelSummary summary(int64_t layers, int64_t heads) {
  return test::made_up_model(layers, heads);
}

// Every object of a file with its attribute names, one line each: what "the file as it was"
// compares.
std::vector<std::string> contents(const std::string& path) {
  std::vector<std::string> lines;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(file, 0) << path;
  H5Ovisit(
      file, H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t object, const char* name, const H5O_info_t*, void* data) -> herr_t {
        std::string line = name;
        H5Aiterate_by_name(
            object, name, H5_INDEX_NAME, H5_ITER_INC, nullptr,
            [](hid_t, const char* attribute, const H5A_info_t*, void* text) -> herr_t {
              *static_cast<std::string*>(text) += " @" + std::string(attribute);
              return 0;
            },
            &line, H5P_DEFAULT);
        static_cast<std::vector<std::string>*>(data)->push_back(line);
        return 0;
      },
      &lines);
  H5Fclose(file);
  return lines;
}

std::vector<double> read_f64(const std::string& path, const std::string& dataset) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t data = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
  EXPECT_GE(data, 0) << dataset;
  const hid_t space = H5Dget_space(data);
  std::vector<double> values(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(data, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Sclose(space);
  H5Dclose(data);
  H5Fclose(file);
  return values;
}

bool exists(const std::string& path, const std::string& object) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const htri_t found = H5Lexists(file, object.c_str(), H5P_DEFAULT);
  H5Fclose(file);
  return found > 0;
}

void write_scores(const std::string& path, double value) {
  AnalysisWriter out = AnalysisWriter::begin(path, "scores", summary(2, 3));
  out.write_f64("score", {2, 3}, std::vector<double>(6, value), {"layer", "head"});
  out.set_attribute("", "threshold", 0.1);
  out.commit();
}

class AnalysisWriterTest : public test::TempDirTest {
 protected:
  // Files in the test's directory: no temporary name may be left behind.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST_F(AnalysisWriterTest, CreatesAMissingFileAsARecordingWithScaledAxes) {
  const std::string file = path("new.h5");
  write_scores(file, 0.5);
  EXPECT_EQ(files(), std::vector<std::string>{"new.h5"});
  const RecordingReader reader = RecordingReader::open(file);
  EXPECT_EQ(reader.model().n_layers, 2);
  EXPECT_EQ(reader.model().n_heads, 3);
  EXPECT_EQ(reader.run_count(), 0);
  EXPECT_EQ(read_f64(file, "/analyses/scores/score"), std::vector<double>(6, 0.5));
  EXPECT_EQ(read_f64(file, "/analyses/scores/head"), (std::vector<double>{0, 1, 2}));

  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t score = H5Dopen2(f, "/analyses/scores/score", H5P_DEFAULT);
  const hid_t layer = H5Dopen2(f, "/analyses/scores/layer", H5P_DEFAULT);
  EXPECT_GT(H5DSis_scale(layer), 0);
  EXPECT_GT(H5DSis_attached(score, layer, 0), 0);
  char label[16] = {};
  H5DSget_label(score, 1, label, sizeof label);
  EXPECT_STREQ(label, "head");
  H5Dclose(layer);
  H5Dclose(score);
  H5Fclose(f);
}

TEST_F(AnalysisWriterTest, WritesIntoARecordingAndReplacesOnlyItsOwnGroup) {
  const std::string file = path("rec.h5");
  RecordingWriter::create(file, summary(2, 3));
  {
    // The existing-recording form: no model to compare with.
    AnalysisWriter out = AnalysisWriter::begin(file, "notes");
    out.write_strings("words", {"héllo", ""}, "word");
    out.write_array("nested/values", DType::kI32, {2}, std::vector<int32_t>{4, 5}.data(), {"word"});
    out.set_attribute("words", "source", "typed");
    out.set_attribute("", "lengths", std::vector<int64_t>{64, 128});
    out.set_attribute("", "depths", std::vector<double>{0.0, 0.5});
    out.set_attribute("", "count", 3);
    out.set_attribute("", "count", 4);  // replaces
    out.commit();
  }
  write_scores(file, 1.0);
  write_scores(file, 7.0);
  EXPECT_EQ(read_f64(file, "/analyses/scores/score"), std::vector<double>(6, 7.0));
  EXPECT_TRUE(exists(file, "/analyses/notes/nested/values"));
  EXPECT_FALSE(exists(file, "/analyses/.partial_scores"));

  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t group = H5Gopen2(f, "/analyses/notes", H5P_DEFAULT);
  EXPECT_EQ(h5_read_int_attribute(group, "count", {file, ""}), 4);
  const hid_t words = H5Dopen2(group, "words", H5P_DEFAULT);
  EXPECT_EQ(h5_read_string_attribute(words, "source", {file, ""}), "typed");
  H5Dclose(words);
  H5Gclose(group);
  H5Fclose(f);
  EXPECT_EQ(RecordingReader::open(file).run_count(), 0);
}

TEST_F(AnalysisWriterTest, DestroyedUncommittedLeavesTheFileAsItWas) {
  const std::string fresh = path("fresh.h5");
  {
    AnalysisWriter out = AnalysisWriter::begin(fresh, "scores", summary(2, 3));
    out.write_f64("score", {2, 3}, std::vector<double>(6, 1.0), {"layer", "head"});
  }
  EXPECT_TRUE(files().empty());

  // A recording without /analyses keeps having none.
  const std::string recording = path("rec.h5");
  RecordingWriter::create(recording, summary(2, 3));
  const std::vector<std::string> bare = contents(recording);
  {
    AnalysisWriter out = AnalysisWriter::begin(recording, "scores", summary(2, 3));
    out.write_f64("score", {2, 3}, std::vector<double>(6, 1.0), {"layer", "head"});
  }
  EXPECT_EQ(contents(recording), bare);

  // An earlier result survives an interrupted replacement.
  write_scores(recording, 2.0);
  const std::vector<std::string> before = contents(recording);
  {
    AnalysisWriter out = AnalysisWriter::begin(recording, "scores", summary(2, 3));
    out.write_f64("score", {2, 3}, std::vector<double>(6, 9.0), {"layer", "head"});
    out.set_attribute("", "threshold", 0.9);
  }
  EXPECT_EQ(contents(recording), before);
  EXPECT_EQ(read_f64(recording, "/analyses/scores/score"), std::vector<double>(6, 2.0));
  EXPECT_EQ(files(), std::vector<std::string>{"rec.h5"});
}

TEST_F(AnalysisWriterTest, DeletesAPartialGroupACrashLeftBehind) {
  const std::string file = path("rec.h5");
  write_scores(file, 1.0);
  {
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t g =
        H5Gcreate2(f, "/analyses/.partial_scores", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
  }
  write_scores(file, 3.0);
  EXPECT_FALSE(exists(file, "/analyses/.partial_scores"));
  EXPECT_EQ(read_f64(file, "/analyses/scores/score"), std::vector<double>(6, 3.0));
}

TEST_F(AnalysisWriterTest, RejectsFilesItCannotWriteAndLeavesThemAlone) {
  const std::string text = path("notes.txt");
  std::ofstream(text) << "not hdf5\n";
  const std::string not_hdf5 =
      error_message<IoError>([&] { AnalysisWriter::begin(text, "scores", summary(2, 3)); });
  EXPECT_THAT(not_hdf5, HasSubstr(text));
  EXPECT_THAT(error_message<IoError>([&] { check_analysis_target(text, summary(2, 3)); }),
              HasSubstr(text));
  std::ifstream in(text);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "not hdf5\n");

  EXPECT_THAT(error_message<IoError>([&] { AnalysisWriter::begin(path("absent.h5"), "x"); }),
              HasSubstr("absent.h5"));

  const std::string plain = path("plain.h5");
  H5Fclose(H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  EXPECT_THAT(error_message<InvalidInput>([&] { AnalysisWriter::begin(plain, "x"); }),
              HasSubstr(plain + " is not a headscope recording"));

  const std::string other = path("other.h5");
  write_scores(other, 1.0);
  const std::vector<std::string> before = contents(other);
  const std::string shape =
      error_message<InvalidInput>([&] { AnalysisWriter::begin(other, "scores", summary(4, 8)); });
  EXPECT_THAT(shape, HasSubstr(other + " holds a recording of llama, 2 layers x 3 heads"));
  EXPECT_THAT(shape, HasSubstr("this model is llama, 4 layers x 8 heads"));
  EXPECT_EQ(error_message<InvalidInput>([&] { check_analysis_target(other, summary(4, 8)); }),
            shape);
  EXPECT_EQ(contents(other), before);

  {
    const hid_t f = H5Fopen(other.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    h5_write_int_attribute(f, kAttrFormat, kFormatVersion + 1, {other, "/"});
    H5Fclose(f);
  }
  EXPECT_THAT(error_message<InvalidInput>([&] { AnalysisWriter::begin(other, "x"); }),
              HasSubstr("was written by format version"));

  EXPECT_THAT(error_message<IoError>(
                  [&] { AnalysisWriter::begin(path("no/such/dir/x.h5"), "x", summary(2, 3)); }),
              HasSubstr("directory " + path("no/such/dir") + " does not exist"));
  check_analysis_target(path("new.h5"), summary(2, 3));
  EXPECT_FALSE(std::filesystem::exists(path("new.h5")));
}

TEST_F(AnalysisWriterTest, RejectsBadNamesShapesAndTextNamingTheObject) {
  const std::string file = path("rec.h5");
  RecordingWriter::create(file, summary(2, 3));
  for (const std::string name : {"", "a/b", ".", ".partial_x"}) {
    EXPECT_THAT(error_message<InvalidInput>([&] { AnalysisWriter::begin(file, name); }),
                HasSubstr("invalid analysis name '" + name + "'"));
  }
  AnalysisWriter out = AnalysisWriter::begin(file, "bad");
  const std::string at = file + ": /analyses/bad/";
  const auto message = [](auto call) { return error_message<InvalidInput>(call); };
  const std::vector<double> six(6, 1.0);
  EXPECT_THAT(message([&] { out.write_f64("a//b", {6}, six); }),
              HasSubstr("invalid dataset name 'a//b'"));
  EXPECT_THAT(message([&] { out.write_f64("x", {-1}, {}); }),
              HasSubstr(at + "x: dimension 0 is negative (-1)"));
  EXPECT_THAT(message([&] {
                out.write_f64("x", {2, 3}, six, {"layer"});
              }),
              HasSubstr(at + "x: 1 dimension names for 2 axes"));
  EXPECT_THAT(message([&] { out.write_f64("x", {6}, six, {"a/b"}); }),
              HasSubstr(at + "x: invalid dimension name 'a/b'"));
  EXPECT_THAT(message([&] { out.write_array("x", DType::kF16, {1}, six.data()); }),
              HasSubstr(at + "x: cannot store float16 in an analysis"));
  EXPECT_THAT(message([&] {
                out.write_strings("text", {"ok", std::string("a\0b", 3)});
              }),
              HasSubstr(at + "text: element 1 must be UTF-8 without NUL bytes; byte 1 is not"));
  EXPECT_THAT(message([&] { out.set_attribute("missing", "a", 1); }),
              HasSubstr(at + "missing: no such dataset or group"));
  EXPECT_THAT(message([&] { out.set_attribute("", "note", "\xff"); }),
              HasSubstr("attribute 'note' must be UTF-8"));

  out.write_f64("score", {2, 3}, six, {"layer", "head"});
  EXPECT_THAT(message([&] { out.write_f64("score", {6}, six); }),
              HasSubstr("score: written twice"));
  EXPECT_THAT(message([&] { out.write_f64("layer", {6}, six); }),
              HasSubstr("'layer' is already a dimension scale"));
  EXPECT_THAT(message([&] {
                out.write_f64("mask", {3, 2}, six, {"layer", "head"});
              }),
              HasSubstr(at + "mask: an axis of length 3 cannot be dimension 'layer' of length 2"));
  EXPECT_THAT(message([&] { out.write_f64("x", {6}, six, {"score"}); }),
              HasSubstr(at + "x: dimension 'score' has the name of a dataset"));
  EXPECT_THAT(message([&] {
                out.write_scale("layer", std::vector<int64_t>{5, 6});
              }),
              HasSubstr("dimension scale written twice, or after a dataset using it"));
  // Nothing of the rejected calls was written; the writer still commits.
  out.commit();
  EXPECT_FALSE(exists(file, "/analyses/bad/mask"));
  EXPECT_FALSE(exists(file, "/analyses/bad/x"));
  EXPECT_TRUE(exists(file, "/analyses/bad/score"));
}

void write_circuit(const std::string& path, const std::string& name, double value,
                   OutputMode mode = OutputMode::kAppend) {
  AnalysisWriter out = AnalysisWriter::begin({path, summary(2, 3), mode}, "circuits", name);
  out.write_f64("scores", {2, 3}, std::vector<double>(6, value), {"layer", "head"});
  out.commit();
}

TEST_F(AnalysisWriterTest, NestedGroupsKeepTheirSiblingsAndReplaceOnlyThemselves) {
  const std::string file = path("circuits.h5");
  write_circuit(file, "ioi", 1.0, OutputMode::kNew);
  write_scores(file, 5.0);
  write_circuit(file, "colors", 2.0);
  EXPECT_EQ(read_f64(file, "/analyses/circuits/ioi/scores"), std::vector<double>(6, 1.0));
  EXPECT_EQ(read_f64(file, "/analyses/circuits/colors/scores"), std::vector<double>(6, 2.0));
  // The scales are the circuit's own.
  EXPECT_EQ(read_f64(file, "/analyses/circuits/colors/head"), (std::vector<double>{0, 1, 2}));
  EXPECT_FALSE(exists(file, "/analyses/circuits/head"));

  write_circuit(file, "ioi", 3.0);
  EXPECT_EQ(read_f64(file, "/analyses/circuits/ioi/scores"), std::vector<double>(6, 3.0));
  EXPECT_EQ(read_f64(file, "/analyses/circuits/colors/scores"), std::vector<double>(6, 2.0));
  EXPECT_EQ(read_f64(file, "/analyses/scores/score"), std::vector<double>(6, 5.0));
  EXPECT_FALSE(exists(file, "/analyses/circuits/.partial_ioi"));
  EXPECT_EQ(files(), std::vector<std::string>{"circuits.h5"});

  for (const std::string name : {"", "a/b", ".partial_x"}) {
    EXPECT_THAT(error_message<InvalidInput>([&] {
                  AnalysisWriter::begin({file, summary(2, 3)}, name, "ioi");
                }),
                HasSubstr("invalid analysis name '" + name + "'"));
  }
}

TEST_F(AnalysisWriterTest, AbandonedNestedGroupLeavesTheFileAsItWas) {
  const auto abandon = [](const std::string& file, const std::string& name) {
    AnalysisWriter out = AnalysisWriter::begin({file, summary(2, 3)}, "circuits", name);
    out.write_f64("scores", {2, 3}, std::vector<double>(6, 9.0), {"layer", "head"});
  };
  // Neither /analyses nor /analyses/circuits made for it survives.
  const std::string file = path("rec.h5");
  RecordingWriter::create(file, summary(2, 3));
  const std::vector<std::string> bare = contents(file);
  abandon(file, "ioi");
  EXPECT_EQ(contents(file), bare);

  write_scores(file, 1.0);
  const std::vector<std::string> with_scores = contents(file);
  abandon(file, "ioi");
  EXPECT_EQ(contents(file), with_scores);

  // A sibling and an earlier group of the same name survive.
  write_circuit(file, "ioi", 1.0);
  const std::vector<std::string> with_ioi = contents(file);
  abandon(file, "colors");
  abandon(file, "ioi");
  EXPECT_EQ(contents(file), with_ioi);
  EXPECT_EQ(read_f64(file, "/analyses/circuits/ioi/scores"), std::vector<double>(6, 1.0));

  // A new file abandoned is never created.
  {
    AnalysisWriter out = AnalysisWriter::begin({path("new.h5"), summary(2, 3), OutputMode::kNew},
                                               "circuits", "ioi");
    out.write_f64("scores", {2, 3}, std::vector<double>(6, 9.0), {"layer", "head"});
  }
  EXPECT_EQ(files(), std::vector<std::string>{"rec.h5"});
}

// The format promise: xarray opens an analysis group with named, valued axes.
TEST_F(AnalysisWriterTest, XarrayOpensTheGroupWithScaleValues) {
  if (std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' 2>/dev/null") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 cannot import xarray and h5netcdf";
  }
  const std::string file = path("eval.h5");
  {
    AnalysisWriter out = AnalysisWriter::begin(file, "eval", summary(2, 3));
    out.write_scale("config", std::vector<std::string>{"dense", "sparse"});
    out.write_scale("length", std::vector<int64_t>{64, 128, 256});
    out.write_f64("accuracy", {2, 3}, {1, 1, 1, 0.5, 0.25, 0}, {"config", "length"});
    out.write_strings("label", {"a", "b"}, "config");
    out.set_attribute("", "lengths", std::vector<int64_t>{64, 128, 256});
    out.commit();
  }
  const test::ShellResult check = test::shell(
      "/usr/bin/python3 -c \"import xarray as xr; ds = xr.open_dataset('" + file +
      "', engine='h5netcdf', group='analyses/eval'); "
      "a = ds.accuracy.sel(config='sparse', length=128); "
      "print(ds.accuracy.dims, list(ds.config.values), list(ds.length.values), float(a), "
      "list(ds.attrs['lengths']))\"");
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_EQ(check.output,
            "('config', 'length') ['dense', 'sparse'] [64, 128, 256] 0.25 "
            "[64, 128, 256]\n");
}

}  // namespace
}  // namespace headscope
