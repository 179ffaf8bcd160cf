// Everything in the engine, for programs that use it.
#pragma once

#include "framework/backend/backend.h"
#include "framework/error.h"
#include "framework/gradcheck.h"
#include "framework/ops/activation.h"
#include "framework/ops/attention.h"
#include "framework/ops/attention_mask.h"
#include "framework/ops/elementwise.h"
#include "framework/ops/index.h"
#include "framework/ops/matmul.h"
#include "framework/ops/nn.h"
#include "framework/ops/recurrent.h"
#include "framework/ops/reduce.h"
#include "framework/ops/shape.h"
#include "framework/random.h"
#include "framework/tape.h"
#include "framework/tensor.h"
