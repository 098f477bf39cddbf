// headscope overlap A[:name] B[:name] [C ...] [--top-k K | --threshold X] [--abs]
//   [--permutations N] [--seed S] [--out FILE [--append|--force]] [--png FILE] [--json]
//
// How much circuits share: for every pair, set overlap, its chance baselines and the rank
// agreement of the scores (analyses/circuits/circuit_overlap.h, docs/CIRCUITS.md).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "analyses/circuits/circuit_file.h"
#include "analyses/circuits/circuit_overlap.h"
#include "analyses/circuits/circuit_overlap_file.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/option_groups.h"
#include "core/base/error.h"
#include "core/store/circuit_schema.h"
#include "core/store/recording_reader.h"
#include "core/store/same_model.h"
#ifdef HEADSCOPE_WITH_GUI
#include "cli/gui_application.h"
#include "gui/render/head_grid_image.h"
#include "gui/render/png_file.h"
#endif

namespace headscope::cli {
namespace {

constexpr int64_t kMaxPermutations = 10000000;

struct OverlapArgs {
  std::vector<std::string> circuits;
  int64_t top_k = 0;
  double threshold = std::numeric_limits<double>::quiet_NaN();
  bool abs = false;
  int64_t permutations = 10000;
  uint64_t seed = 0;
  OutputArgs out;
  std::string png;
  bool json = false;
};

struct Input {
  CircuitSource source;
  Circuit circuit;
  ModelSummary model;
  std::string label;  // short: the circuit's name, made unique with its file where needed
};

// The selection --top-k or --threshold ask for, or none (each circuit keeps its own).
std::optional<CircuitSelection> requested_selection(const OverlapArgs& args) {
  if (args.top_k > 0) return CircuitSelection::top(args.top_k, args.abs);
  if (!std::isnan(args.threshold)) return CircuitSelection::at_least(args.threshold, args.abs);
  if (args.abs) throw InvalidInput("--abs: needs --top-k or --threshold");
  return std::nullopt;
}

// Short labels: the circuit's name or the dataset's last path component; file stem first where
// two coincide, the whole argument where that still does.
void label_inputs(std::vector<Input>& inputs) {
  const auto short_name = [](const Input& in) {
    const std::string& dataset = in.source.dataset;
    return dataset.empty() ? in.source.name : dataset.substr(dataset.rfind('/') + 1);
  };
  const auto unique = [&](auto label_of) {
    std::map<std::string, int> seen;
    for (const Input& in : inputs) ++seen[label_of(in)];
    for (const auto& [label, count] : seen) {
      if (count > 1) return false;
    }
    return true;
  };
  const auto with_stem = [&](const Input& in) {
    return std::filesystem::path(in.source.file).stem().string() + ":" + short_name(in);
  };
  for (Input& in : inputs) {
    in.label = unique(short_name)  ? short_name(in)
               : unique(with_stem) ? with_stem(in)
                                   : in.source.text();
  }
}

std::vector<Input> load_inputs(const OverlapArgs& args,
                               const std::optional<CircuitSelection>& selection) {
  if (args.circuits.size() < 2) {
    throw InvalidInput("CIRCUITS: need at least two circuits to compare, got " +
                       std::to_string(args.circuits.size()));
  }
  std::vector<Input> inputs;
  for (const std::string& argument : args.circuits) {
    Input in{CircuitSource::parse(argument), {}, {}, ""};
    in.circuit = load_circuit(in.source);
    in.model = RecordingReader::open(in.source.file).model();
    if (selection) {
      in.circuit.selection = *selection;
      in.circuit.selected = select_heads(in.circuit.scores, *selection, in.source.text());
    } else if (!in.source.dataset.empty()) {
      throw InvalidInput(in.source.text() +
                         ": a per-head dataset selects no heads by itself; add --top-k K or "
                         "--threshold X");
    }
    const Input& first = inputs.empty() ? in : inputs.front();
    if (in.circuit.n_layers != first.circuit.n_layers ||
        in.circuit.n_heads != first.circuit.n_heads) {
      throw InvalidInput(in.source.text() + " is of " + describe_model(in.model) + ", but " +
                         first.source.text() + " is of " + describe_model(first.model) +
                         ": circuits of different head grids cannot be compared");
    }
    inputs.push_back(std::move(in));
  }
  label_inputs(inputs);
  return inputs;
}

std::string number(double v, const char* format = "%.3f") {
  if (std::isnan(v)) return "undefined";
  char text[32];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::string p_value(double p) {
  return number(p, p != 0 && p < 1e-3 ? "%.2e" : "%.4f");
}

std::string describe_selection(const Circuit& c) {
  const CircuitSelection& s = c.selection;
  const std::string of = s.abs ? "|score|" : "score";
  if (s.rule == kSelectionTopK) return "top " + std::to_string(s.top_k) + " by " + of;
  if (s.rule == kSelectionThreshold) return of + " >= " + number(s.threshold, "%g");
  return s.rule.empty() ? "selection not recorded" : s.rule;
}

std::string describe_correlation(const char* name, const Correlation& c) {
  if (std::isnan(c.value)) {
    return std::string(name) + " undefined (every score tied in one circuit, or under 2 heads)";
  }
  return std::string(name) + " " + number(c.value) + " (p " + p_value(c.p_value) + ")";
}

void print_pair(const Input& a, const Input& b, const CircuitOverlap& o,
                const OverlapOptions& options) {
  std::printf("\n%s vs %s\n", a.label.c_str(), b.label.c_str());
  std::printf("  heads          %lld and %lld of %lld\n", static_cast<long long>(o.size_a),
              static_cast<long long>(o.size_b), static_cast<long long>(o.heads));
  std::printf("  intersection   %lld (union %lld)\n", static_cast<long long>(o.intersection),
              static_cast<long long>(o.union_size));
  std::printf("  jaccard        %s\n", number(o.jaccard).c_str());
  std::printf("  overlap coeff  %s (|A∩B| / min(|A|, |B|))\n",
              number(o.overlap_coefficient).c_str());
  std::printf("  containment    %s of %s in %s, %s of %s in %s\n", number(o.containment_a).c_str(),
              a.label.c_str(), b.label.c_str(), number(o.containment_b).c_str(), b.label.c_str(),
              a.label.c_str());
  std::printf(
      "  chance         expected intersection %s (|A||B|/N); P(X >= %lld): "
      "hypergeometric %s",
      number(o.expected_intersection, "%.2f").c_str(), static_cast<long long>(o.intersection),
      p_value(o.hypergeometric_p).c_str());
  if (options.permutations > 0) {
    std::printf(", permutation %s (%lld draws: mean %s, %.0f%% interval [%s, %s])",
                p_value(o.permutation_p).c_str(), static_cast<long long>(options.permutations),
                number(o.permutation_mean, "%.2f").c_str(), options.interval * 100,
                number(o.permutation_low, "%.0f").c_str(),
                number(o.permutation_high, "%.0f").c_str());
  }
  std::printf("\n  rank agreement %s, %s over %lld heads scored in both\n",
              describe_correlation("Spearman", o.spearman).c_str(),
              describe_correlation("Kendall tau-b", o.kendall).c_str(),
              static_cast<long long>(o.rank_heads));
}

void print_text(const std::vector<Input>& inputs,
                const std::vector<std::vector<CircuitOverlap>>& table,
                const OverlapOptions& options) {
  const Circuit& first = inputs.front().circuit;
  std::printf("%zu circuits over %lld heads (%lld layers x %lld heads)\n", inputs.size(),
              static_cast<long long>(first.head_count()), static_cast<long long>(first.n_layers),
              static_cast<long long>(first.n_heads));
  for (const Input& in : inputs) {
    const std::string what = in.circuit.task.empty()
                                 ? in.circuit.method
                                 : in.circuit.method + ", task " + in.circuit.task;
    std::printf("  %-12s %s: %lld heads, %s (%s)\n", in.label.c_str(), in.source.text().c_str(),
                static_cast<long long>(in.circuit.selected_count()),
                describe_selection(in.circuit).c_str(), what.c_str());
  }
  for (size_t a = 0; a < inputs.size(); ++a) {
    for (size_t b = a + 1; b < inputs.size(); ++b) {
      print_pair(inputs[a], inputs[b], table[a][b], options);
    }
  }
  if (inputs.size() < 3) return;
  size_t width = 8;
  for (const Input& in : inputs) width = std::max(width, in.label.size() + 2);
  std::printf("\njaccard%*s", static_cast<int>(width - 7), "");
  for (const Input& in : inputs) std::printf("%*s", static_cast<int>(width), in.label.c_str());
  std::printf("\n");
  for (size_t a = 0; a < inputs.size(); ++a) {
    std::printf("%-*s", static_cast<int>(width), inputs[a].label.c_str());
    for (size_t b = 0; b < inputs.size(); ++b) {
      std::printf("%*s", static_cast<int>(width), number(table[a][b].jaccard).c_str());
    }
    std::printf("\n");
  }
}

nlohmann::ordered_json correlation_json(const Correlation& c) {
  return {{"value", c.value}, {"p", c.p_value}};
}

void print_json(const std::vector<Input>& inputs,
                const std::vector<std::vector<CircuitOverlap>>& table,
                const OverlapOptions& options) {
  nlohmann::ordered_json circuits = nlohmann::ordered_json::array();
  for (const Input& in : inputs) {
    circuits.push_back({{"label", in.label},
                        {"source", in.source.text()},
                        {"method", in.circuit.method},
                        {"task", in.circuit.task},
                        {"selection", describe_selection(in.circuit)},
                        {"size", in.circuit.selected_count()}});
  }
  nlohmann::ordered_json pairs = nlohmann::ordered_json::array();
  nlohmann::ordered_json jaccard = nlohmann::ordered_json::array();
  for (size_t a = 0; a < inputs.size(); ++a) {
    jaccard.push_back(nlohmann::ordered_json::array());
    for (size_t b = 0; b < inputs.size(); ++b) {
      jaccard.back().push_back(table[a][b].jaccard);
      if (b <= a) continue;
      const CircuitOverlap& o = table[a][b];
      pairs.push_back({{"a", inputs[a].label},
                       {"b", inputs[b].label},
                       {"size_a", o.size_a},
                       {"size_b", o.size_b},
                       {"intersection", o.intersection},
                       {"union", o.union_size},
                       {"jaccard", o.jaccard},
                       {"overlap_coefficient", o.overlap_coefficient},
                       {"containment_a_in_b", o.containment_a},
                       {"containment_b_in_a", o.containment_b},
                       {"expected_intersection", o.expected_intersection},
                       {"hypergeometric_p", o.hypergeometric_p},
                       {"permutation_p", o.permutation_p},
                       {"permutation_mean", o.permutation_mean},
                       {"permutation_interval", {o.permutation_low, o.permutation_high}},
                       {"rank_heads", o.rank_heads},
                       {"spearman", correlation_json(o.spearman)},
                       {"kendall_tau_b", correlation_json(o.kendall)}});
    }
  }
  const nlohmann::ordered_json j{{"heads", inputs.front().circuit.head_count()},
                                 {"layers", inputs.front().circuit.n_layers},
                                 {"heads_per_layer", inputs.front().circuit.n_heads},
                                 {"permutations", options.permutations},
                                 {"seed", options.seed},
                                 {"circuits", circuits},
                                 {"pairs", pairs},
                                 {"jaccard", jaccard}};
  std::cout << j.dump() << "\n";
}

#ifdef HEADSCOPE_WITH_GUI
void draw_jaccard(const std::string& path, const std::vector<Input>& inputs,
                  const std::vector<std::vector<CircuitOverlap>>& table) {
  HeadGrid grid{"Jaccard overlap of the circuits' heads", "Jaccard", {}};
  std::vector<std::string> labels;
  for (size_t a = 0; a < inputs.size(); ++a) {
    labels.push_back(inputs[a].label);
    grid.value.emplace_back();
    for (const CircuitOverlap& o : table[a]) grid.value.back().push_back(o.jaccard);
  }
  const HeadGridImageOptions options =
      HeadGridImageOptions().with_cell(90).with_range(0.0, 1.0).with_labels(labels, labels,
                                                                            "circuit");
  const GuiApplication gui;
  QImage image(head_grid_image_size(grid, options), QImage::Format_RGB32);
  draw_head_grid(grid, image, options);
  write_png(image, path);
}
#endif

void run(const OverlapArgs& args) {
  const std::optional<CircuitSelection> selection = requested_selection(args);
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
#ifndef HEADSCOPE_WITH_GUI
  if (!args.png.empty()) throw InvalidInput("--png: this build has no Qt 6 to draw with");
#endif
  if (!args.png.empty()) check_output_file(args.png, "--png");
  const std::vector<Input> inputs = load_inputs(args, selection);
  const AnalysisTarget target{args.out.path, inputs.front().model, mode};
  if (!args.out.path.empty()) check_analysis_target(target.path, target.model, mode);

  const OverlapOptions options =
      OverlapOptions().with_permutations(args.permutations).with_seed(args.seed);
  std::vector<const Circuit*> circuits;
  std::vector<OverlapEntry> entries;
  for (const Input& in : inputs) {
    circuits.push_back(&in.circuit);
    entries.push_back({in.label, in.source.text(), in.circuit.selected_count()});
  }
  const std::vector<std::vector<CircuitOverlap>> table = overlap_matrix(circuits, options);
  if (!args.out.path.empty()) write_circuit_overlap(target, entries, table, options, selection);
#ifdef HEADSCOPE_WITH_GUI
  if (!args.png.empty()) draw_jaccard(args.png, inputs, table);
#endif
  if (args.json) {
    print_json(inputs, table, options);
    return;
  }
  print_text(inputs, table, options);
  if (!args.out.path.empty()) {
    std::cout << "\nwrote /analyses/" << kCircuitOverlapAnalysis << " to " << args.out.path << "\n";
  }
  if (!args.png.empty()) std::cout << "wrote " << args.png << "\n";
}

}  // namespace

void add_overlap_command(CLI::App& app) {
  auto args = std::make_shared<OverlapArgs>();
  auto* cmd = app.add_subcommand(
      "overlap", "Overlap of circuits (shared heads, chance baselines, rank agreement)");
  cmd->add_option("CIRCUITS", args->circuits,
                  "Two or more of FILE (its only circuit), FILE:NAME (/analyses/circuits/NAME) "
                  "or FILE:/path/to/dataset (per-head scores [layer, head] of any analysis)")
      ->required();
  auto* top_k = cmd->add_option("--top-k", args->top_k,
                                "Select the K highest-scoring heads of every input (default: "
                                "circuits keep their own selection)")
                    ->check(integer_in(1, kMaxCount));
  auto* threshold = cmd->add_option("--threshold", args->threshold,
                                    "Select the heads scoring at least X in every input")
                        ->check(finite_number());
  top_k->excludes(threshold);
  cmd->add_flag("--abs", args->abs, "Rank and threshold |score| instead of score");
  cmd->add_option("--permutations", args->permutations,
                  "Random head-set pairs drawn for the permutation baseline (0: none)")
      ->capture_default_str()
      ->check(integer_in(0, kMaxPermutations));
  cmd->add_option("--seed", args->seed, "Seed of the permutation draws")
      ->capture_default_str()
      ->check(integer_in(0, kMaxSeed));
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "HDF5 file to write /analyses/circuit_overlap into", false);
  cmd->add_option("--png", args->png, "PNG file for a heatmap of the Jaccard matrix");
  add_json_flag(*cmd, args->json);
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
