#include "framework/storage.h"

#include <algorithm>
#include <bit>
#include <mutex>
#include <ostream>
#include <set>
#include <unordered_map>
#include <vector>

#include "framework/error.h"

namespace tg {

const char* to_string(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }
std::ostream& operator<<(std::ostream& out, Device device) { return out << to_string(device); }

std::optional<Device> device_named(const std::string& name) {
  if (name == "cpu") return Device::CPU;
  if (name == "cuda") return Device::CUDA;
  return std::nullopt;
}

static AllocatorSource allocator_source = nullptr;

void set_allocator_source(AllocatorSource source) { allocator_source = source; }

static DeviceAllocator& allocator_for(Device device) {
  check(allocator_source != nullptr, "storage: no device allocator is registered (",
        "framework/backend/registry.cpp registers them; is it linked?)");
  return allocator_source(device);
}

Storage::Storage(size_t bytes, Device device)
    : allocator_(allocator_for(device)),
      data_(allocator_.allocate(bytes)),
      bytes_(bytes),
      device_(device) {}

Storage::~Storage() { allocator_.deallocate(data_, bytes_); }

namespace {

constexpr size_t kKiB = 1024, kMiB = 1024 * kKiB;
constexpr size_t kGranule = 512;            // every block size and offset is a multiple of it
constexpr size_t kSmallRequest = 1 * kMiB;  // up to this, from small segments
constexpr size_t kSmallSegment = 2 * kMiB;
constexpr size_t kMediumRequest = 10 * kMiB;  // up to this, from 20 MiB segments
constexpr size_t kMediumSegment = 20 * kMiB;
constexpr size_t kLargeSplitMinimum = 1 * kMiB;  // a large block splits off at least this much

size_t round_up(size_t n, size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

// The size class of a request: multiples of 512 up to 1 MiB, then 8 classes per power of two
// (2^k, 2^k * 9/8, ..., 2^k * 15/8), i.e. a step of 2^(k-3) between 2^k and 2^(k+1).
size_t size_class(size_t bytes) {
  if (bytes <= kSmallRequest) return round_up(std::max<size_t>(bytes, 1), kGranule);
  const size_t power = std::bit_floor(bytes);
  return round_up(bytes, power / 8);
}

size_t segment_size(size_t size) {
  if (size <= kSmallRequest) return kSmallSegment;
  if (size <= kMediumRequest) return kMediumSegment;
  return round_up(size, 2 * kMiB);
}

// A block is a piece of a segment: in use, or free and in one of the two free sets. Blocks of
// a segment are linked in address order, so a freed block finds its neighbours to merge with.
struct Block {
  char* address;
  size_t size;
  bool small;  // from a small segment
  bool free = false;
  Block* previous = nullptr;
  Block* next = nullptr;
  bool whole_segment() const { return previous == nullptr && next == nullptr; }
};

struct BySizeThenAddress {
  bool operator()(const Block* a, const Block* b) const {
    return a->size != b->size ? a->size < b->size : a->address < b->address;
  }
};
using FreeBlocks = std::set<Block*, BySizeThenAddress>;
using InUse = std::unordered_map<void*, Block*>;

}  // namespace

struct CachingAllocator::State {
  RawAllocate raw_allocate;
  RawFree raw_free;
  std::mutex mutex;
  FreeBlocks small_free, large_free;
  InUse in_use;
  size_t cache_limit = size_t{1} << 30;
  Stats stats;
  // Recycled bookkeeping. Once a step is warm it splits and merges as many blocks as the step
  // before, and each block record, free-set node and in-use node would otherwise cost a malloc
  // and a free: a tiny op spent a tenth of its time there. Records are kept for reuse and the
  // containers' nodes are taken out whole (extract) and put back (insert of a node handle).
  std::vector<Block*> spare_blocks;
  std::vector<FreeBlocks::node_type> spare_free_nodes;
  std::vector<InUse::node_type> spare_in_use_nodes;

  ~State() {
    for (Block* b : spare_blocks) delete b;
  }

  size_t cached() const { return stats.reserved_bytes - stats.in_use_bytes; }
  FreeBlocks& free_set(const Block* b) { return b->small ? small_free : large_free; }

  Block* new_block(const Block& fields) {
    if (spare_blocks.empty()) return new Block(fields);
    Block* b = spare_blocks.back();
    spare_blocks.pop_back();
    *b = fields;
    return b;
  }
  void retire_block(Block* b) { spare_blocks.push_back(b); }

  void add_free(Block* b) {
    FreeBlocks& set = free_set(b);
    if (spare_free_nodes.empty()) {
      set.insert(b);
      return;
    }
    FreeBlocks::node_type node = std::move(spare_free_nodes.back());
    spare_free_nodes.pop_back();
    node.value() = b;
    set.insert(std::move(node));
  }
  void remove_free(FreeBlocks& set, FreeBlocks::const_iterator at) {
    spare_free_nodes.push_back(set.extract(at));
  }
  void remove_free(Block* b) {
    FreeBlocks& set = free_set(b);
    remove_free(set, set.find(b));
  }

  void add_in_use(Block* b) {
    if (spare_in_use_nodes.empty()) {
      in_use.emplace(b->address, b);
      return;
    }
    InUse::node_type node = std::move(spare_in_use_nodes.back());
    spare_in_use_nodes.pop_back();
    node.key() = b->address;
    node.mapped() = b;
    in_use.insert(std::move(node));
  }
  // The block at `address`, taken out of the in-use map; nullptr when it is not ours.
  Block* remove_in_use(void* address) {
    const auto found = in_use.find(address);
    if (found == in_use.end()) return nullptr;
    Block* b = found->second;
    spare_in_use_nodes.push_back(in_use.extract(found));
    return b;
  }

  // The smallest free block of the right kind that holds `size`, taken out of its set.
  Block* take_best_fit(size_t size) {
    FreeBlocks& set = size <= kSmallRequest ? small_free : large_free;
    Block key{nullptr, size, false};
    auto found = set.lower_bound(&key);
    if (found == set.end()) return nullptr;
    Block* block = *found;
    remove_free(set, found);
    return block;
  }

  // A new segment from the system: on refusal, release the cache and ask again, then ask for
  // the request's own size (whose failure propagates with the system's message).
  Block* new_segment(size_t size) {
    size_t bytes = segment_size(size);
    void* pointer = try_raw(bytes);
    if (pointer == nullptr) {
      release_free_segments(0);
      pointer = try_raw(bytes);
    }
    if (pointer == nullptr) {
      bytes = size;
      pointer = raw_allocate(bytes);
    }
    stats.raw_allocations++;
    stats.reserved_bytes += bytes;
    stats.peak_reserved_bytes = std::max(stats.peak_reserved_bytes, stats.reserved_bytes);
    return new_block({static_cast<char*>(pointer), bytes, size <= kSmallRequest});
  }

  void* try_raw(size_t bytes) {
    try {
      return raw_allocate(bytes);
    } catch (const Error&) {
      return nullptr;
    }
  }

  // Cuts `block` to `size` when the rest is worth keeping; the rest goes to the free set.
  void split(Block* block, size_t size) {
    const size_t rest = block->size - size;
    if (rest < (block->small ? kGranule : kLargeSplitMinimum)) return;
    Block* remainder =
        new_block({block->address + size, rest, block->small, true, block, block->next});
    if (block->next != nullptr) block->next->previous = remainder;
    block->next = remainder;
    block->size = size;
    add_free(remainder);
  }

  // Merges free neighbour `b` into `a` (a directly before b); b's record is retired.
  void merge(Block* a, Block* b) {
    a->size += b->size;
    a->next = b->next;
    if (b->next != nullptr) b->next->previous = a;
    retire_block(b);
  }

  // Gives wholly free segments back, largest first, until at most `keep` bytes stay cached.
  void release_free_segments(size_t keep) {
    std::vector<Block*> whole;
    for (FreeBlocks* set : {&large_free, &small_free})
      for (Block* b : *set)
        if (b->whole_segment()) whole.push_back(b);
    std::sort(whole.begin(), whole.end(), [](Block* a, Block* b) { return a->size > b->size; });
    for (Block* b : whole) {
      if (cached() <= keep) break;
      remove_free(b);
      raw_free(b->address);
      stats.raw_frees++;
      stats.reserved_bytes -= b->size;
      retire_block(b);
    }
  }
};

CachingAllocator::CachingAllocator(RawAllocate raw_allocate, RawFree raw_free)
    : state_(std::make_unique<State>()) {
  state_->raw_allocate = raw_allocate;
  state_->raw_free = raw_free;
}

CachingAllocator::~CachingAllocator() { release_cache(); }

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = size_class(bytes);
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  Block* block = s.take_best_fit(size);
  if (block != nullptr)
    s.stats.cache_hits++;
  else
    block = s.new_segment(size);
  s.split(block, size);
  block->free = false;
  s.add_in_use(block);
  s.stats.in_use_bytes += block->size;
  s.stats.peak_in_use_bytes = std::max(s.stats.peak_in_use_bytes, s.stats.in_use_bytes);
  return block->address;
}

void CachingAllocator::deallocate(void* pointer, size_t /*bytes*/) {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  Block* block = s.remove_in_use(pointer);
  if (block == nullptr) return;  // not ours: nothing to do (never happens in tapegrad)
  s.stats.in_use_bytes -= block->size;
  block->free = true;
  if (Block* next = block->next; next != nullptr && next->free) {
    s.remove_free(next);
    s.merge(block, next);
  }
  if (Block* previous = block->previous; previous != nullptr && previous->free) {
    s.remove_free(previous);
    s.merge(previous, block);
    block = previous;
  }
  s.add_free(block);
  if (s.cached() > s.cache_limit) s.release_free_segments(s.cache_limit);
}

void CachingAllocator::release_cache() {
  std::lock_guard lock(state_->mutex);
  state_->release_free_segments(0);
}

void CachingAllocator::set_cache_limit(size_t bytes) {
  std::lock_guard lock(state_->mutex);
  state_->cache_limit = bytes;
  state_->release_free_segments(bytes);
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard lock(state_->mutex);
  Stats stats = state_->stats;
  stats.cached_bytes = state_->cached();
  return stats;
}

void CachingAllocator::reset_peaks() {
  std::lock_guard lock(state_->mutex);
  state_->stats.peak_in_use_bytes = state_->stats.in_use_bytes;
  state_->stats.peak_reserved_bytes = state_->stats.reserved_bytes;
}

}  // namespace tg
