#include "layers/sequence_steps.h"

#include "framework/ops/elementwise.h"
#include "framework/ops/shape.h"

#include <sstream>
#include <string>

namespace tg {
namespace {

template <class... Parts>
std::string format_message(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  return message.str();
}

}  // namespace

std::string recurrent_options_problem(int64_t input_size, int64_t hidden_size, int64_t num_layers,
                                      float dropout) {
  if (input_size <= 0 || hidden_size <= 0)
    return "input_size and hidden_size must be positive, got " + std::to_string(input_size) +
           " and " + std::to_string(hidden_size);
  if (num_layers < 1) return "num_layers must be at least 1, got " + std::to_string(num_layers);
  if (!(dropout >= 0.0f && dropout < 1.0f))
    return "dropout must be in [0, 1), got " + format_message(dropout);
  return "";
}

std::string cell_index_problem(int64_t layer, int64_t direction, int64_t num_layers,
                               bool bidirectional) {
  if (layer < 0 || layer >= num_layers)
    return "no layer " + std::to_string(layer) + " (it has " + std::to_string(num_layers) + ")";
  if (direction < 0 || direction >= (bidirectional ? 2 : 1))
    return "no direction " + std::to_string(direction) +
           (bidirectional ? " (0 forward, 1 backward)" : " (unidirectional: only 0)");
  return "";
}

std::string lengths_problem(const Tensor& lengths, int64_t batch, int64_t steps, const Shape& x) {
  if (!lengths.defined()) return "";
  if (lengths.dtype() != DType::Int32 || lengths.shape() != Shape{batch})
    return format_message("expected lengths int32 [", batch, "], got ", to_string(lengths.dtype()),
                          " ", lengths.shape());
  const std::vector<int32_t> values = lengths.to(Device::CPU).to_vector<int32_t>();
  for (size_t b = 0; b < values.size(); ++b)
    if (values[b] < 1 || values[b] > steps)
      return format_message("lengths must be in [1, ", steps, "] (the time steps of ", x, "), got ",
                            values[b], " for sequence ", b);
  return "";
}

std::vector<Tensor> step_masks(const Tensor& lengths, int64_t steps, Device device) {
  if (!lengths.defined()) return {};
  const std::vector<int32_t> values = lengths.to(Device::CPU).to_vector<int32_t>();
  bool padded = false;
  for (int32_t length : values) padded = padded || length < steps;
  if (!padded) return {};
  // masks[t, b, 0] = lengths[b] > t
  const auto batch = static_cast<int64_t>(values.size());
  const Tensor masks = gt(lengths.to(device).reshape({1, batch, 1}),
                          arange(steps, DType::Int32, device).reshape({steps, 1, 1}));
  return unbind(masks, 0);
}

}  // namespace tg
