#include "framework/backend/host_copies.h"

#include <atomic>

#include "framework/backend/backend.h"

namespace tg {

namespace {
std::atomic<int64_t> host_copies{0};
}  // namespace

int64_t host_copy_count() { return host_copies.load(std::memory_order_relaxed); }
void count_host_copy() { host_copies.fetch_add(1, std::memory_order_relaxed); }

void fail_out_of_range(const RangeCheck& range, int64_t value, int64_t index, const char* note) {
  fail(range.op, ": ", range.what, " ", value, " at ", range.where, " ", index,
       " is out of range [", range.low, ", ", range.high, range.high_inclusive ? "]" : ")", note);
}

}  // namespace tg
