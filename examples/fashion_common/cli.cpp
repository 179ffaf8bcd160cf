#include "examples/fashion_common/cli.h"

#include "examples/program/program.h"

namespace fashion {

void add_flags(CLI::App& app, Options& o) {
  using tg::program::kFiniteNonNegative;
  using tg::program::kFinitePositive;
  using tg::program::kMaxSeed;
  using tg::program::whole_number;
  app.option_defaults()->always_capture_default();
  app.get_formatter()->column_width(34);
  // clang-format off
  app.add_option("--epochs", o.epochs, "training epochs")->check(whole_number(1, 1000000));
  app.add_option("--stop-after", o.stop_after, "stop after epoch N, as if interrupted (continue "
                 "with --resume); 0: run every epoch")->check(whole_number(0, 1000000));
  app.add_option("--batch-size", o.batch_size, "images per step")->check(whole_number(1, 1000000));
  app.add_option("--lr", o.lr, "peak learning rate of AdamW")->check(kFinitePositive);
  app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay")
      ->check(kFiniteNonNegative);
  app.add_option("--flips", o.random_flips, "mirror training images at random (on or off)");
  app.add_option("--shift", o.max_shift, "move training images by up to N pixels each way, at "
                 "random (0: off)")->check(whole_number(0, 14));
  app.add_option("--seed", o.seed, "seed of the initial weights, shuffling and dropout")
      ->check(whole_number(0, kMaxSeed));
  app.add_option("--threads", o.threads, "CPU threads")->check(whole_number(1, 1024));
  app.add_option("--device", o.device, "where the model runs")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--out", o.out, "where pictures, metrics and model.tg go");
  app.add_option("--data", o.data, "the folder of the Fashion-MNIST files");
  auto* limit = app.add_option("--limit", o.limit, "train on the first N images only")
      ->check(whole_number(1, 1000000000))->default_str("all");
  auto* save = app.add_option("--save", o.save, "the checkpoint written after every epoch "
                              "(default OUT/model.tg)");
  auto* resume = app.add_option("--resume", o.resume, "continue training from a checkpoint");
  auto* checkpoint = app.add_option("--checkpoint", o.checkpoint, "the model --predict loads");
  app.add_option("--predict", o.predict, "classify these test images (0 to 9999) with the "
                 "model of --checkpoint, writing OUT/predictions.png")
      ->expected(1, -1)->check(whole_number(0, 1000000000))
      ->needs(checkpoint)->excludes(resume)->excludes(save)->excludes(limit);
  // int8 inference (layers/quantize.h); --predict and --evaluate load int8 checkpoints as well
  app.add_flag("--evaluate", o.evaluate, "score the test set with the model of --checkpoint")
      ->needs(checkpoint)->excludes(resume)->excludes(save)->excludes(limit);
  auto* quantize = app.add_option("--quantize", o.quantize, "with --evaluate or --predict: "
                                  "quantize the model to int8, write it to FILE and use it")
      ->needs(checkpoint);
  app.add_flag("--int8-activations", o.int8_activations, "with --quantize: quantize activations "
               "per row too (int8 x int8 products)")->needs(quantize);
  app.add_flag("--quiet", o.quiet, "no progress bar");
  app.add_flag("--distributed", o.distributed, "one process of `mpirun -np R`: batch N per "
               "process, R x N in all");
  // clang-format on
}

Options parse_flags(const std::vector<std::string>& args, const Options& defaults) {
  Options options = defaults;
  CLI::App app;
  add_flags(app, options);
  tg::program::parse_args(app, args);
  return options;
}

std::string usage(const std::string& program, const std::string& description,
                  const Options& defaults) {
  Options options = defaults;
  CLI::App app(description, program);
  add_flags(app, options);
  return app.help();
}

}  // namespace fashion
