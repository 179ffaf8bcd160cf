# The example programs as a user meets them: each test runs a program with one bad input and
# checks its exit status (1: the command line was wrong or the program failed) and the one line
# it prints. Named after what each guards (issue 14's items).
function(tapegrad_expect_exit name status output)
  add_test(NAME examples/${name}
           COMMAND ${CMAKE_COMMAND} -DSTATUS=${status} "-DOUTPUT=${output}"
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/examples/expect_exit.cmake -- ${ARGN})
  set_tests_properties(examples/${name} PROPERTIES ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endfunction()

string(REPEAT "a" 5000 overlong)
set(runs ${CMAKE_CURRENT_BINARY_DIR}/program_runs)
file(MAKE_DIRECTORY ${runs})
file(WRITE ${runs}/a_file "a regular file, where an output folder should go\n")
set(fashion_quick --limit 200 --epochs 1 --quiet)

if(TARGET fashion_mlp)
  tapegrad_expect_exit(fashion_mlp/out_under_a_file_is_an_error 1
    "fashion_mlp: --out: cannot create the folder .*a_file/sub" $<TARGET_FILE:fashion_mlp>
    --out ${runs}/a_file/sub ${fashion_quick})
  tapegrad_expect_exit(fashion_mlp/out_that_is_a_file_is_an_error 1
    "fashion_mlp: --out: cannot create the folder .*a_file: Not a directory"
    $<TARGET_FILE:fashion_mlp> --out ${runs}/a_file ${fashion_quick})
  tapegrad_expect_exit(fashion_mlp/out_under_proc_is_an_error 1
    "fashion_mlp: --out: cannot create the folder '?/proc/tapegrad" $<TARGET_FILE:fashion_mlp>
    --out /proc/tapegrad/out ${fashion_quick})
  tapegrad_expect_exit(fashion_mlp/overlong_data_path_is_an_error 1
    "fashion_mlp: fashion_mnist: cannot look up /tmp/aaaa.*\\([0-9]+ characters\\): File name too long"
    $<TARGET_FILE:fashion_mlp> --data /tmp/${overlong} --out ${runs}/fashion ${fashion_quick})
  tapegrad_expect_exit(fashion_mlp/epochs_do_not_wrap 1
    "fashion_mlp: --epochs: expected a whole number from 1 to 1000000, got '4294967297'"
    $<TARGET_FILE:fashion_mlp> --epochs 4294967297)
  tapegrad_expect_exit(fashion_mlp/threads_do_not_wrap 1
    "--threads: expected a whole number from 1 to 1024, got '-4294967295'"
    $<TARGET_FILE:fashion_mlp> --threads -4294967295)
  tapegrad_expect_exit(fashion_mlp/limit_zero_is_refused 1
    "--limit: expected a whole number from 1 to" $<TARGET_FILE:fashion_mlp> --limit 0)
  tapegrad_expect_exit(fashion_mlp/help_lists_the_flags 0 "--batch-size.*--predict"
    $<TARGET_FILE:fashion_mlp> --help)
  tapegrad_expect_exit(fashion_mlp/quantize_without_evaluate_is_an_error 1
    "fashion_mlp: --quantize needs --evaluate or --predict" $<TARGET_FILE:fashion_mlp>
    --checkpoint ${runs}/none.tg --quantize ${runs}/int8.tg)
endif()

if(TARGET g2p_lstm)
  tapegrad_expect_exit(g2p_lstm/bad_device_flag 1 "g2p_lstm: --device: tpu not in {cpu,cuda}"
    $<TARGET_FILE:g2p_lstm> --device tpu)
  tapegrad_expect_exit(g2p_lstm/bad_flag_value 1
    "g2p_lstm: --epochs: expected a whole number from 1 to 1000000, got '0'"
    $<TARGET_FILE:g2p_lstm> --epochs 0)
  tapegrad_expect_exit(g2p_lstm/dev_words_negative_is_refused 1
    "g2p_lstm: --dev-words: expected a whole number from 0 to" $<TARGET_FILE:g2p_lstm>
    --dev-words -1)
  tapegrad_expect_exit(g2p_lstm/beam_has_an_upper_bound 1
    "g2p_lstm: --beam: expected a whole number from 1 to 64, got '1000000000000'"
    $<TARGET_FILE:g2p_lstm> --predict cat --beam 1000000000000)
  tapegrad_expect_exit(g2p_lstm/trailing_junk_is_refused 1
    "g2p_lstm: --beam: expected a whole number from 1 to 64, got '5abc'"
    $<TARGET_FILE:g2p_lstm> --predict cat --beam 5abc)
  tapegrad_expect_exit(g2p_lstm/limit_in_exponent_notation_is_refused 1
    "g2p_lstm: --limit: expected a whole number from 1 to 1000000000, got '1e9'"
    $<TARGET_FILE:g2p_lstm> --limit 1e9)
  tapegrad_expect_exit(g2p_lstm/unknown_flag_is_named 1
    "g2p_lstm: unknown flag or argument: --bogus" $<TARGET_FILE:g2p_lstm> --bogus)
  # Each program offers its own model's flags: the Transformer's would be ignored, so they are
  # refused by name.
  tapegrad_expect_exit(g2p_lstm/transformer_flags_are_refused 1
    "g2p_lstm: --heads: this model has no such setting .a flag of g2p_transformer."
    $<TARGET_FILE:g2p_lstm> --heads 8)
  tapegrad_expect_exit(g2p_lstm/norm_is_a_transformer_flag 1
    "g2p_lstm: --norm: this model has no such setting .a flag of g2p_transformer."
    $<TARGET_FILE:g2p_lstm> --norm post)
  tapegrad_expect_exit(g2p_lstm/encoder_window_is_a_transformer_flag 1
    "g2p_lstm: --encoder-window: this model has no such setting .a flag of g2p_transformer."
    $<TARGET_FILE:g2p_lstm> --encoder-window 3)
  tapegrad_expect_exit(g2p_lstm/words_need_predict 1 "g2p_lstm: words requires --predict"
    $<TARGET_FILE:g2p_lstm> cat)
  tapegrad_expect_exit(g2p_lstm/empty_dictionary_names_the_data 1
    "g2p_lstm: --data: /dev/null has no dictionary entries" $<TARGET_FILE:g2p_lstm>
    --data /dev/null --out ${runs}/g2p_empty)
  tapegrad_expect_exit(g2p_lstm/out_under_a_file_is_an_error 1
    "g2p_lstm: --out: cannot create the folder .*a_file/sub" $<TARGET_FILE:g2p_lstm>
    --out ${runs}/a_file/sub --limit 10)
endif()

if(TARGET g2p_transformer)
  tapegrad_expect_exit(g2p_transformer/quantize_without_evaluate_is_an_error 1
    "g2p_transformer: --quantize needs --evaluate or --predict" $<TARGET_FILE:g2p_transformer>
    --quantize ${runs}/int8.tg)
  tapegrad_expect_exit(g2p_transformer/int8_activations_need_quantize 1
    "--int8-activations requires --quantize" $<TARGET_FILE:g2p_transformer> --int8-activations)
  tapegrad_expect_exit(g2p_transformer/dev_words_negative_is_refused 1
    "g2p_transformer: --dev-words: expected a whole number from 0 to"
    $<TARGET_FILE:g2p_transformer> --dev-words -1)
  # A shape the model refuses is named before the data is read (here: a file that is not there).
  tapegrad_expect_exit(g2p_transformer/heads_must_divide_embed_before_loading 1
    "g2p_transformer: MultiHeadAttention: embed_dim 30 is not divisible by num_heads 4"
    $<TARGET_FILE:g2p_transformer> --embed 30 --heads 4 --data /nonexistent/cmudict.dict)
  tapegrad_expect_exit(g2p_transformer/lstm_flags_are_refused 1
    "g2p_transformer: --hidden: this model has no such setting .a flag of g2p_lstm."
    $<TARGET_FILE:g2p_transformer> --hidden 512)
  tapegrad_expect_exit(g2p_transformer/norm_is_pre_or_post 1
    "g2p_transformer: --norm: middle not in {pre,post}"
    $<TARGET_FILE:g2p_transformer> --norm middle)
  tapegrad_expect_exit(g2p_transformer/encoder_window_is_a_whole_number 1
    "g2p_transformer: --encoder-window: expected a whole number from 0 to 1000, got '-2'"
    $<TARGET_FILE:g2p_transformer> --encoder-window -2)
  tapegrad_expect_exit(g2p_transformer/beam_has_an_upper_bound 1
    "g2p_transformer: --beam: expected a whole number from 1 to 64"
    $<TARGET_FILE:g2p_transformer> --predict cat --beam 100000)
  # Distillation's flags (g2p_common/distillation.h).
  tapegrad_expect_exit(g2p_transformer/distill_alpha_needs_a_teacher 1
    "g2p_transformer: --distill-alpha requires --teacher" $<TARGET_FILE:g2p_transformer>
    --distill-alpha 0.5)
  tapegrad_expect_exit(g2p_transformer/distill_temperature_must_be_positive 1
    "g2p_transformer: --distill-temperature: expected a number > 0, got 0"
    $<TARGET_FILE:g2p_transformer> --teacher t.tg --distill-temperature 0)
  tapegrad_expect_exit(g2p_transformer/distill_alpha_is_a_weight 1
    "g2p_transformer: --distill-alpha: expected a number from 0 to 1, got '1.5'"
    $<TARGET_FILE:g2p_transformer> --teacher t.tg --distill-alpha 1.5)
  tapegrad_expect_exit(g2p_transformer/teacher_must_be_a_checkpoint 1
    "g2p_transformer: --teacher ${runs}/a_file: '${runs}/a_file': not a tapegrad checkpoint"
    $<TARGET_FILE:g2p_transformer> --teacher ${runs}/a_file --limit 300 --out ${runs}/distill)
  tapegrad_expect_exit(g2p_transformer/teacher_is_for_training 1
    "g2p_transformer: --teacher excludes --evaluate" $<TARGET_FILE:g2p_transformer> --evaluate
    --teacher t.tg)
endif()

if(TARGET spiral)
  tapegrad_expect_exit(spiral/infinite_lr_is_refused 1
    "spiral: --lr: expected a finite number, got inf" $<TARGET_FILE:spiral> --lr inf)
  tapegrad_expect_exit(spiral/diverging_loss_stops_with_the_step 1
    "spiral: step [0-9]+: the loss is (nan|inf|-nan); training stopped" $<TARGET_FILE:spiral>
    --lr 1e30 --out ${runs}/spiral)
  tapegrad_expect_exit(spiral/out_that_is_a_file_is_an_error 1
    "spiral: --out: cannot create the folder .*a_file: Not a directory" $<TARGET_FILE:spiral>
    --out ${runs}/a_file)
endif()

# The OpenMP wait policy the library chooses (framework/backend/cpu/wait_policy.cpp): without
# OMP_WAIT_POLICY or GOMP_SPINCOUNT, threads spin 1,000 turns, then sleep (libgomp, asked to
# show its settings, reports that spin count); with one of them set, the user's choice stands.
if(TARGET spiral)
  tapegrad_expect_exit(spiral/openmp_threads_spin_briefly_while_waiting 0 "GOMP_SPINCOUNT = '1000'"
    env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose $<TARGET_FILE:spiral> --help)
  tapegrad_expect_exit(spiral/openmp_wait_policy_of_the_user_stands 0 "GOMP_SPINCOUNT = '300000'"
    env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=300000 OMP_DISPLAY_ENV=verbose $<TARGET_FILE:spiral>
    --help)
endif()

if(TARGET g2p_heads)
  tapegrad_expect_exit(g2p_heads/missing_checkpoint_is_named 1
    "g2p_heads: load_checkpoint: cannot open '/nonexistent/model.tg': No such file"
    $<TARGET_FILE:g2p_heads> --checkpoint /nonexistent/model.tg --out ${runs}/heads)
  tapegrad_expect_exit(g2p_heads/every_zero_is_refused 1
    "g2p_heads: --every: expected a whole number from 1 to" $<TARGET_FILE:g2p_heads> --every 0)
endif()
