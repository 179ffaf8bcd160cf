// How the readers' messages print a shape ("[2,3]"): the declaration is framework/error.h's,
// the definition the engine's (framework/tensor.cpp), which the reader targets do not link.
#include <ostream>
#include <vector>

#include "framework/error.h"

namespace tg {

std::ostream& operator<<(std::ostream& out, const std::vector<int64_t>& shape) {
  out << '[';
  for (size_t i = 0; i < shape.size(); ++i) out << (i > 0 ? "," : "") << shape[i];
  return out << ']';
}

}  // namespace tg
