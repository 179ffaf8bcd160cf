#include "examples/program/program.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "examples/datasets/paths.h"
#include "framework/error.h"

namespace tg::program {

int run_main(const std::string& name, CLI::App& app, int argc, char** argv,
             const std::function<int()>& work) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);             // prints the help on stdout, returns 0
  } catch (const CLI::ExtrasError&) {  // CLI11 says "The following argument was not expected"
    std::string extras;
    for (const std::string& extra : app.remaining()) extras += (extras.empty() ? "" : " ") + extra;
    std::cerr << name << ": unknown flag or argument: " << extras << " (--help lists the flags)\n";
    return kFailed;
  } catch (const CLI::ParseError& error) {
    std::cerr << name << ": " << error.what() << " (--help lists the flags)\n";
    return kFailed;
  }
  try {
    return work();
  } catch (const std::exception& error) {  // tg::Error, filesystem errors, bad_alloc alike
    std::cerr << name << ": " << error.what() << "\n";
    return kFailed;
  }
}

void parse_args(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 reads a vector from its back
  app.parse(args);
}

namespace {

CLI::Validator number_validator(const std::string& description, bool allow_zero) {
  return CLI::Validator(
      [allow_zero](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "expected a number, got '" + text + "'";
        // float options too: 1e50 would become inf in a float
        if (!std::isfinite(static_cast<float>(value)))
          return "expected a finite number, got " + text;
        if (value < 0 || (!allow_zero && value == 0))
          return std::string("expected a number ") + (allow_zero ? ">= 0" : "> 0") + ", got " +
                 text;
        return {};
      },
      description);
}

}  // namespace

CLI::Validator whole_number(int64_t low, int64_t high) {
  return CLI::Validator(
      [low, high](std::string& text) -> std::string {
        int64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error == std::errc() && end == text.data() + text.size() && value >= low &&
            value <= high)
          return {};
        return "expected a whole number from " + std::to_string(low) + " to " +
               std::to_string(high) + ", got '" + text + "'";
      },
      "INT in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
}

CLI::Validator number_between(double low, double high) {
  return CLI::Validator(
      [low, high](std::string& text) -> std::string {
        double value = 0;
        if (CLI::detail::lexical_cast(text, value) && value >= low && value <= high) return {};
        std::ostringstream message;
        message << "expected a number from " << low << " to " << high << ", got '" << text << "'";
        return message.str();
      },
      "FLOAT in [" + CLI::detail::to_string(low) + ", " + CLI::detail::to_string(high) + "]");
}

const CLI::Validator kFinitePositive = number_validator("POSITIVE", false);
const CLI::Validator kFiniteNonNegative = number_validator("NONNEGATIVE", true);

void create_output_directory(const std::string& flag, const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (!error && !std::filesystem::is_directory(directory, error))
    error = std::make_error_code(std::errc::not_a_directory);
  if (error)
    fail(flag, ": cannot create the folder ", data::path_for_message(directory), ": ",
         error.message());
}

void check_loss_finite(double loss, int64_t step, double lr) {
  if (std::isfinite(loss)) return;
  fail("step ", step, ": the loss is ", loss, "; training stopped (learning rate ", lr,
       ": lower --lr, or look for bad input data)");
}

}  // namespace tg::program
