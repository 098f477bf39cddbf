// Options whose value is one word of a fixed list. One table per option gives the validator
// ("--attention: expected full, stats, both or none, got 'maps'"), the word list the help shows,
// the default's word and the word -> value mapping, so they cannot disagree and no command maps
// strings by hand after parsing.
//
//   add_choice_option(*cmd, "--method", args->method,
//                     choices_named(kAblationMethods, intervention_name), "How heads are ablated");
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/cli_args.h"
#include "core/base/error.h"

namespace headscope::cli {

template <class T>
using ChoiceTable = std::vector<std::pair<std::string, T>>;

// The choices `values`, each under the name the library gives it (the name files record too).
template <class T>
ChoiceTable<T> choices_named(const std::vector<T>& values, const char* (*name_of)(T)) {
  ChoiceTable<T> table;
  for (const T& v : values) table.emplace_back(name_of(v), v);
  return table;
}

// The word of `value` in `table`, for messages that repeat the user's choice.
template <class T>
const std::string& choice_word(const ChoiceTable<T>& table, T value) {
  for (const auto& [word, v] : table) {
    if (v == value) return word;
  }
  HS_ASSERT(false && "a value outside its choice table");
}

// Registers `name` setting `value` to the chosen word's value; the value `value` holds now is the
// default (it must be in the table).
template <class T>
CLI::Option* add_choice_option(CLI::App& cmd, const std::string& name, T& value,
                               ChoiceTable<T> table, const std::string& help) {
  std::vector<std::string> words;
  for (const auto& choice : table) words.push_back(choice.first);
  const std::string default_word = choice_word(table, value);
  auto set = [&value, table = std::move(table)](const std::string& word) {
    for (const auto& [w, v] : table) {
      if (w == word) {
        value = v;
        return;
      }
    }
    HS_ASSERT(false && "the validator let a word outside the table through");
  };
  return cmd.add_option_function<std::string>(name, std::move(set), help)
      ->default_str(default_word)
      ->check(one_of(std::move(words)));
}

}  // namespace headscope::cli
