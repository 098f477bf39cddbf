#include "analyses/retrieval/retrieval_file.h"

#include <cstdio>
#include <fstream>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "analyses/sample_tokens.h"
#include "core/base/error.h"
#include "core/store/analysis_writer.h"
#include "core/store/hdf5_handle.h"
#include "core/store/recording_schema.h"

namespace headscope {
namespace {

std::vector<std::string> needle_field(const RetrievalHeadResult& result,
                                      std::string Needle::*field) {
  std::vector<std::string> values;
  for (const Needle& needle : result.options.needles) values.push_back(needle.*field);
  return values;
}

template <typename T>
void write_per_sample(AnalysisWriter& out, const std::string& name, DType dtype,
                      const std::vector<T>& values) {
  out.write_array(name, dtype, {static_cast<int64_t>(values.size())}, values.data(), {"sample"});
}

}  // namespace

void write_retrieval_heads(const AnalysisTarget& target, const RetrievalHeadResult& result,
                           const std::string& model_path) {
  const RetrievalOptions& options = result.options;
  const auto samples = static_cast<int64_t>(result.samples.size());
  const int64_t layers = result.score.size(0), heads = result.score.size(1);

  std::vector<int64_t> length, needle, steps, span, heads_found;
  std::vector<double> depth, rouge;
  std::vector<int32_t> accepted;
  std::vector<std::string> text;
  std::vector<std::vector<int32_t>> prompts, generated;
  auto per_sample = torch::zeros({samples, layers, heads}, torch::kFloat64);
  for (int64_t i = 0; i < samples; ++i) {
    const RetrievalSample& sample = result.samples[static_cast<size_t>(i)];
    length.push_back(sample.length);
    depth.push_back(sample.depth);
    needle.push_back(sample.needle);
    accepted.push_back(sample.accepted ? 1 : 0);
    rouge.push_back(sample.rouge);
    steps.push_back(static_cast<int64_t>(sample.generated.size()));
    span.push_back(sample.answer_begin);
    span.push_back(sample.answer_end);
    text.push_back(sample.text);
    prompts.push_back(sample.prompt);
    generated.push_back(sample.generated);
    per_sample[i].copy_(sample.score);
  }
  for (const auto& [layer, head] : result.retrieval_heads) {
    heads_found.push_back(layer);
    heads_found.push_back(head);
  }

  AnalysisWriter out = AnalysisWriter::begin(target, kRetrievalAnalysis);
  out.write_scale("span_edge", std::vector<std::string>{"begin", "end"});
  out.write_scale("head_coordinate", std::vector<std::string>{"layer", "head"});
  auto score = result.score.contiguous();
  out.write_array("score", DType::kF64, {layers, heads}, score.data_ptr<double>(),
                  {"layer", "head"});
  auto kv = result.kv_group_max.contiguous();
  out.write_array("kv_group_max", DType::kF64, kv.sizes().vec(), kv.data_ptr<double>(),
                  {"layer", "kv_head"});
  out.write_array("per_sample", DType::kF64, {samples, layers, heads},
                  per_sample.data_ptr<double>(), {"sample", "layer", "head"});
  write_per_sample(out, "length", DType::kI64, length);
  write_per_sample(out, "depth", DType::kF64, depth);
  write_per_sample(out, "needle", DType::kI64, needle);
  write_per_sample(out, "accepted", DType::kI32, accepted);
  write_per_sample(out, "rouge", DType::kF64, rouge);
  write_per_sample(out, "steps", DType::kI64, steps);
  out.write_array("answer_span", DType::kI64, {samples, 2}, span.data(), {"sample", "span_edge"});
  out.write_strings("generated_text", text, "sample");
  write_sample_tokens(out, "prompt", prompts);
  write_sample_tokens(out, "generated", generated);
  out.write_array("retrieval_heads", DType::kI64,
                  {static_cast<int64_t>(result.retrieval_heads.size()), 2}, heads_found.data(),
                  {"retrieval_head", "head_coordinate"});
  out.write_strings("needles/needle", needle_field(result, &Needle::needle));
  out.write_strings("needles/question", needle_field(result, &Needle::question));
  out.write_strings("needles/answer", needle_field(result, &Needle::answer));

  out.set_attribute("", "method", "Wu et al. 2024 copy-paste retrieval score");
  out.set_attribute("", "lengths", options.lengths);
  out.set_attribute("", "depths", options.depths);
  out.set_attribute("", "semantics", retrieval_semantics_name(options.semantics));
  out.set_attribute("", "threshold", options.threshold);
  out.set_attribute("", "min_rouge", options.min_rouge);
  out.set_attribute("", "max_new_tokens", options.max_new_tokens);
  out.set_attribute("", "question_template", options.question_template);
  out.set_attribute("", "haystack", options.haystack_label);
  out.set_attribute("", "seed", static_cast<int64_t>(options.seed));
  out.set_attribute("", "bos", options.bos ? int64_t{*options.bos} : int64_t{-1});
  out.set_attribute("", "stop_tokens",
                    std::vector<int64_t>(options.stop_tokens.begin(), options.stop_tokens.end()));
  out.set_attribute("", "stop_at_newline", options.stop_at_newline ? 1 : 0);
  out.set_attribute("", "stop_at_answer", options.stop_at_answer ? 1 : 0);
  out.set_attribute("", "samples", samples);
  out.set_attribute("", "accepted_samples", result.accepted);
  out.set_attribute("", "model_path", model_path);
  out.set_attribute("", "argmax", "per decoding step: argmax over keys of q.k in float32");
  out.commit();
}

void export_retrieval_json(const std::string& path, const RetrievalHeadResult& result) {
  const int64_t layers = result.score.size(0), heads = result.score.size(1);
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  for (int64_t layer = 0; layer < layers; ++layer) {
    for (int64_t head = 0; head < heads; ++head) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const RetrievalSample& sample : result.samples) {
        if (sample.accepted) list.push_back(sample.score[layer][head].item<double>());
      }
      root[std::to_string(layer) + "-" + std::to_string(head)] = std::move(list);
    }
  }
  const std::string temp = path + ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << root.dump() << "\n";
    out.close();
    if (!out) {
      std::remove(temp.c_str());
      throw IoError("--export-json: cannot write " + path);
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw IoError("--export-json: cannot write " + path);
  }
}

std::optional<torch::Tensor> read_score_grid(const std::string& path, const std::string& dataset) {
  h5_init();
  H5Id file = open_recording_file(path, H5F_ACC_RDONLY);
  const H5Where where{path, dataset};
  if (!h5_path_exists(file.get(), dataset.substr(dataset.find_first_not_of('/')), where)) {
    return std::nullopt;
  }
  H5Id data = h5_own(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                     "open dataset");
  H5Id type = h5_own(H5Dget_type(data.get()), H5Kind::kDatatype, where, "read type");
  const std::vector<hsize_t> dims = h5_dataset_dims(data.get(), where);
  if (dims.size() != 2 || H5Tget_class(type.get()) != H5T_FLOAT) {
    throw InvalidInput(where.str() + ": expected floating-point [layer, head] scores, got " +
                       std::to_string(dims.size()) + " dimensions");
  }
  auto score =
      torch::zeros({static_cast<int64_t>(dims[0]), static_cast<int64_t>(dims[1])}, torch::kFloat64);
  if (score.numel() > 0) {
    h5_check(H5Dread(data.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     score.data_ptr<double>()),
             where, "read dataset");
  }
  return score;
}

torch::Tensor read_retrieval_scores(const std::string& path) {
  std::optional<torch::Tensor> score = read_score_grid(path, kRetrievalScoreDataset);
  if (!score) {
    throw InvalidInput(path + " has no " + kRetrievalScoreDataset +
                       " (write it with `headscope retrieval`)");
  }
  return *score;
}

torch::Tensor read_head_scores(const std::string& path, const std::string& dataset,
                               const ModelConfig& config) {
  std::optional<torch::Tensor> score = read_score_grid(path, dataset);
  if (!score) {
    throw InvalidInput(path + " has no dataset " + dataset +
                       " (per-head scores [layer, head], e.g. from `headscope retrieval`)");
  }
  if (score->size(0) != config.n_layers || score->size(1) != config.n_heads) {
    throw InvalidInput(path + ": " + dataset + ": shape [" + std::to_string(score->size(0)) + ", " +
                       std::to_string(score->size(1)) + "] does not match the model's [" +
                       std::to_string(config.n_layers) + ", " + std::to_string(config.n_heads) +
                       "] [layer, head]");
  }
  return *score;
}

}  // namespace headscope
