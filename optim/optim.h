// Everything in optim/: optimizers, learning-rate schedules, gradient clipping, checkpoints.
#pragma once

#include "framework/serialize.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "optim/training_checkpoint.h"
