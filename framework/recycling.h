// Recycling: a per-thread cache of freed memory blocks for the small objects every op makes.
//
// Each op's output is a TensorImpl and a Storage, each made by std::allocate_shared in one heap
// block together with its shared_ptr's reference counts. A training step makes thousands of
// them, keeps them alive through the forward pass and frees them in backward. glibc's malloc
// keeps only 7 freed blocks per size in its fast per-thread cache, so most of those mallocs and
// frees took its slower shared paths: a fifth of a tiny op's time. RecyclingAllocator keeps up
// to kCachedBlocks freed blocks per size per thread: once a step is warm, making a tensor takes a
// block from the list and freeing it puts the block back, and malloc is not called.
//
// Every block still comes from ::operator new and is interchangeable with any other of its size,
// so a block freed on another thread than the one that made it simply joins that thread's list,
// and a thread's list is given back to the system when the thread ends. Under AddressSanitizer
// nothing is cached, so that a use after free is still caught.
#pragma once

#include <cstddef>
#include <new>

namespace tg {

namespace recycling_detail {

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kCachedBlocks = 0;
#else
constexpr size_t kCachedBlocks = 8192;  // a large training step's worth of tensors
#endif

// Set when this thread's lists have been destroyed (the thread is ending): a block freed after
// that goes straight back to the system. A plain bool, so reading it is always safe.
inline thread_local bool lists_closed = false;

// Freed blocks of `Bytes` bytes, linked through their own first bytes.
template <size_t Bytes>
struct FreeList {
  struct Node {
    Node* next;
  };
  static_assert(Bytes >= sizeof(Node));
  Node* head = nullptr;
  size_t count = 0;

  ~FreeList() {
    while (head != nullptr) {
      Node* node = head;
      head = node->next;
      ::operator delete(node);
    }
    lists_closed = true;
  }
};

template <size_t Bytes>
FreeList<Bytes>& free_list() {
  thread_local FreeList<Bytes> list;
  return list;
}

template <size_t Bytes>
void* take_block() {
  if (!lists_closed) {
    FreeList<Bytes>& list = free_list<Bytes>();
    if (list.head != nullptr) {
      auto* node = list.head;
      list.head = node->next;
      --list.count;
      return node;
    }
  }
  return ::operator new(Bytes);
}

template <size_t Bytes>
void give_back_block(void* block) {
  if (!lists_closed) {
    FreeList<Bytes>& list = free_list<Bytes>();
    if (list.count < kCachedBlocks) {
      list.head = new (block) typename FreeList<Bytes>::Node{list.head};
      ++list.count;
      return;
    }
  }
  ::operator delete(block);
}

}  // namespace recycling_detail

// An allocator for std::allocate_shared<T>(RecyclingAllocator<T>{}, ...): one object at a time
// from this thread's list of freed blocks of its size (larger requests go to ::operator new).
template <class T>
struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) {}

  T* allocate(size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    if (n != 1) return static_cast<T*>(::operator new(n * sizeof(T)));
    return static_cast<T*>(recycling_detail::take_block<sizeof(T)>());
  }
  void deallocate(T* pointer, size_t n) {
    if (n != 1) return ::operator delete(pointer);
    recycling_detail::give_back_block<sizeof(T)>(pointer);
  }
  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const {
    return true;
  }
};

}  // namespace tg
