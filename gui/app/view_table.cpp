#include "gui/app/view_table.h"

#include "gui/views/ablation_view.h"
#include "gui/views/attention_compare_view.h"
#include "gui/views/attention_view.h"
#include "gui/views/circuits_view.h"
#include "gui/views/compare_view.h"
#include "gui/views/head_grid_view.h"
#include "gui/views/retrieval_view.h"
#include "gui/views/snr_view.h"
#include "gui/views/sparse_config_view.h"
#include "gui/views/token_view.h"

namespace headscope::gui {
namespace {

template <class View>
ExplorerView* make(Workspace& workspace, QWidget* parent) {
  return new View(workspace, parent);
}

}  // namespace

const std::vector<ViewEntry>& explorer_views() {
  static const std::vector<ViewEntry> kViews = {
      {"grid", "Head grid", make<HeadGridView>},
      {"attention", "Attention", make<AttentionView>},
      {"tokens", "Tokens", make<TokenView>},
      {"retrieval", "Retrieval heads", make<RetrievalView>},
      {"circuits", "Circuits", make<CircuitsView>},
      {"ablation", "Ablation & importance", make<AblationView>},
      {"snr", "Sparsity SNR", make<SnrView>},
      {"sparse", "Sparse configs", make<SparseConfigView>},
      {"compare", "Compare", make<CompareView>},
      {"attention-compare", "Compare attention", make<AttentionCompareView>},
  };
  return kViews;
}

}  // namespace headscope::gui
