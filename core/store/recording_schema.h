// headscope recording format, version 1 (kFormatVersion); plain h5py and xarray read it.
//
//  1. Root attributes: headscope_format (int64, the format version), model_family and model_path
//     (strings), n_layers, n_heads, n_kv_heads, d_head, d_model, vocab_size (int64). Every string,
//     attribute or dataset element, is variable-length UTF-8, so h5py returns str.
//  2. /model/config_json: scalar string dataset, the checkpoint's config.json text.
//  3. /runs/<i>: one group per recorded prompt, i = 0, 1, 2, ... in decimal. String attributes
//     prompt, task, and any other the recorder sets.
//  4. /runs/<i>/tokens: int32 [T]; /runs/<i>/token_text: strings [T].
//  5. /runs/<i>/<hook name>: one dataset per recorded hook, named exactly by the hook, dots
//     included (blocks.3.attn.hook_pattern [n_heads, T, T]; activations [T, ...]); float16
//     (IEEE half, little-endian: numpy float16) or float32. /runs/<i>/logits [T, vocab] likewise.
//  6. Storage: datasets of rank >= 1 with no zero dimension are chunked with shuffle + deflate
//     level 1 (filters built into HDF5; no plugin needed). Chunks are min(T, 65536) for rank 1;
//     otherwise 1 on the leading dimensions and min(dim, 512) on the last two, so
//     [n_heads, T, T] is chunked [1, 512, 512] and reading one head touches only its chunks.
//     Empty and scalar datasets are contiguous.
//  7. /runs/.partial_<i>: a run being written. Committing renames it to /runs/<i> and flushes the
//     file, so an interrupted recording keeps every committed run. Readers skip these groups;
//     the next append deletes leftovers.
//  8. /runs/<i>/attention_stats/: per-query statistics of every layer's attention, for contexts
//     too long for full maps (float32 or float16 unless noted):
//       entropy, sink_mass, local_mass, max_prob [L, H, T]; argmax int32 [L, H, T];
//       topk_index int32 and topk_prob [L, H, T, k];
//       block_mass/layer_<l> [H, ceil(T/B), ceil(T/B)] (l in decimal, zero-padded to two
//       digits: layer_03, layer_12, layer_100; block_mass_layer_name).
//     Group attributes (int64): block_size B, sink (keys counted as the sink), window (keys
//     counted as local), k, sliding_window (the model's own window, 0 for none); scale
//     (float64, the model's factor on q.k).
//  9. /analyses/<name>/...: analysis results such as retrieval_heads/score float64 [L, H];
//     attributes hold every parameter. An analysis being written lives in
//     /analyses/.partial_<name> until it is complete (readers skip it; the next writer of that
//     analysis deletes it). Analyses of one kind may form a collection, /analyses/<collection>/
//     <name> (circuits/ioi), each group staged and replaced alone, the same way.
// 10. Dimension scales: committing a run creates a 1-D int64 dataset in /runs/<i> for every
//     dimension its datasets use, named after the dimension, and attaches it to their axes as an
//     HDF5 dimension scale (axis label = the same name). xarray (engine h5netcdf) then opens
//     /runs/<i> and /runs/<i>/attention_stats with named axes. Dimensions: pos, query, key [T];
//     head, kv_head, layer, d_head, d_model, d_mlp, vocab, k (top-k rank); query_block and
//     key_block [ceil(T/B)]. Values are 0..n-1, except that query_block and key_block hold each
//     block's first position (i * block_size). Lengths come from the shapes; the first dataset
//     in name order fixes a dimension's length, and a dataset that disagrees gets no scales.
//     kDatasetDimensions below names each dataset's dimensions; a dataset it does not name gets
//     no scales (xarray then needs phony_dims="sort"). Dimension names are reserved as dataset
//     names directly in the run group.
//
// Readers reject a file whose headscope_format is newer than kFormatVersion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/store/hdf5_handle.h"

namespace headscope {

inline constexpr int kFormatVersion = 1;

inline constexpr char kAttrFormat[] = "headscope_format";
inline constexpr char kAttrModelFamily[] = "model_family";
inline constexpr char kAttrModelPath[] = "model_path";
inline constexpr char kModelGroup[] = "/model";
inline constexpr char kConfigJsonPath[] = "/model/config_json";
inline constexpr char kRunsGroup[] = "/runs";
inline constexpr char kAnalysesGroup[] = "/analyses";
inline constexpr char kPartialRunPrefix[] = ".partial_";
inline constexpr char kTokens[] = "tokens";
inline constexpr char kTokenText[] = "token_text";
inline constexpr char kAttrPrompt[] = "prompt";
inline constexpr char kAttrTask[] = "task";
inline constexpr char kLogits[] = "logits";

// Item 8: the attention statistics group of a run, its datasets (relative to the group) and
// attributes. Writers and readers name them only through these.
inline constexpr char kAttentionStats[] = "attention_stats";
inline constexpr char kStatEntropy[] = "entropy";
inline constexpr char kStatSinkMass[] = "sink_mass";
inline constexpr char kStatLocalMass[] = "local_mass";
inline constexpr char kStatMaxProb[] = "max_prob";
inline constexpr char kStatArgmax[] = "argmax";
inline constexpr char kStatTopkIndex[] = "topk_index";
inline constexpr char kStatTopkProb[] = "topk_prob";
inline constexpr char kStatBlockMass[] = "block_mass";
inline constexpr char kAttrBlockSize[] = "block_size";
inline constexpr char kAttrSink[] = "sink";
inline constexpr char kAttrWindow[] = "window";
inline constexpr char kAttrTopK[] = "k";
inline constexpr char kAttrScale[] = "scale";
inline constexpr char kAttrSlidingWindow[] = "sliding_window";

// The statistics datasets other than block_mass, and the group's attributes: what
// tests/core/format_doc_test.cpp finds documented in docs/FORMAT.md.
inline constexpr const char* kAttentionStatsDatasets[] = {
    kStatEntropy, kStatSinkMass,   kStatLocalMass, kStatMaxProb,
    kStatArgmax,  kStatTopkIndex, kStatTopkProb,
};
inline constexpr const char* kAttentionStatsAttributes[] = {
    kAttrBlockSize, kAttrSink, kAttrWindow, kAttrTopK, kAttrScale, kAttrSlidingWindow,
};

// The dimensions whose scale values are block start positions rather than indices.
inline constexpr char kDimQueryBlock[] = "query_block";
// The attributes HDF5's dimension scale API (H5DS) writes.
inline constexpr char kAttrClass[] = "CLASS";
inline constexpr char kDimensionScaleClass[] = "DIMENSION_SCALE";
inline constexpr char kAttrDimensionLabels[] = "DIMENSION_LABELS";
inline constexpr char kDimKeyBlock[] = "key_block";

inline constexpr int64_t kChunkEdge = 512;
inline constexpr int64_t kChunkLength1d = 65536;

// What the root attributes and /model say about the recorded model.
struct ModelSummary {
  std::string family;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t d_head = 0;
  int64_t d_model = 0;
  int64_t vocab_size = 0;
  std::string model_path;
  std::string config_json;
};

// The integer root attributes and the ModelSummary fields they hold.
struct ModelIntAttribute {
  const char* name;
  int64_t ModelSummary::*field;
};
inline constexpr ModelIntAttribute kModelIntAttributes[] = {
    {"n_layers", &ModelSummary::n_layers},     {"n_heads", &ModelSummary::n_heads},
    {"n_kv_heads", &ModelSummary::n_kv_heads}, {"d_head", &ModelSummary::d_head},
    {"d_model", &ModelSummary::d_model},       {"vocab_size", &ModelSummary::vocab_size},
};

// The float16 file type: IEEE half, little-endian, which h5py maps to numpy float16.
H5Id float16_file_type(const H5Where& where);

// Opens an existing file (flags H5F_ACC_RDONLY or H5F_ACC_RDWR); IoError naming the path when
// it is missing, not HDF5, or corrupted (core/store/recording_structure_check.h).
H5Id open_recording_file(const std::string& path, unsigned flags);
// Opens a copy of a file image in memory, read-only; `label` names it in errors.
H5Id open_recording_image(const void* data, size_t size, const std::string& label,
                          double check_timeout_s);

// Reads headscope_format from an open file. InvalidInput when it is missing, or newer than
// kFormatVersion: "PATH was written by format version N; this headscope reads version 1".
int check_format_version(hid_t file, const std::string& path);

// Indices of the committed runs in the /runs group, ascending.
std::vector<int64_t> committed_runs(hid_t runs, const H5Where& where);

// Names of the partial (uncommitted) runs in the /runs group.
std::vector<std::string> partial_runs(hid_t runs, const H5Where& where);

std::string partial_run_name(int64_t index);

// "attention_stats/<dataset>": a statistics dataset's path relative to the run.
std::string attention_stats_path(const std::string& dataset);
// The block_mass dataset of a layer within block_mass/: "layer_03" (decimal, at least two
// digits). The one spelling: the recorder writes it, readers look it up, FORMAT.md shows it.
std::string block_mass_layer_name(int64_t layer);
// "attention_stats/block_mass/layer_03": the same, relative to the run.
std::string block_mass_path(int64_t layer);

// Paths of the datasets below group, relative to it ("attention_stats/entropy"), sorted;
// dimension scales are left out.
std::vector<std::string> dataset_paths(hid_t group, const H5Where& where);

// Dataset names of a run (relative to the run group; '*' stands for a layer number) and the
// dimensions of their axes, space-separated (item 10).
struct DatasetDimensions {
  const char* pattern;
  const char* dimensions;
};
inline constexpr DatasetDimensions kDatasetDimensions[] = {
    {"tokens", "pos"},
    {"token_text", "pos"},
    {"logits", "pos vocab"},
    {"hook_embed", "pos d_model"},
    {"hook_pos_embed", "pos d_model"},
    {"ln_final.hook_normalized", "pos d_model"},
    {"blocks.*.hook_resid_pre", "pos d_model"},
    {"blocks.*.hook_resid_mid", "pos d_model"},
    {"blocks.*.hook_resid_post", "pos d_model"},
    {"blocks.*.hook_attn_out", "pos d_model"},
    {"blocks.*.hook_mlp_out", "pos d_model"},
    {"blocks.*.ln1.hook_normalized", "pos d_model"},
    {"blocks.*.ln2.hook_normalized", "pos d_model"},
    {"blocks.*.attn.hook_q", "pos head d_head"},
    {"blocks.*.attn.hook_rot_q", "pos head d_head"},
    {"blocks.*.attn.hook_z", "pos head d_head"},
    {"blocks.*.attn.hook_k", "pos kv_head d_head"},
    {"blocks.*.attn.hook_v", "pos kv_head d_head"},
    {"blocks.*.attn.hook_rot_k", "pos kv_head d_head"},
    {"blocks.*.attn.hook_result", "pos head d_model"},
    {"blocks.*.attn.hook_attn_scores", "head query key"},
    {"blocks.*.attn.hook_pattern", "head query key"},
    {"blocks.*.mlp.hook_pre", "pos d_mlp"},
    {"blocks.*.mlp.hook_post", "pos d_mlp"},
    {"attention_stats/entropy", "layer head query"},
    {"attention_stats/sink_mass", "layer head query"},
    {"attention_stats/local_mass", "layer head query"},
    {"attention_stats/max_prob", "layer head query"},
    {"attention_stats/argmax", "layer head query"},
    {"attention_stats/topk_index", "layer head query k"},
    {"attention_stats/topk_prob", "layer head query k"},
    {"attention_stats/block_mass/layer_*", "head query_block key_block"},
};

// The dimension names of a run's dataset (name relative to the run group), one per axis;
// empty when kDatasetDimensions does not name it.
std::vector<std::string> dataset_dimensions(const std::string& name);

// Whether name is a dimension (pos, head, ...), and so the name of a dimension scale.
bool is_dimension_name(const std::string& name);

// Whether a run's dataset holds a hook point: its last '.'-separated part starts with "hook_"
// (blocks.0.attn.hook_pattern, ln_final.hook_normalized, hook_embed) and it is not in a subgroup.
bool is_hook_name(const std::string& name);

}  // namespace headscope
