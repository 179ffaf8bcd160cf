// Data-parallel training on several processes (one machine or many), on MPI.
//
// Every process ("rank") holds a whole copy of the model and trains on its own shard of each
// global batch; after backward the gradients are averaged across ranks, so every rank takes the
// same optimizer step and the copies stay equal. With R ranks of per-rank batch b this is the
// training of one process with a global batch of R * b.
//
//   tg::distributed::init();                            // from mpirun's environment
//   broadcast_parameters(model);                        // rank 0's weights everywhere
//   GradientAverager averager(model);
//   for (each step) {
//     optimizer.zero_grad();
//     loss_of(my_shard).backward();
//     averager.average(my_shard_size);                  // the mean over the global batch
//     optimizer.step();
//   }
//
// Gradients travel in flat buckets of a few MB (one allreduce each, not one per parameter),
// filled in the order backward produces the gradients: the last layer's first.
//
// CUDA tensors are staged through host memory: Debian's Open MPI is not CUDA-aware (it cannot
// read device pointers), so each bucket is copied to the host, reduced there and copied back.
//
// The library is the CMake target tapegrad::distributed, built on Open MPI when CMake finds it
// (option TAPEGRAD_MPI). Without MPI the same functions exist and describe one process; init()
// then throws, saying how to get MPI. Before init() (a program run without --distributed),
// every function describes one process too, so a training loop needs no second version.
//
// Errors: a rank that throws must not leave the others waiting in an allreduce forever. Catch
// the error at the top of the program and call abort_job(): it prints the rank's message and
// ends every rank (MPI_Abort), and mpirun exits non-zero.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/random.h"
#include "framework/tensor.h"

namespace tg::distributed {

// True when this build has MPI.
bool available();
// Joins the job that mpirun started (MPI_Init); finalizes at exit. Idempotent. Throws tg::Error
// when this build has no MPI.
void init();
bool initialized();
int rank();        // 0 .. world_size() - 1; 0 before init()
int world_size();  // 1 before init()
bool is_main();    // rank 0: the one that prints, writes files and checkpoints
void barrier();

// Every tensor (any dtype, any device) takes its value on rank `root`, in place.
void broadcast(const std::vector<Tensor>& tensors, int root = 0);
// The model's parameters and buffers, from rank 0: call once after building (or resuming) it.
// Model: a tg::Module, or anything with parameters() and named_buffers() (optim/ does not
// include layers/).
template <class Model>
void broadcast_parameters(const Model& model) {
  std::vector<Tensor> tensors = model.parameters();
  for (const auto& [name, buffer] : model.named_buffers()) tensors.push_back(buffer);
  broadcast(tensors, 0);
}
// A flag or a number chosen on rank 0 (e.g. "a checkpoint exists") for every rank.
int64_t broadcast_value(int64_t value, int root = 0);

// Gives each rank its own random stream from a generator that every rank holds in the same state
// (after manual_seed, or a restored checkpoint): rank r's seed becomes seed + r *
// 0x9E3779B97F4A7C15, the offset stays. Without it, Dropout would draw the same masks on every rank
// (for different samples). Rank 0 keeps its stream, the one its checkpoints record; since every
// rank draws as many numbers per step, call it again after restoring and every rank resumes its own
// stream.
void separate_random_streams(Generator& generator = default_generator());

// Sums across ranks (a metric's numerators and denominators: correct answers, samples, loss).
double sum(double value);
std::vector<double> sum(const std::vector<double>& values);

// Prints "rank R: message" on stderr and ends the whole job with exit code `code`: every rank
// stops, and mpirun exits non-zero. Without MPI (or before init) it just exits.
[[noreturn]] void abort_job(const std::string& message, int code = 2);

// Averages the model's gradients across ranks after backward.
class GradientAverager {
 public:
  // Buckets of about bucket_bytes, in reverse registration order: backward reaches the last
  // layer first, so its gradients are ready first. A parameter bigger than a bucket gets one of
  // its own.
  explicit GradientAverager(const std::vector<Tensor>& parameters, size_t bucket_bytes = 4 << 20);
  // The parameters of a model (a tg::Module, or anything with parameters()).
  template <class Model>
  explicit GradientAverager(const Model& model, size_t bucket_bytes = 4 << 20)
      : GradientAverager(model.parameters(), bucket_bytes) {}

  // Every gradient becomes the mean over the global batch:
  //   g = sum over ranks r of (n_r * g_r) / sum over ranks of n_r
  // where g_r is rank r's mean gradient over its local_samples = n_r samples. With equal shards
  // it is the plain mean; a rank with a smaller (or empty) last shard weighs less. A parameter
  // without a gradient counts as zero; after the call every parameter has one.
  // Returns the global sample count. In a job of one process it does nothing.
  int64_t average(int64_t local_samples);

  size_t bucket_count() const { return buckets_.size(); }
  size_t bytes_per_step() const;     // the gradient bytes each rank sends into the allreduces
  double allreduce_seconds() const;  // time spent in average(), summed since construction
  int64_t steps() const { return steps_; }

 private:
  struct Bucket {
    std::vector<Tensor> parameters;
    std::vector<float> flat;  // the parameters' gradients end to end, on the host
  };
  std::vector<Bucket> buckets_;
  double seconds_ = 0;
  int64_t steps_ = 0;
};

}  // namespace tg::distributed
