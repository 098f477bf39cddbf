// docs/FORMAT.md against core/store/recording_schema.h, circuit_schema.h and snr_schema.h: every name the
// schemas declare is documented, the documented dimensions of the statistics are the schema's,
// and the block_mass layer names shown in the doc (and in the schema's own comment) are what
// block_mass_layer_name writes. A renamed dataset or a changed spelling fails here until the doc
// says the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/text_file.h"
#include "core/store/circuit_schema.h"
#include "core/store/part_file_schema.h"
#include "core/store/recording_schema.h"
#include "core/store/snr_schema.h"

namespace headscope {
namespace {

std::string source_file(const std::string& relative) {
  return read_text_file(std::string(HEADSCOPE_SOURCE_DIR) + "/" + relative);
}

// Whether the doc shows `name` as code: alone (`sink`) or as the start of a path
// (`block_mass/layer_<l>`, `/model/config_json`).
bool documented(const std::string& doc, const std::string& name) {
  return doc.find("`" + name + "`") != std::string::npos ||
         doc.find("`" + name + "/") != std::string::npos;
}

std::vector<std::string> schema_names() {
  std::vector<std::string> names = {kAttrFormat, kAttrModelFamily, kAttrModelPath, kConfigJsonPath,
                                    kTokens,     kTokenText,       kAttrPrompt,    kAttrTask,
                                    kLogits,     kAttentionStats,  kStatBlockMass};
  for (const ModelIntAttribute& attribute : kModelIntAttributes) names.push_back(attribute.name);
  for (const char* name : kAttentionStatsDatasets) names.push_back(name);
  for (const char* name : kAttentionStatsAttributes) names.push_back(name);
  for (const DatasetDimensions& entry : kDatasetDimensions) {
    std::istringstream dimensions(entry.dimensions);
    for (std::string dimension; dimensions >> dimension;) names.push_back(dimension);
  }
  return names;
}

// The table row of FORMAT.md that documents `name` in its first column.
std::string table_row(const std::string& doc, const std::string& name) {
  const size_t start = doc.find("\n| `" + name + "`");
  if (start == std::string::npos) return "";
  return doc.substr(start + 1, doc.find('\n', start + 1) - start - 1);
}

std::string joined(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

TEST(FormatDoc, DocumentsEveryNameOfTheSchema) {
  const std::string doc = source_file("docs/FORMAT.md");
  for (const std::string& name : schema_names()) {
    EXPECT_TRUE(documented(doc, name)) << "docs/FORMAT.md does not mention `" << name << "`";
  }
}

TEST(FormatDoc, DocumentsEveryCircuitAndOverlapName) {
  const std::string doc = source_file("docs/FORMAT.md");
  std::vector<std::string> names(std::begin(kCircuitNames), std::end(kCircuitNames));
  for (const CircuitOverlapDataset& dataset : kCircuitOverlapDatasets) names.push_back(dataset.name);
  names.insert(names.end(), std::begin(kCircuitOverlapAttributes),
               std::end(kCircuitOverlapAttributes));
  names.insert(names.end(), std::begin(kPathPatchingNames), std::end(kPathPatchingNames));
  for (const std::string& name : names) {
    EXPECT_TRUE(documented(doc, name)) << "docs/FORMAT.md does not mention `" << name << "`";
  }
}

TEST(FormatDoc, DocumentsThePartFileNames) {
  const std::string doc = source_file("docs/FORMAT.md");
  for (const std::string& name : {kAttrRunIndex, kAttrMissingRuns}) {
    EXPECT_TRUE(documented(doc, name)) << "docs/FORMAT.md does not mention `" << name << "`";
  }
  EXPECT_THAT(doc, ::testing::HasSubstr(std::string("`OUT") + kPartFileInfix + "<k>.h5`"));
}

// Every sparsity SNR dataset and attribute is documented, each dataset's row with the schema's
// dimensions.
TEST(FormatDoc, DocumentsTheSparsitySnrGroup) {
  const std::string doc = source_file("docs/FORMAT.md");
  EXPECT_TRUE(documented(doc, std::string("/analyses/") + kSparsitySnrAnalysis));
  for (const SnrDataset& dataset : kSnrDatasets) {
    EXPECT_TRUE(documented(doc, dataset.name)) << "docs/FORMAT.md does not mention `"
                                               << dataset.name << "`";
    std::istringstream words(dataset.dimensions);
    std::vector<std::string> dimensions;
    for (std::string word; words >> word;) dimensions.push_back(word);
    // The first table row naming it (rows may name several datasets of one shape).
    std::istringstream lines(doc);
    std::string row;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("| `", 0) == 0 && line.find("`" + std::string(dataset.name) + "`") !=
                                           std::string::npos) {
        row = line;
        break;
      }
    }
    EXPECT_THAT(row, ::testing::HasSubstr("(" + joined(dimensions) + ")"))
        << "docs/FORMAT.md's row of " << dataset.name;
  }
  for (const char* attribute : kSnrAttributes) {
    EXPECT_TRUE(documented(doc, attribute)) << "docs/FORMAT.md does not mention `" << attribute
                                            << "`";
  }
}

TEST(FormatDoc, StatisticsRowsNameTheSchemaDimensions) {
  const std::string doc = source_file("docs/FORMAT.md");
  for (const char* name : kAttentionStatsDatasets) {
    const std::vector<std::string> dimensions = dataset_dimensions(attention_stats_path(name));
    ASSERT_FALSE(dimensions.empty()) << name << " has no entry in kDatasetDimensions";
    EXPECT_THAT(table_row(doc, name), ::testing::HasSubstr("(" + joined(dimensions) + ")"))
        << "docs/FORMAT.md's row of " << name;
  }
  const std::vector<std::string> block = dataset_dimensions(block_mass_path(3));
  EXPECT_EQ(block, (std::vector<std::string>{"head", kDimQueryBlock, kDimKeyBlock}));
  EXPECT_THAT(table_row(doc, std::string(kStatBlockMass) + "/layer_<l>"),
              ::testing::HasSubstr("(" + joined(block) + ")"));
}

TEST(FormatDoc, BlockMassLayerNamesAreZeroPaddedToTwoDigits) {
  EXPECT_EQ(block_mass_layer_name(0), "layer_00");
  EXPECT_EQ(block_mass_layer_name(3), "layer_03");
  EXPECT_EQ(block_mass_layer_name(12), "layer_12");
  EXPECT_EQ(block_mass_layer_name(100), "layer_100");
  EXPECT_EQ(block_mass_path(3), "attention_stats/block_mass/layer_03");
  EXPECT_EQ(attention_stats_path(kStatEntropy), "attention_stats/entropy");
}

// Every example layer name in the doc and in the schema's comment, such as layer_03, is
// spelled as block_mass_layer_name spells its number.
TEST(FormatDoc, BlockMassExamplesMatchTheNameFunction) {
  const std::regex example("layer_([0-9]+)");
  for (const char* file : {"docs/FORMAT.md", "core/store/recording_schema.h"}) {
    const std::string text = source_file(file);
    int examples = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), example);
         it != std::sregex_iterator(); ++it, ++examples) {
      EXPECT_EQ(it->str(), block_mass_layer_name(std::stoll((*it)[1].str()))) << "in " << file;
    }
    EXPECT_GT(examples, 0) << file << " shows no block_mass layer name";
  }
}

}  // namespace
}  // namespace headscope
