#include "notebooks_export/export_readme.h"

#include <algorithm>
#include <sstream>

#include "notebooks_export/export_files.h"
#include "notebooks_export/markdown_text.h"

namespace headscope {
namespace {

// Long prompts would bury the dataset tables.
constexpr size_t kPromptShown = 160;

// Per-layer datasets of equal shape share a row: "blocks.L.attn.hook_pattern", L = 0–31.
struct DatasetRow {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<int64_t> layers;
};

std::vector<DatasetRow> dataset_rows(const std::vector<DatasetShape>& datasets) {
  std::vector<DatasetRow> rows;
  for (const DatasetShape& dataset : datasets) {
    const std::optional<LayerName> layer_name = split_layer_name(dataset.name);
    if (!layer_name) {
      rows.push_back({dataset.name, dataset.shape, {}});
      continue;
    }
    const std::string name = "blocks.L" + layer_name->rest;
    auto row = std::find_if(rows.begin(), rows.end(), [&](const DatasetRow& r) {
      return !r.layers.empty() && r.name == name && r.shape == dataset.shape;
    });
    if (row == rows.end()) row = rows.insert(rows.end(), {name, dataset.shape, {}});
    row->layers.push_back(layer_name->layer);
  }
  for (DatasetRow& row : rows) std::sort(row.layers.begin(), row.layers.end());
  return rows;
}

void write_run(std::ostream& out, const RunContents& run) {
  out << "### Run " << run.index << ": " << run.n_tokens << " tokens";
  if (!run.task.empty()) out << ", task " << quoted(run.task, kPromptShown);
  out << "\n\n";
  if (!run.prompt.empty()) out << "Prompt: " << quoted(run.prompt, kPromptShown) << "\n\n";
  out << "| dataset | shape |\n|---|---|\n";
  for (const DatasetRow& row : dataset_rows(run.datasets)) {
    out << "| `" << row.name << "`";
    if (!row.layers.empty()) out << ", L = " << layer_ranges(row.layers);
    out << " | " << shape_text(row.shape) << (row.layers.size() > 1 ? " each" : "") << " |\n";
  }
  out << "\n";
}

void write_contents(std::ostream& out, const RecordingContents& contents) {
  const ModelSummary& model = contents.model;
  out << "## Model\n\n`" << model.family << "` from `" << model.model_path
      << "`: " << model.n_layers << " layers, " << model.n_heads << " attention heads ("
      << model.n_kv_heads << " key/value heads), head dimension " << model.d_head << ", d_model "
      << model.d_model << ", vocabulary " << model.vocab_size
      << ". The root attributes hold these numbers; `/model/config_json` holds the checkpoint's "
         "`config.json`.\n\n";
  out << "## Runs\n\nEach run is the group `/runs/<i>`: one sequence, its `tokens` and "
         "`token_text`, and one dataset per recorded hook, named exactly by the hook. Attention "
         "patterns are [head, query, key]; the per-query statistics in `attention_stats/` "
         "(entropy, ...) are [layer, head, query].\n\n";
  for (const RunContents& run : contents.runs) write_run(out, run);
  if (contents.run_count > static_cast<int64_t>(contents.runs.size())) {
    out << "Runs " << contents.runs.size() << " to " << contents.run_count - 1
        << " are not described here; `sorted(f[\"runs\"], key=int)` lists every run.\n\n";
  }
}

// One line of a Python example, its comment aligned with the other lines' comments.
std::string python_line(const std::string& code, const std::string& comment = "") {
  constexpr size_t kCommentColumn = 46;
  if (comment.empty()) return code + "\n";
  const size_t padding = code.size() + 2 > kCommentColumn ? 2 : kCommentColumn - code.size();
  return code + std::string(padding, ' ') + "# " + comment + "\n";
}

void write_h5py(std::ostream& out, const RunContents& run) {
  const std::string tokens = "[" + std::to_string(run.n_tokens) + "]";
  out << "## Opening it with h5py\n\n```python\nimport h5py\n\n"
      << python_line("f = h5py.File(\"" + std::string(kExportRecording) + "\", \"r\")")
      << python_line("print(dict(f.attrs))", "the model: family, layers, heads, ...")
      << python_line("run = f[\"runs/" + std::to_string(run.index) + "\"]")
      << python_line("tokens = run[\"tokens\"][()]", "int32 " + tokens)
      << python_line("token_text = run[\"token_text\"].asstr()[()]", "str " + tokens);
  if (!run.pattern_layers.empty()) {
    const std::string name = run.first_pattern();
    const std::vector<int64_t>& shape = run.shape(name);
    out << python_line("head0 = run[\"" + name + "\"][0]",
                       shape_text({shape[1], shape[2]}) + ", reading only head 0's chunks");
  }
  if (run.has_entropy_stats) {
    out << python_line("entropy = run[\"" + kEntropyStats + "\"][()]",
                       shape_text(run.shape(kEntropyStats)));
  }
  out << "```\n\n";
}

void write_xarray(std::ostream& out, const RunContents& run) {
  const std::string open = "xr.open_dataset(\"" + std::string(kExportRecording) +
                           "\", engine=\"h5netcdf\", group=\"runs/" + std::to_string(run.index);
  out << "## Opening it with xarray\n\n```python\nimport xarray as xr\n\n"
      << python_line("ds = " + open + "\", phony_dims=\"sort\")");
  if (!run.pattern_layers.empty()) {
    const std::string name = run.first_pattern();
    out << python_line("pattern = ds[\"" + name + "\"]", "DataArray " + shape_text(run.shape(name)))
        << python_line("head0 = pattern.isel({pattern.dims[0]: 0}).values");
  }
  if (run.has_entropy_stats) {
    out << python_line("stats = " + open + "/" + kAttentionStats + "\", phony_dims=\"sort\")");
  }
  out << "```\n\n"
      << "Each group opens on its own. `phony_dims=\"sort\"` names the axes of datasets that carry "
         "no HDF5 dimension scales (`phony_dim_0`, ...); axes with scales keep their names, so "
         "positional access (`.values`, `.isel` with a name from `.dims`) works on both.\n\n";
}

void write_notebook(std::ostream& out, const RunContents& run) {
  out << "## The notebook\n\n`" << kExportNotebook << "` lists the runs and root attributes with "
      << "h5py, opens run " << run.index << " with xarray, plots one head's attention pattern "
      << "and the mean attention entropy of every head (from `attention_stats/entropy` when the "
         "run has it, else computed from the patterns), and saves the figures as `"
      << kPatternFigure << "` and `" << kEntropyFigure << "` in this directory. ";
  if (!run.has_attention()) {
    out << "The runs described above hold neither attention patterns nor `attention_stats`, so it "
           "draws no figure; record `blocks.*.attn.hook_pattern` to get them. ";
  }
  out << "It needs Python 3 with h5py, xarray, h5netcdf and matplotlib (Debian: `apt install "
         "python3-h5py python3-xarray python3-h5netcdf python3-matplotlib`). Open it with "
         "Jupyter from this directory, or run it with `jupyter nbconvert --to notebook --execute "
      << kExportNotebook << "`.\n";
}

}  // namespace

std::string export_readme(const RecordingContents& contents) {
  const ModelSummary& model = contents.model;
  const RunContents& featured = contents.featured_run();
  std::ostringstream out;
  out << "# headscope recording: " << model.family << ", " << model.n_layers << " layers × "
      << model.n_heads << " heads\n\n"
      << "Exported by `headscope export` from `" << contents.source << "` (recording format "
      << "version " << contents.format_version << ", " << contents.run_count
      << (contents.run_count == 1 ? " run" : " runs") << ").\n\n"
      << "| file | what it is |\n|---|---|\n"
      << "| `" << kExportRecording << "` | a copy of the recording: HDF5 that h5py and xarray "
      << "read with no plugin or custom code |\n"
      << "| `" << kExportNotebook << "` | a Jupyter notebook that opens it and plots attention |\n"
      << "| `" << kExportReadme << "` | this file |\n\n";
  write_contents(out, contents);
  write_h5py(out, featured);
  write_xarray(out, featured);
  write_notebook(out, featured);
  return out.str();
}

}  // namespace headscope
