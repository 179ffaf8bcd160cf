// The Fashion programs' flags, declared once with CLI11: each flag is one line below, with its
// type, its range and its help text; CLI11 generates --help and refuses what does not fit.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "examples/fashion_common/fashion_common.h"

namespace fashion {

// Declares every flag on app, reading into options (whose values are the defaults --help shows).
void add_flags(CLI::App& app, Options& options);

// Parses args (without the program name) over defaults; throws CLI::ParseError naming the flag.
Options parse_flags(const std::vector<std::string>& args, const Options& defaults);
// The generated --help text.
std::string usage(const std::string& program, const std::string& description,
                  const Options& defaults);

}  // namespace fashion
