// Layout kernels: permutations, block copies along a dim, gather/scatter of rows.
#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

// out[r, i, c] = x[r, index[i], c], all three seen as [outer, count or n, inner].
__global__ void index_select_kernel(int64_t total, const uint32_t* x, uint32_t* out,
                                    const int32_t* index, int64_t n, int64_t count, int64_t inner) {
  for (int64_t e = cuda::first_index(); e < total; e += cuda::index_stride()) {
    const int64_t c = e % inner, i = (e / inner) % count, r = e / (inner * count);
    // A bad index (the op queued its check) reads nothing: zeros until the error is reported.
    out[e] = index[i] >= 0 && index[i] < n ? x[(r * n + index[i]) * inner + c] : 0u;
  }
}

// dst[r, index[i], c] += src[r, i, c]. Several i may name the same row, so the adds are
// atomic; their order (and so the last bits of a sum) may differ from run to run.
__global__ void index_add_kernel(int64_t total, float* dst, const float* src, const int32_t* index,
                                 int64_t n, int64_t count, int64_t inner, int64_t skip_index) {
  for (int64_t e = cuda::first_index(); e < total; e += cuda::index_stride()) {
    const int64_t c = e % inner, i = (e / inner) % count, r = e / (inner * count);
    if (index[i] == skip_index || index[i] < 0 || index[i] >= n) continue;
    atomicAdd(dst + (r * n + index[i]) * inner + c, src[e]);
  }
}

}  // namespace

// out[j0, j1, ...] = x[...] where output dim d walks input dim dims[d].
Tensor CudaBackend::permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const Permuted p = permuted(x.shape(), dims);
  const Shape& out_shape = p.shape;
  const std::vector<int64_t>& strides_by_out = p.strides;  // input stride per output dim
  Tensor out = empty(out_shape, x.dtype(), Device::CUDA);
  if (out.numel() == 0) return out;
  cuda::gather_words(x, out, cuda::make_strided_index<1>(out_shape, {strides_by_out}, "permute"));
  return out;
}

// `outer` rows of length*inner words, read src_n*inner words apart and written dst_n*inner
// apart: exactly a 2-D memory copy.
void CudaBackend::copy_block(const Tensor& src, int64_t src_n, int64_t src_start, const Tensor& dst,
                             int64_t dst_n, int64_t dst_start, int64_t length, int64_t outer,
                             int64_t inner) {
  const size_t word = 4;
  const size_t width = static_cast<size_t>(length * inner) * word;
  if (width == 0 || outer == 0) return;
  const auto* from = static_cast<const char*>(src.raw_data()) + src_start * inner * word;
  auto* to = static_cast<char*>(dst.raw_data()) + dst_start * inner * word;
  if (outer == 1) {
    cuda::check_cuda(cudaMemcpyAsync(to, from, width, cudaMemcpyDeviceToDevice, cudaStreamLegacy),
                     "cudaMemcpyAsync device to device (", width, " bytes)");
    return;
  }
  cuda::check_cuda(
      cudaMemcpy2DAsync(to, static_cast<size_t>(dst_n * inner) * word, from,
                        static_cast<size_t>(src_n * inner) * word, width,
                        static_cast<size_t>(outer), cudaMemcpyDeviceToDevice, cudaStreamLegacy),
      "cudaMemcpy2DAsync (", outer, " rows of ", width, " bytes)");
}

Tensor CudaBackend::index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const cuda::Split s = cuda::split_at(x.shape(), dim);
  Shape out_shape = x.shape();
  const int64_t count = index.numel();
  out_shape[dim] = count;
  Tensor out = empty(out_shape, x.dtype(), Device::CUDA);
  cuda::launch("index_select", out.numel(), index_select_kernel,
               static_cast<const uint32_t*>(x.raw_data()), static_cast<uint32_t*>(out.raw_data()),
               index.device_data<int32_t>(), s.n, count, s.inner);
  return out;
}

void CudaBackend::index_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src,
                            int64_t skip_index) {
  const cuda::Split s = cuda::split_at(dst.shape(), dim);
  const int64_t count = index.numel();
  cuda::launch("index_add", s.outer * count * s.inner, index_add_kernel, dst.device_data<float>(),
               src.device_data<float>(), index.device_data<int32_t>(), s.n, count, s.inner,
               skip_index);
}

}  // namespace tg
