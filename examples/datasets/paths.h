// Looking up the files programs are given, with errors that name the path and say why.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "framework/error.h"

namespace tg::data {

// A path as a message shows it: a 5,000-character one is cut to its start and its length.
inline std::string path_for_message(const std::string& path) {
  if (path.size() <= 120) return path;
  return path.substr(0, 60) + "... (" + std::to_string(path.size()) + " characters)";
}

// Whether path exists. A path the system cannot even look up (too long, a file where a folder
// should be) is a tg::Error "who: cannot look up PATH: File name too long", not a
// std::filesystem_error.
inline bool path_exists(const std::string& path, const char* who) {
  std::error_code error;
  const bool found = std::filesystem::exists(path, error);
  if (error && error != std::errc::no_such_file_or_directory && error != std::errc::not_a_directory)
    fail(who, ": cannot look up ", path_for_message(path), ": ", error.message());
  return found;
}

}  // namespace tg::data
