// The words of the zoo's small world, by role. Task generators draw from these lists, and the
// Vocabulary gives each word one token. Filler lists may share a word (the Vocabulary keeps one
// token); the lists a metric reads (names, colors, objects, places, digits) share none, so an
// answer token has one role.
#pragma once

#include <string>
#include <vector>

namespace headscope::words {

const std::vector<std::string>& punctuation();  // ".", ",", "?", ":", "\n"
const std::vector<std::string>& function_words();
const std::vector<std::string>& names();
const std::vector<std::string>& colors();
const std::vector<std::string>& objects();
const std::vector<std::string>& places();
const std::vector<std::string>& digits();  // "zero" .. "nine", in value order
const std::vector<std::string>& nouns();   // creatures, people and things for filler subjects
const std::vector<std::string>& transitive_verbs();    // past tense, take an object
const std::vector<std::string>& intransitive_verbs();  // past tense, no object
const std::vector<std::string>& adjectives();
const std::vector<std::string>& adverbs();
const std::vector<std::string>& times();  // "morning", "monday", ...
// Words only the task templates use (needle, questions, IOI verbs).
const std::vector<std::string>& task_words();

}  // namespace headscope::words
