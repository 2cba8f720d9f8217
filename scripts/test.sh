#!/usr/bin/env bash
# Runs the test tiers (all by default, or those named) and prints one summary:
# each tier, its result and its time. Exits non-zero when any tier fails.
source "$(dirname "$0")/lib.sh"
set +e
ALL_TIERS="lint sanity unit terraform molecule integration contract fuzz rehearsal cloud"
tiers=${*:-$ALL_TIERS}
declare -A result seconds
passed=0 failed=0
for tier in $tiers; do
  case " $ALL_TIERS " in *" $tier "*) ;; *) die "unknown tier '$tier' (tiers: $ALL_TIERS)" ;; esac
  printf '\n\033[1;34m########## tier: %s ##########\033[0m\n' "$tier"
  start=$(date +%s)
  make --no-print-directory -C "$ROOT" "test-$tier"
  rc=$?
  seconds[$tier]=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then result[$tier]=passed; passed=$((passed + 1))
  else result[$tier]="FAILED (exit $rc)"; failed=$((failed + 1)); fi
done
printf '\n\033[1m%-12s %-18s %s\033[0m\n' tier result seconds
for tier in $tiers; do printf '%-12s %-18s %s\n' "$tier" "${result[$tier]}" "${seconds[$tier]}"; done
echo "tiers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
