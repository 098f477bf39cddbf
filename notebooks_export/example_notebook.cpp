#include "notebooks_export/example_notebook.h"

#include <sstream>
#include <string>

#include "notebooks_export/export_files.h"
#include "notebooks_export/markdown_text.h"

namespace headscope {
namespace {

// Python cells that are the same for every recording. They index arrays by position (.isel with
// a name taken from .dims, .values) because the axis names depend on whether the file carries
// HDF5 dimension scales: phony_dim_N without, head/query/key with.

constexpr char kSetupImports[] = R"py(from pathlib import Path
import re

import h5py
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

# Jupyter starts in the notebook's folder: the export directory.
EXPORT_DIR = Path(".")
)py";

constexpr char kH5pyTitle[] = R"md(## The file with h5py
Root attributes describe the model; each group `/runs/<i>` holds one recorded sequence.)md";

constexpr char kH5pyCell[] = R"py(f = h5py.File(PATH, "r")
print("root attributes:")
for key, value in f.attrs.items():
    print(f"  {key}: {value}")

# Committed runs are named 0, 1, ...; an interrupted recording may also hold .partial_<i>.
runs = sorted((name for name in f["runs"] if name.isdigit()), key=int)
print(f"\n{len(runs)} run(s):", ", ".join(runs[:20]), "..." if len(runs) > 20 else "")

run = f["runs"][RUN]
token_text = list(run["token_text"].asstr()[()])
print(f"\nrun {RUN}: {len(token_text)} tokens, attributes {dict(run.attrs)}")
print("token_text:", token_text[:MAX_TICK_LABELS])


def print_dataset(name, item):
    if isinstance(item, h5py.Dataset):
        scale = "  (dimension scale)" if h5py.h5ds.is_scale(item.id) else ""
        print(f"  {name}  {item.shape}  {item.dtype}{scale}")


print("datasets:")
run.visititems(print_dataset)

pattern_name = re.compile(r"blocks\.(\d+)\.attn\.hook_pattern")
pattern_layers = sorted(int(m.group(1)) for m in map(pattern_name.fullmatch, run) if m)
has_stats = "attention_stats/entropy" in run
print(f"\npatterns for layers {pattern_layers}; attention_stats/entropy: {has_stats}"))py";

constexpr char kXarrayTitle[] = R"md(## A run with xarray
Each HDF5 group opens as one `xarray.Dataset`. `phony_dims="sort"` names the axes of datasets
without HDF5 dimension scales `phony_dim_N`; axes with scales keep their names. The cells below
index by position, which works either way.)md";

constexpr char kXarrayCell[] =
    R"py(ds = xr.open_dataset(PATH, engine="h5netcdf", group=f"runs/{RUN}", phony_dims="sort")
print(ds)
if has_stats:
    stats = xr.open_dataset(PATH, engine="h5netcdf", group=f"runs/{RUN}/attention_stats",
                            phony_dims="sort")
    print(stats))py";

constexpr char kPatternTitle[] = R"md(## One head's attention pattern
`blocks.L.attn.hook_pattern` is [head, query, key]: row q shows where query position q attends.
Set `LAYER` and `HEAD` in the first code cell to see another head.)md";

constexpr char kPatternCell[] = R"py(def tick_labels(texts):
    # repr() makes spaces and newlines visible; a bare "$" would start matplotlib math text.
    return [repr(text)[1:-1].replace("$", r"\$") for text in texts]


if not pattern_layers:
    print(f"run {RUN} holds no blocks.L.attn.hook_pattern: no pattern to plot",
          "(its attention_stats feed the entropy grid below)" if has_stats else "")
else:
    layer = LAYER if LAYER in pattern_layers else pattern_layers[0]
    pattern = ds[f"blocks.{layer}.attn.hook_pattern"]  # [head, query, key]
    head = min(HEAD, pattern.shape[0] - 1)
    # One head, at most PLOT_TOKENS x PLOT_TOKENS of it: only those chunks are read.
    corner = slice(0, PLOT_TOKENS)
    values = pattern.isel({pattern.dims[0]: head, pattern.dims[1]: corner,
                           pattern.dims[2]: corner}).values.astype(np.float32)
    n_query, n_key = values.shape
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(values, cmap="viridis", vmin=0.0)
    ax.set_title(f"run {RUN}, layer {layer}, head {head}"
                 + (f" (first {PLOT_TOKENS} positions)" if pattern.shape[1] > PLOT_TOKENS else ""))
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    if n_query == n_key == len(token_text) <= MAX_TICK_LABELS:
        labels = tick_labels(token_text)
        ax.set_xticks(range(n_key))
        ax.set_xticklabels(labels, rotation=90, fontsize=8)
        ax.set_yticks(range(n_query))
        ax.set_yticklabels(labels, fontsize=8)
    fig.colorbar(image, ax=ax, label="attention probability")
    fig.tight_layout()
    fig.savefig(EXPORT_DIR / PATTERN_FIGURE, dpi=150)
    plt.show())py";

constexpr char kEntropyTitle[] = R"md(## Mean attention entropy per head
Entropy of each query's attention distribution, -Σ p log p over keys in nats, averaged over
query positions: low for heads that focus on a few tokens, high for heads that spread out. It
comes from `attention_stats/entropy` [layer, head, query] when the run has it, otherwise from the
patterns, one head at a time.)md";

constexpr char kEntropyCell[] = R"py(grid = None
if has_stats:
    entropy = stats["entropy"]  # [layer, head, query]
    grid = entropy.mean(dim=entropy.dims[2]).values
    source = "attention_stats/entropy"
elif pattern_layers:
    grid = np.full((int(f.attrs["n_layers"]), int(f.attrs["n_heads"])), np.nan)
    for layer in pattern_layers:
        pattern = run[f"blocks.{layer}.attn.hook_pattern"]  # [head, query, key]
        n_query = pattern.shape[1]
        for head in range(pattern.shape[0]):
            total = 0.0
            # 512 query rows at a time: one row of HDF5 chunks, so memory stays small at long T.
            for start in range(0, n_query, 512):
                p = pattern[head, start:start + 512].astype(np.float64)
                total -= (p * np.log(np.where(p > 0, p, 1.0))).sum()
            grid[layer, head] = total / n_query
    source = "computed from the patterns"
else:
    print(f"run {RUN} holds neither attention patterns nor attention_stats: no grid to plot")

if grid is not None:
    n_layers, n_heads = grid.shape
    fig, ax = plt.subplots(figsize=(min(4 + 0.5 * n_heads, 16), min(2.5 + 0.4 * n_layers, 12)))
    image = ax.imshow(grid, cmap="magma", aspect="auto")
    ax.set_title(f"run {RUN}: mean attention entropy per head\n({source})")
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    if n_heads <= MAX_TICK_LABELS:
        ax.set_xticks(range(n_heads))
    if n_layers <= MAX_TICK_LABELS:
        ax.set_yticks(range(n_layers))
    colorbar = fig.colorbar(image, ax=ax, label="nats, mean over queries")
    colorbar.formatter.set_useOffset(False)  # show the values, however close together
    fig.tight_layout()
    fig.savefig(EXPORT_DIR / ENTROPY_FIGURE, dpi=150)
    plt.show())py";

constexpr char kCloseCell[] = R"py(ds.close()
if has_stats:
    stats.close()
f.close())py";

// nbformat stores source as a list of lines, each but the last keeping its "\n".
nlohmann::ordered_json source_lines(const std::string& text) {
  nlohmann::ordered_json lines = nlohmann::ordered_json::array();
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = text.find('\n', begin);
    const size_t next = end == std::string::npos ? text.size() : end + 1;
    lines.push_back(text.substr(begin, next - begin));
    begin = next;
  }
  return lines;
}

// Cell ids are fixed names: unique within the notebook and stable across exports, so notebook
// diffs of two exports line up.
nlohmann::ordered_json markdown_cell(const char* id, const std::string& text) {
  return {{"cell_type", "markdown"},
          {"id", id},
          {"metadata", nlohmann::ordered_json::object()},
          {"source", source_lines(text)}};
}

nlohmann::ordered_json code_cell(const char* id, const std::string& text) {
  return {{"cell_type", "code"},
          {"execution_count", nullptr},
          {"id", id},
          {"metadata", nlohmann::ordered_json::object()},
          {"outputs", nlohmann::ordered_json::array()},
          {"source", source_lines(text)}};
}

std::string intro(const RecordingContents& contents) {
  const ModelSummary& model = contents.model;
  std::ostringstream text;
  text << "# Exploring a headscope recording\n`" << kExportRecording
       << "` holds what headscope recorded from `" << model.family << "` (`" << model.model_path
       << "`: " << model.n_layers << " layers × " << model.n_heads << " heads) over "
       << contents.run_count << (contents.run_count == 1 ? " run" : " runs")
       << ". These cells read it with plain h5py, xarray and matplotlib and save their figures "
          "next to it; `"
       << kExportReadme << "` describes the datasets.";
  return text.str();
}

std::string setup(const RunContents& run) {
  const int64_t layer = run.pattern_layers.empty() ? 0 : run.pattern_layers.front();
  std::ostringstream code;
  code << kSetupImports << "PATH = EXPORT_DIR / \"" << kExportRecording << "\"\n"
       << "PATTERN_FIGURE, ENTROPY_FIGURE = \"" << kPatternFigure << "\", \"" << kEntropyFigure
       << "\"\n"
       << "RUN = \"" << run.index << "\"  # the run to plot; the next cell lists them all\n"
       << "LAYER, HEAD = " << layer << ", 0  # the head whose pattern is plotted\n"
       << "MAX_TICK_LABELS = 40  # label axes with token text up to this many tokens\n"
       << "PLOT_TOKENS = 1024  # the pattern plot shows at most this many queries and keys";
  return code.str();
}

// What the featured run holds, and so what the plots below will draw from.
std::string attention_sources(const RunContents& run) {
  const std::string name = "Run " + std::to_string(run.index);
  if (!run.has_attention()) {
    return "**Nothing to plot.** " + name +
           " holds neither attention patterns (`blocks.L.attn.hook_pattern`) nor "
           "`attention_stats/`, and neither do the other runs described in `" +
           kExportReadme +
           "`. The plotting cells below print a note instead of a figure. To get patterns, "
           "record them: `headscope record MODEL --tokens ... --hooks "
           "'blocks.*.attn.hook_pattern' --out FILE.h5`.";
  }
  std::string text = name + " holds ";
  if (!run.pattern_layers.empty()) {
    text += "attention patterns for layers " + layer_ranges(run.pattern_layers) + " (" +
            shape_text(run.shape(run.first_pattern())) + " in layer " +
            std::to_string(run.pattern_layers.front()) + ")";
  }
  if (!run.pattern_layers.empty() && run.has_entropy_stats) text += " and ";
  if (run.has_entropy_stats) {
    text += "`" + kEntropyStats + "` " + shape_text(run.shape(kEntropyStats));
  }
  if (run.pattern_layers.empty()) {
    return text +
           " but no full attention patterns, as long-context recordings do: the pattern "
           "plot is skipped and the entropy grid uses the statistics.";
  }
  if (!run.has_entropy_stats) {
    return text + " and no `attention_stats`: the entropy grid is computed from the patterns.";
  }
  return text + ": the pattern plot reads the patterns, the entropy grid the statistics.";
}

}  // namespace

nlohmann::ordered_json example_notebook(const RecordingContents& contents) {
  const RunContents& run = contents.featured_run();
  const auto cells = nlohmann::ordered_json::array({
      markdown_cell("intro", intro(contents)),
      code_cell("setup", setup(run)),
      markdown_cell("h5py-title", kH5pyTitle),
      code_cell("h5py", kH5pyCell),
      markdown_cell("xarray-title", kXarrayTitle),
      code_cell("xarray", kXarrayCell),
      markdown_cell("attention-sources", attention_sources(run)),
      markdown_cell("pattern-title", kPatternTitle),
      code_cell("pattern", kPatternCell),
      markdown_cell("entropy-title", kEntropyTitle),
      code_cell("entropy", kEntropyCell),
      code_cell("close", kCloseCell),
  });
  return {
      {"cells", cells},
      {"metadata",
       {{"kernelspec", {{"display_name", "Python 3"}, {"language", "python"}, {"name", "python3"}}},
        {"language_info", {{"name", "python"}}}}},
      {"nbformat", 4},
      {"nbformat_minor", 5}};
}

}  // namespace headscope
