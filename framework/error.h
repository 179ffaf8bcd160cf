// tg::Error: the one exception type tapegrad throws for bad input.
//
// A message names the op or layer, what it expected and what it got, e.g.
//   matmul: inner dimensions differ: [32,64] x [32,10]
#pragma once

#include <cstdint>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tg {

// Shapes (std::vector<int64_t>) print as [2,3]. Declared before fail() so that a check can take a
// shape itself, check(ok, "matmul: ", a.shape()), and format it only when the check fails: the
// checks run on every op, and building their messages eagerly cost more than the ops themselves.
std::ostream& operator<<(std::ostream& out, const std::vector<int64_t>& shape);

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Builds a message from any streamable pieces: fail("matmul: got ", shape_str).
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}

// check(cond, "op: ...", ...) throws tg::Error with the pieces when cond is false.
template <class... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) fail(parts...);
}

}  // namespace tg
