#include "analyses/sparse/head_evidence.h"

#include <torch/torch.h>

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/hdf5_handle.h"
#include "core/store/recording_reader.h"
#include "core/store/recording_schema.h"

namespace headscope {
namespace {

torch::Tensor f32(const RecordingReader& r, int64_t run, const std::string& name,
                  const std::vector<int64_t>& shape) {
  auto values = r.read_f32(run, name);
  return torch::from_blob(values.data(), shape, torch::kFloat32).clone();
}

StatsRun read_stats_run(const RecordingReader& r, int64_t run, int64_t n_layers, int64_t n_heads) {
  StatsRun s;
  s.run = run;
  s.block_size = r.int_attribute(run, kAttentionStats, kAttrBlockSize);
  s.sink = r.int_attribute(run, kAttentionStats, kAttrSink);
  s.window = r.int_attribute(run, kAttentionStats, kAttrWindow);
  s.k = r.int_attribute(run, kAttentionStats, kAttrTopK);
  const std::string sink_mass = attention_stats_path(kStatSinkMass);
  const auto shape = r.shape(run, sink_mass);
  if (shape.size() != 3 || shape[0] != n_layers || shape[1] != n_heads) {
    throw InvalidInput("run " + std::to_string(run) + ": " + sink_mass +
                       " is not [n_layers, n_heads, T] of the file's model");
  }
  s.length = shape[2];
  const std::vector<int64_t> lht = {n_layers, n_heads, s.length};
  const std::vector<int64_t> lhtk = {n_layers, n_heads, s.length, s.k};
  s.sink_mass = f32(r, run, sink_mass, lht);
  s.local_mass = f32(r, run, attention_stats_path(kStatLocalMass), lht);
  s.topk_prob = f32(r, run, attention_stats_path(kStatTopkProb), lhtk);
  auto index = r.read_i32(run, attention_stats_path(kStatTopkIndex));
  s.topk_index = torch::from_blob(index.data(), lhtk, torch::kInt32).to(torch::kInt64);
  const int64_t nb = (s.length + s.block_size - 1) / s.block_size;
  for (int64_t l = 0; l < n_layers; ++l) {
    const std::string name = block_mass_path(l);
    if (!r.has(run, name)) {
      throw InvalidInput("run " + std::to_string(run) + ": no " + name + " (block_mass of layer " +
                         std::to_string(l) + ")");
    }
    s.block_mass.push_back(f32(r, run, name, {n_heads, nb, nb}));
  }
  return s;
}

}  // namespace

HeadEvidence read_head_evidence(const std::string& path, int64_t max_runs) {
  h5_init();
  HeadEvidence e;
  e.path = path;
  const H5Where where{path, ""};
  {
    H5Id file =
        open_recording_file(path, H5F_ACC_RDONLY);
    auto attr = [&](const char* name) {
      return h5_read_int_attribute(file.get(), name, where).value_or(0);
    };
    e.n_layers = attr("n_layers"), e.n_heads = attr("n_heads"), e.n_kv_heads = attr("n_kv_heads");
  }
  e.retrieval_score = read_score_grid(path, kRetrievalScoreDataset);
  if (e.retrieval_score) {
    const int64_t L = e.retrieval_score->size(0), H = e.retrieval_score->size(1);
    if (e.n_layers == 0) e.n_layers = L, e.n_heads = H;
    if (L == 0 || H == 0 || L != e.n_layers || H != e.n_heads) {
      throw InvalidInput(path + ": " + kRetrievalScoreDataset + " is [" + std::to_string(L) + ", " +
                         std::to_string(H) + "] but the file's model has " +
                         std::to_string(e.n_layers) + " layers x " + std::to_string(e.n_heads) +
                         " heads");
    }
  }
  if (e.n_kv_heads == 0) e.n_kv_heads = e.n_heads;
  const bool has_runs = [&] {
    H5Id file =
        open_recording_file(path, H5F_ACC_RDONLY);
    return h5_path_exists(file.get(), "runs", where);
  }();
  if (has_runs) {
    auto reader = RecordingReader::open(path);
    for (int64_t run = 0; run < reader.run_count(); ++run) {
      if (max_runs > 0 && static_cast<int64_t>(e.stats.size()) >= max_runs) break;
      if (!reader.has(run, kAttentionStats)) continue;
      e.stats.push_back(read_stats_run(reader, run, e.n_layers, e.n_heads));
    }
  }
  if (!e.retrieval_score && e.stats.empty()) {
    throw InvalidInput(path + ": holds neither retrieval scores (" + kRetrievalScoreDataset +
                       ", from `headscope retrieval`) nor attention statistics "
                       "(/runs/<i>/attention_stats, from `headscope record --attention stats`)");
  }
  if (e.n_heads % e.n_kv_heads != 0) {
    throw InvalidInput(path + ": n_heads " + std::to_string(e.n_heads) +
                       " is not a multiple of n_kv_heads " + std::to_string(e.n_kv_heads));
  }
  return e;
}

}  // namespace headscope
