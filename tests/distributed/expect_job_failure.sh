#!/bin/sh
# expect_job_failure.sh SECONDS MESSAGE COMMAND...: passes when COMMAND exits non-zero within
# SECONDS (a hang is a failure: exit 124 from timeout) and its output contains MESSAGE.
seconds=$1 message=$2
shift 2
output=$(timeout "$seconds" "$@" 2>&1)
status=$?
printf '%s\n' "$output"
if [ "$status" -eq 124 ]; then echo "FAIL: the job hung for ${seconds} s"; exit 1; fi
if [ "$status" -eq 0 ]; then echo "FAIL: the job exited 0"; exit 1; fi
case $output in
*"$message"*) echo "PASS: exit status $status with the rank's message"; exit 0 ;;
*) echo "FAIL: exit status $status, but no line contains: $message"; exit 1 ;;
esac
