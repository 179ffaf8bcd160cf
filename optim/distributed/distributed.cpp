// What the distributed training builds on the four calls of communicator.h: broadcasts of
// tensors, sums of metrics, and the bucketed gradient average. The same code runs with and
// without MPI (without it, the calls do nothing and one process is the whole job).
#include "optim/distributed/distributed.h"

#include <chrono>
#include <cstring>

#include "framework/backend/backend.h"
#include "framework/tape.h"
#include "optim/distributed/communicator.h"

namespace tg::distributed {

bool is_main() { return rank() == 0; }

// A tensor on any device is read and written through a host copy: Debian's Open MPI cannot read
// GPU memory (it is not CUDA-aware), and for a CPU tensor the copy is one memcpy.
void broadcast(const std::vector<Tensor>& tensors, int root) {
  if (world_size() == 1) return;
  std::vector<char> host;
  for (const Tensor& t : tensors) {
    host.resize(t.nbytes());
    if (rank() == root) backend_of(t).copy_to_host(t, host.data());
    detail::broadcast_bytes(host.data(), host.size(), root);
    if (rank() != root) backend_of(t).copy_from_host(t, host.data());
  }
}

int64_t broadcast_value(int64_t value, int root) {
  detail::broadcast_bytes(&value, sizeof value, root);
  return value;
}

void separate_random_streams(Generator& generator) {
  constexpr uint64_t kGoldenRatio = 0x9E3779B97F4A7C15ull;  // seeds far apart for Philox's key
  generator.set_state(generator.seed() + static_cast<uint64_t>(rank()) * kGoldenRatio,
                      generator.offset());
}

double sum(double value) { return sum(std::vector<double>{value})[0]; }

std::vector<double> sum(const std::vector<double>& values) {
  std::vector<double> total = values;
  detail::allreduce_sum(total.data(), total.size());
  return total;
}

// ---- gradient averaging ----

GradientAverager::GradientAverager(const std::vector<Tensor>& parameters, size_t bucket_bytes) {
  size_t bytes = 0;
  for (auto p = parameters.rbegin(); p != parameters.rend(); ++p) {
    if (buckets_.empty() || bytes >= bucket_bytes) {
      buckets_.emplace_back();
      bytes = 0;
    }
    buckets_.back().parameters.push_back(*p);
    bytes += p->nbytes();
  }
  for (Bucket& bucket : buckets_) {
    size_t floats = 0;
    for (const Tensor& p : bucket.parameters) floats += static_cast<size_t>(p.numel());
    bucket.flat.resize(floats);
  }
  // The first bucket carries the local count as one more float, so that the global count costs
  // no allreduce of its own (a float counts exactly up to 2^24 samples per step).
  if (!buckets_.empty()) buckets_.front().flat.push_back(0.0f);
}

size_t GradientAverager::bytes_per_step() const {
  size_t bytes = 0;
  for (const Bucket& bucket : buckets_) bytes += bucket.flat.size() * sizeof(float);
  return bytes;
}

double GradientAverager::allreduce_seconds() const { return seconds_; }

int64_t GradientAverager::average(int64_t local_count) {
  check(local_count >= 0, "GradientAverager::average: expected a sample count >= 0, got ",
        local_count);
  if (world_size() == 1) return local_count;  // one process: its mean is the mean
  const auto started = std::chrono::steady_clock::now();
  NoGradGuard no_recording;
  // Each rank's mean gradient g_r is weighted by its count n_r before the sum, then the sum is
  // divided by sum(n_r): the mean over every sample of the global batch.
  const auto weight = static_cast<float>(local_count);
  float global_count = static_cast<float>(local_count);
  for (size_t b = 0; b < buckets_.size(); ++b) {
    Bucket& bucket = buckets_[b];
    float* flat = bucket.flat.data();
    for (const Tensor& p : bucket.parameters) {
      const Tensor grad = p.grad();
      const auto n = static_cast<size_t>(p.numel());
      if (grad.defined()) {
        backend_of(grad).copy_to_host(grad, flat);
        for (size_t i = 0; i < n; ++i) flat[i] *= weight;
      } else {
        std::memset(flat, 0, n * sizeof(float));
      }
      flat += n;
    }
    if (b == 0) *flat = weight;
    detail::allreduce_sum(bucket.flat.data(), bucket.flat.size());
    if (b == 0) global_count = *flat;
    check(global_count > 0, "GradientAverager::average: no rank had a sample in this step");
    const float scale = 1.0f / global_count;
    flat = bucket.flat.data();
    for (const Tensor& p : bucket.parameters) {
      const auto n = static_cast<size_t>(p.numel());
      for (size_t i = 0; i < n; ++i) flat[i] *= scale;
      if (!p.grad().defined()) p.set_grad(zeros(p.shape(), DType::Float32, p.device()));
      backend_of(p).copy_from_host(p.grad(), flat);
      flat += n;
    }
  }
  ++steps_;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return static_cast<int64_t>(global_count);
}

}  // namespace tg::distributed
