// What every example program does at its edges, the same way in each: flags parsed by CLI11
// (typed, ranged, with a generated --help), one line on stderr and a clear exit status for
// anything that goes wrong, output folders checked before hours of training, and a loss that
// turns NaN stopping the run at the step where it happened.
//
// Exit status: 0 success (and --help); 1 the program failed (bad data, unwritable output, a
// diverging loss, any std::exception); 2 the command line was wrong (a flag CLI11 refused: unknown,
// mistyped, out of range, or a combination not allowed). 2 is the shell's convention for usage
// errors; CLI11's own codes (105, 106, ...) name its exception classes and mean nothing to a
// script, so they are not passed on.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tg::program {

// The exit status of every failure, a wrong command line included: one status for "it did not
// run", and the one line on stderr says why (the house rule; CLI11's own codes are 105-114).
constexpr int kFailed = 1;

// Parses argc/argv into app's options, then runs work. Returns the exit status above; --help
// prints app's help on stdout and returns 0. Every error is one line "name: message" on stderr.
int run_main(const std::string& name, CLI::App& app, int argc, char** argv,
             const std::function<int()>& work);

// Parses args (without the program name) into app's options; throws CLI::ParseError. For tests.
void parse_args(CLI::App& app, std::vector<std::string> args);

// CLI11 validators the programs share. CLI11's own integer parsing takes "-1" for an unsigned
// option (as 2^64 - 1) and its Range prints 300 digits for an open end, so integers are checked
// here: whole_number(1, 100) refuses "1e9", "5abc", "1.5" and 4294967297 with
// "expected a whole number from 1 to 100, got '5abc'".
CLI::Validator whole_number(int64_t low, int64_t high);
constexpr int64_t kMaxSeed = INT64_MAX;  // seeds are uint64; the programs take the lower half
CLI::Validator number_between(double low, double high);  // finite, low <= x <= high
extern const CLI::Validator kFinitePositive;             // a number > 0 that is not inf or NaN
extern const CLI::Validator kFiniteNonNegative;          // a number >= 0 that is not inf or NaN

// Creates directory (and its parents) for a program's output; throws tg::Error naming flag and
// why it cannot ("--out: cannot create 'x/y': Not a directory") instead of a filesystem_error.
void create_output_directory(const std::string& flag, const std::string& directory);

// Throws tg::Error when loss is NaN or infinite ("step 12: the loss is nan; training stopped
// (learning rate 1e+30: lower --lr)"), so that a diverged run stops there instead of reporting
// results. step counts from 1.
void check_loss_finite(double loss, int64_t step, double lr);

}  // namespace tg::program
