// Shapes and the rules on them every op shares: element counts, broadcasting, negative dims.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <iterator>
#include <string>
#include <vector>

namespace tg {

// A tensor's sizes, outermost first: [batch, rows, cols]. It reads like a std::vector<int64_t>
// (size(), [], iteration, push_back, insert, erase, ==) but keeps its at most kMaxDims sizes
// inside itself. Every op copies a shape into the tensor it makes and compares shapes in its
// checks; with the sizes on the heap that was a malloc and a free per tensor and a call to
// memcmp per comparison (memcmp alone: 7% of a small op's time). Here a copy is a few stores
// and == a loop over a handful of numbers. More than kMaxDims sizes is a tg::Error.
class Shape {
 public:
  static constexpr size_t kMaxDims = 12;
  using value_type = int64_t;
  using size_type = size_t;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;

  Shape() = default;
  Shape(std::initializer_list<int64_t> sizes) : Shape(sizes.begin(), sizes.end()) {}
  explicit Shape(size_t count, int64_t value = 0) { resize(count, value); }
  template <std::input_iterator It>
  Shape(It first, It last) {
    for (; first != last; ++first) push_back(*first);
  }
  // From a vector of sizes (a shape read from a file, computed in a loop elsewhere).
  Shape(const std::vector<int64_t>& sizes) : Shape(sizes.begin(), sizes.end()) {}
  std::vector<int64_t> to_vector() const { return {begin(), end()}; }

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  int64_t& operator[](size_t i) { return sizes_[i]; }
  int64_t operator[](size_t i) const { return sizes_[i]; }
  int64_t& front() { return sizes_[0]; }
  int64_t front() const { return sizes_[0]; }
  int64_t& back() { return sizes_[count_ - 1]; }
  int64_t back() const { return sizes_[count_ - 1]; }
  int64_t* data() { return sizes_; }
  const int64_t* data() const { return sizes_; }
  iterator begin() { return sizes_; }
  iterator end() { return sizes_ + count_; }
  const_iterator begin() const { return sizes_; }
  const_iterator end() const { return sizes_ + count_; }

  void push_back(int64_t size) {
    if (count_ == kMaxDims) fail_too_many(count_ + 1);
    sizes_[count_++] = size;
  }
  void pop_back() { --count_; }
  void clear() { count_ = 0; }
  void resize(size_t count, int64_t value = 0);
  // Inserts `size` before `at`; returns where it went.
  iterator insert(const_iterator at, int64_t size);
  // Inserts `count` copies of `size` before `at`.
  void insert(const_iterator at, size_t count, int64_t size) {
    const auto i = static_cast<size_t>(at - begin());
    for (size_t k = 0; k < count; ++k) insert(begin() + i, size);
  }
  // Inserts [first, last) before `at`.
  template <std::input_iterator It>
  void insert(const_iterator at, It first, It last) {
    const auto i = static_cast<size_t>(at - begin());
    for (size_t k = 0; first != last; ++first, ++k) insert(begin() + i + k, *first);
  }
  // Removes the size at `at`, or those in [first, last); returns what followed them.
  iterator erase(const_iterator at) { return erase(at, at + 1); }
  iterator erase(const_iterator first, const_iterator last);

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.count_ != b.count_) return false;
    for (size_t i = 0; i < a.count_; ++i)
      if (a.sizes_[i] != b.sizes_[i]) return false;
    return true;
  }

 private:
  [[noreturn]] static void fail_too_many(size_t count);
  int64_t sizes_[kMaxDims] = {};
  size_t count_ = 0;
};

std::string to_string(const Shape& shape);                        // "[2,3]"
std::ostream& operator<<(std::ostream& out, const Shape& shape);  // the same, so checks take shapes

// The number of elements of a shape. Throws tg::Error past kMaxElements (the product of the
// nonzero dimensions), so that no element count, stride or byte count can overflow.
constexpr int64_t kMaxElements = int64_t{1} << 60;
int64_t numel_of(const Shape& shape, const char* op = "numel");
// The shape a and b broadcast to (NumPy rules: align from the right, sizes equal or 1), or a
// tg::Error naming op and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// dim in [-ndim, ndim) -> [0, ndim), or tg::Error naming op. A 0-dim tensor accepts 0 and -1.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

}  // namespace tg
