#include "examples/g2p_common/g2p_metrics.h"

#include <algorithm>
#include <numeric>

#include "framework/error.h"

namespace g2p {

// distance[i][j] = edits turning a[:i] into b[:j]:
//   distance[i][j] = min(distance[i-1][j] + 1,                      delete a[i-1]
//                        distance[i][j-1] + 1,                      insert b[j-1]
//                        distance[i-1][j-1] + (a[i-1] != b[j-1]))   keep or substitute
// Only the previous row is needed.
int64_t edit_distance(const Phonemes& a, const Phonemes& b) {
  std::vector<int64_t> previous(b.size() + 1), current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

void ScoreTotals::add(const Phonemes& prediction, const std::vector<Phonemes>& references) {
  tg::check(!references.empty(), "g2p score: a word needs at least one reference pronunciation");
  int64_t best_edits = -1, best_length = 0;
  for (const Phonemes& reference : references) {
    const int64_t edits = edit_distance(prediction, reference);
    const int64_t length = static_cast<int64_t>(reference.size());
    if (best_edits < 0 || edits < best_edits || (edits == best_edits && length < best_length)) {
      best_edits = edits;
      best_length = length;
    }
  }
  ++words;
  if (best_edits != 0) ++wrong_words;
  phoneme_edits += best_edits;
  reference_phonemes += best_length;
}

}  // namespace g2p
