// tg::Error: the one exception type tapegrad throws for bad input, and check(), the one way to
// validate.
//
// A message names the op or layer, what it expected and what it got, e.g.
//   matmul: inner dimensions differ: [32,64] x [32,10]
//
// Every validation in the tree reads
//   check(condition, "op: what was expected, got ", what_came, ...);
// and a layer names itself with its path as the first part (Module is streamable):
//   check(x.dim() == 3, *this, ": expected input [B, T, ", d, "], got ", x.shape());
// The parts are formatted only when the condition fails: checks run on every op of every step,
// so a check must cost a comparison, never a string. Pass shapes and numbers themselves, not
// std::to_string of them; a part that is costly to compute (a parameter's name) can be a
// callable, called only on failure: check(ok, [&] { return name_of(i); }, ": ...").
// fail(parts...) throws unconditionally, for a place the code cannot pass (a switch's default).
#pragma once

#include <cstdint>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace tg {

// Lists of sizes or dims (std::vector<int64_t>) print as [2,3], like shapes (shape.h). Declared
// before fail() so that a check can take one itself and format it only when the check fails.
std::ostream& operator<<(std::ostream& out, const std::vector<int64_t>& shape);

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One part of a message: streamed, or called and its result streamed.
template <class Part>
void append_part(std::ostream& message, const Part& part) {
  if constexpr (std::is_invocable_v<const Part&>)
    message << part();
  else
    message << part;
}

// Throws tg::Error with the parts concatenated: fail("activate: unknown activation ", code).
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (append_part(message, parts), ...);
  throw Error(message.str());
}

// check(cond, "op: ...", ...) throws tg::Error with the parts when cond is false.
template <class... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) [[unlikely]]
    fail(parts...);
}

}  // namespace tg
