// The example programs as a user with a GPU runs them, --device cuda, here on the emulated GPU,
// against the same run on the CPU. Same flags and seed, so the same initial weights, batches and
// dropout masks: every number the two runs write to metrics.csv (losses, accuracies, error
// rates; not the timings) must agree to 1e-4. A few hundred examples and one epoch each, since
// the emulator is slow; what is tested is the path (batches moved to the device, clipping,
// evaluation, decoding, pictures, checkpoints), and that it computes what the CPU computes.
//
// The programs' paths come from CMake (tests/cuda_emulator/CMakeLists.txt).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

Table read_csv(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path.string());
  Table table;
  std::string line;
  REQUIRE(std::getline(in, line));
  table.columns = split_csv_line(line);
  while (std::getline(in, line))
    if (!line.empty()) table.rows.push_back(split_csv_line(line));
  return table;
}

// Runs `command` with its output in `log`; returns that output, and fails the test with the end
// of it if the program fails.
std::string run(const std::string& command, const fs::path& log) {
  const int status = std::system((command + " > " + log.string() + " 2>&1").c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  const std::string output = text.str();
  if (status != 0)
    FAIL(command, " exited with status ", status, "; its output ends:\n",
         output.substr(output.size() > 2000 ? output.size() - 2000 : 0));
  return output;
}

// The lines of a program's output that start "test image".
std::string prediction_lines(const std::string& output) {
  std::stringstream in(output);
  std::string lines;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("test image", 0) == 0) lines += line + "\n";
  return lines;
}

// Trains: `program flags --device device --out dir`.
void train(const std::string& program, const std::string& flags, const std::string& device,
           const fs::path& out) {
  fs::remove_all(out);
  fs::create_directories(out);
  run(program + " " + flags + " --device " + device + " --out " + out.string(), out / "log.txt");
}

// Every numeric cell of `file` in the CPU run's and the GPU run's output, compared.
void check_same_numbers(const fs::path& cpu_dir, const fs::path& gpu_dir, const std::string& file) {
  const Table cpu = read_csv(cpu_dir / file), gpu = read_csv(gpu_dir / file);
  REQUIRE(cpu.columns == gpu.columns);
  REQUIRE(cpu.rows.size() == gpu.rows.size());
  REQUIRE(!cpu.rows.empty());
  for (size_t r = 0; r < cpu.rows.size(); ++r) {
    REQUIRE(cpu.rows[r].size() == gpu.rows[r].size());
    for (size_t c = 0; c < cpu.rows[r].size() && c < cpu.columns.size(); ++c) {
      if (cpu.columns[c] == "seconds" || cpu.rows[r][c].empty()) continue;
      INFO(file, " row ", r + 1, " column ", cpu.columns[c], ": cpu ", cpu.rows[r][c], ", gpu ",
           gpu.rows[r][c]);
      const double a = std::stod(cpu.rows[r][c]), b = std::stod(gpu.rows[r][c]);
      CHECK(std::fabs(a - b) <= 1e-4 * std::max(1.0, std::fabs(a)));
    }
  }
}

// Trains `name` on both devices and compares; returns the folder of the two runs.
fs::path check_example(const std::string& name, const std::string& cpu_program,
                       const std::string& emulated_program, const std::string& flags,
                       const std::vector<std::string>& metric_files,
                       const std::vector<std::string>& pictures) {
  const fs::path root = fs::path(TAPEGRAD_EXAMPLE_RUNS) / name;
  train(cpu_program, flags, "cpu", root / "cpu");
  train(emulated_program, flags, "cuda", root / "cuda");
  for (const std::string& file : metric_files)
    check_same_numbers(root / "cpu", root / "cuda", file);
  for (const std::string& picture : pictures) {
    INFO(picture);
    CHECK(fs::file_size(root / "cuda" / picture) > 1000);
  }
  return root;
}

TEST_CASE("fashion_mlp --device cuda on the emulated GPU matches the CPU run") {
  const fs::path root = check_example("fashion_mlp", FASHION_MLP_CPU, FASHION_MLP_EMULATED,
                                      "--epochs 1 --limit 512 --threads 1 --quiet", {"metrics.csv"},
                                      {"loss.png", "confusion.png"});
  // A model trained on the GPU predicts on a machine without one, as the CPU-trained one does.
  const auto predict = [&](const std::string& trained_on) {
    return prediction_lines(run(std::string(FASHION_MLP_CPU) + " --checkpoint " +
                                    (root / trained_on / "model.tg").string() + " --out " +
                                    (root / trained_on).string() + " --predict 0 1 2 3 4",
                                root / trained_on / "predict.txt"));
  };
  const std::string from_gpu = predict("cuda");
  CHECK(from_gpu.find("test image 4: predicted") != std::string::npos);
  CHECK(from_gpu == predict("cpu"));
}

TEST_CASE("g2p_lstm --device cuda on the emulated GPU matches the CPU run") {
  check_example("g2p_lstm", G2P_LSTM_CPU, G2P_LSTM_EMULATED,
                "--epochs 1 --limit 600 --warmup 2 --dev-words 20 --embed 16 --hidden 32 "
                "--threads 1 --show phoenix",
                {"metrics.csv", "g2p_metrics.csv"}, {"attention_phoenix.png", "loss.png"});
}

TEST_CASE("g2p_transformer --device cuda on the emulated GPU matches the CPU run") {
  check_example("g2p_transformer", G2P_TRANSFORMER_CPU, G2P_TRANSFORMER_EMULATED,
                "--epochs 1 --limit 150 --batch 16 --warmup 2 --dev-words 5 --embed 16 --ff 32 "
                "--heads 2 --layers 1 --decoder-layers 1 --threads 1 --show abba",
                {"metrics.csv", "g2p_metrics.csv"}, {"attention_abba.png", "loss.png"});
}

}  // namespace
