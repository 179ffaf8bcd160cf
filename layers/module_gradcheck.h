// gradcheck_module: gradcheck for a layer, its inputs and every one of its parameters.
//
// tg::gradcheck differentiates with respect to the tensors it is handed; a layer's weights live
// inside the layer. This checks both: the inputs that require grad, and every parameter that
// module.named_parameters() lists, perturbed in place one element at a time.
//
//   GRUCell cell(3, 4);
//   auto r = gradcheck_module(cell, [&](const std::vector<Tensor>& in) {
//     return cell(in[0], in[1]);
//   }, {x.set_requires_grad(), h});
//   CHECK_MESSAGE(r.ok, r.report);   // names the worst element: "parameter 'update.weight' ..."
//
// Same method and tolerances as tg::gradcheck (see framework/gradcheck.h): the output is
// weighted by a fixed random w, and |analytic - numeric| <= atol + rtol |numeric| per element.
// The module's gradients are restored afterwards. Keep shapes small: it runs two forwards per
// element of every input and parameter.
#pragma once

#include <vector>

#include "framework/gradcheck.h"
#include "layers/module.h"

namespace tg {

GradcheckResult gradcheck_module(const Module& module, const GradcheckFn& f,
                                 const std::vector<Tensor>& inputs,
                                 const GradcheckOptions& options = {});

}  // namespace tg
