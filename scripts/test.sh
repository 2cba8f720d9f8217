#!/usr/bin/env bash
# Runs the test tiers (all by default, or those named) and prints one summary:
# each tier, its result and its time. Exits non-zero when any tier fails.
source "$(dirname "$0")/lib.sh"
set +e
ALL_TIERS="lint sanity unit terraform molecule integration contract fuzz rehearsal cloud"
tiers=${*:-$ALL_TIERS}
# The tiers that run the local cluster's controllers (ArgoCD, Argo Rollouts, the
# Prometheus Operator: the longest Go builds, cached by version).
CONTROLLER_TIERS="integration rehearsal"
declare -A result seconds
passed=0 failed=0
for tier in $tiers; do
  case " $ALL_TIERS " in *" $tier "*) ;; *) die "unknown tier '$tier' (tiers: $ALL_TIERS)" ;; esac
done

# Build the controllers in the background, at a lower priority, while the tiers that need
# none of them run (lint, sanity, unit, terraform, molecule wait mostly on other things).
build_log="$CACHE/logs/build-controllers.log" build_pid="" build_rc=""
for tier in $tiers; do
  case " $CONTROLLER_TIERS " in *" $tier "*)
    mkdir -p "$(dirname "$build_log")"
    build_start=$(date +%s)
    nice -n 10 "$ROOT/scripts/build-go.sh" controllers >"$build_log" 2>&1 &
    build_pid=$!
    break ;;
  esac
done
controllers_built() { # waits for the background build once; its result
  if [ -z "$build_rc" ]; then
    echo "waiting for the controllers' build ($build_log)"
    wait "$build_pid"; build_rc=$?
    seconds[build]=$(( $(date +%s) - build_start ))
    cat "$build_log"
  fi
  return "$build_rc"
}

for tier in $tiers; do
  printf '\n\033[1;34m########## tier: %s ##########\033[0m\n' "$tier"
  start=$(date +%s)
  case " $CONTROLLER_TIERS " in
    *" $tier "*) if controllers_built; then make --no-print-directory -C "$ROOT" "test-$tier"; rc=$?
                 else echo "the controllers' build failed (above)"; rc=1; fi ;;
    *) make --no-print-directory -C "$ROOT" "test-$tier"; rc=$? ;;
  esac
  seconds[$tier]=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then result[$tier]=passed; passed=$((passed + 1))
  else result[$tier]="FAILED (exit $rc)"; failed=$((failed + 1)); fi
done
printf '\n\033[1m%-12s %-18s %s\033[0m\n' tier result seconds
if [ -n "$build_rc" ]; then
  printf '%-12s %-18s %s\n' "(build)" "$([ "$build_rc" -eq 0 ] && echo passed || echo "FAILED (exit $build_rc)")" \
    "${seconds[build]} (controllers, in the background)"
fi
for tier in $tiers; do printf '%-12s %-18s %s\n' "$tier" "${result[$tier]}" "${seconds[$tier]}"; done
echo "tiers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
