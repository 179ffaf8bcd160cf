#include "layers/sequence_steps.h"

#include "framework/ops/checks.h"
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

std::string lengths_problem(const Tensor& lengths, int64_t batch) {
  if (!lengths.defined()) return "";
  if (lengths.dtype() != DType::Int32 || lengths.shape() != Shape{batch})
    return format_message("expected lengths int32 [", batch, "], got ", to_string(lengths.dtype()),
                          " ", lengths.shape());
  return "";
}

void check_length_values(const Tensor& lengths, int64_t steps, const char* layer_type) {
  if (lengths.defined()) check_values(lengths, {layer_type, "length", "sequence", 1, steps, true});
}

std::vector<Tensor> step_masks(const Tensor& lengths, int64_t steps, Device device) {
  if (!lengths.defined()) return {};
  // Whether a sequence is padded is read only where the lengths are already on the host: on a
  // GPU, reading them would make the host wait for the device, and masks that keep every step
  // cost little.
  const int64_t batch = lengths.size(0);
  bool padded = lengths.device() != Device::CPU;
  for (int64_t b = 0; b < batch && !padded; ++b) padded = lengths.data<int32_t>()[b] < steps;
  if (!padded) return {};
  // masks[t, b, 0] = lengths[b] > t
  const Tensor masks = gt(lengths.to(device).reshape({1, batch, 1}),
                          arange(steps, DType::Int32, device).reshape({steps, 1, 1}));
  return unbind(masks, 0);
}

}  // namespace tg
