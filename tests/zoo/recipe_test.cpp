#include "zoo/recipe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "analyses/tasks/vocabulary.h"
#include "core/base/error.h"

namespace headscope {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json valid() {
  return json::parse(R"({
    "model": {"layers": 2, "heads": 4, "kv_heads": 2, "d_model": 64, "d_head": 16, "d_mlp": 128,
              "max_positions": 64, "tied": false},
    "training": {"steps": 10, "batch_size": 4, "lr": 0.001, "seed": 3},
    "tasks": [{"task": "induction", "min_length": 8, "max_length": 16}],
    "loss": {"answer": 1.0, "filler": 0.5}
  })");
}

std::string error_for(const json& recipe) {
  try {
    parse_recipe(recipe.dump(), "r.json");
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "no error";
}

TEST(Recipe, ParsesShapeTrainingAndMixture) {
  const Recipe r = parse_recipe(valid().dump(), "zoo/recipes/small.json");
  EXPECT_EQ(r.name, "small");
  EXPECT_EQ(r.model.n_kv_heads, 2);
  EXPECT_EQ(r.model.vocab_size, Vocabulary::builtin().size());
  EXPECT_EQ(r.special.pad, Vocabulary::builtin().pad());
  EXPECT_FALSE(r.model.tied_embeddings);
  EXPECT_EQ(r.training.steps, 10);
  EXPECT_EQ(r.training.seed, 3u);
  ASSERT_EQ(r.tasks.size(), 1u);
  EXPECT_EQ(r.tasks[0].max_length, 16);
  EXPECT_DOUBLE_EQ(r.filler_weight, 0.5);
}

TEST(Recipe, ErrorsNameFileAndField) {
  json missing = valid();
  missing["training"].erase("lr");
  EXPECT_THAT(error_for(missing), HasSubstr("r.json: missing field training.lr"));

  json wrong_type = valid();
  wrong_type["model"]["heads"] = "four";
  EXPECT_THAT(error_for(wrong_type), HasSubstr("r.json: field model.heads: expected"));

  json bad_task = valid();
  bad_task["tasks"][0]["max_length"] = 4;
  EXPECT_THAT(error_for(bad_task), HasSubstr("field tasks[0].max_length"));

  json too_long = valid();
  too_long["tasks"][0]["max_length"] = 65;
  EXPECT_THAT(error_for(too_long), HasSubstr("exceeds model.max_positions"));

  json unknown_task = valid();
  unknown_task["tasks"][0]["task"] = "sorting";
  EXPECT_THAT(error_for(unknown_task), HasSubstr("field tasks[0].task: unknown task sorting"));

  json gqa = valid();
  gqa["model"]["kv_heads"] = 3;
  EXPECT_THAT(error_for(gqa), HasSubstr("field model.kv_heads"));

  EXPECT_THAT(error_for(json::array()), HasSubstr("r.json: not a JSON object"));
}

TEST(Recipe, ShippedRecipesParse) {
  for (const auto& name : recipe_names()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(load_recipe(name).name, name);
  }
  EXPECT_GE(recipe_names().size(), 2u);
  EXPECT_THROW(load_recipe("no-such-recipe"), InvalidInput);
}

}  // namespace
}  // namespace headscope
