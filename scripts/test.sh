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

# One job in the background at a lower priority, its output in $CACHE/logs/NAME.log;
# `await NAME` waits for it once, prints that output and sets seconds[NAME] to the job's
# own time (from its start to its end, not to when it was waited for).
declare -A job_pid job_start job_rc
background() { # background NAME NICENESS COMMAND...
  local log="$CACHE/logs/$1.log"
  mkdir -p "$CACHE/logs"
  job_start[$1]=$(date +%s)
  ( nice -n "$2" "${@:3}" >"$log" 2>&1; rc=$?; date +%s >"$log.end"; exit $rc ) &
  job_pid[$1]=$!
}
await() { # await NAME: the job's exit status
  local log="$CACHE/logs/$1.log"
  if [ -z "${job_rc[$1]:-}" ]; then
    wait "${job_pid[$1]}"; job_rc[$1]=$?
    seconds[$1]=$(( $(cat "$log.end") - job_start[$1] ))
    cat "$log"
  fi
  return "${job_rc[$1]}"
}
selected() { case " $tiers " in *" $1 "*) return 0 ;; esac; return 1; }

# Build the controllers while the tiers that need none of them run (lint, sanity, unit,
# terraform, molecule wait mostly on other things).
BUILD=build-controllers
for tier in $CONTROLLER_TIERS; do
  if selected "$tier"; then background "$BUILD" 10 "$ROOT/scripts/build-go.sh" controllers; break; fi
done

record() { # record TIER RC SECONDS
  seconds[$1]=$3
  if [ "$2" -eq 0 ]; then result[$1]=passed; passed=$((passed + 1))
  else result[$1]="FAILED (exit $2)"; failed=$((failed + 1)); fi
}

# The cloud tier runs beside the integration tier: its local OpenStack and the
# integration tier's local clusters both wait on their services far more than they
# compute, and share the two cores well. Its output is printed whole once it ends.
BESIDE=cloud BESIDE_OF=integration
selected "$BESIDE" && selected "$BESIDE_OF" || BESIDE=""

for tier in $tiers; do
  [ "$tier" = "$BESIDE" ] && continue
  if [ "$tier" = "$BESIDE_OF" ] && [ -n "$BESIDE" ]; then
    background "tier-$BESIDE" 5 make --no-print-directory -C "$ROOT" "test-$BESIDE"
    echo "the $BESIDE tier runs beside this one (its output when it ends: $CACHE/logs/tier-$BESIDE.log)"
  fi
  printf '\n\033[1;34m########## tier: %s ##########\033[0m\n' "$tier"
  start=$(date +%s)
  case " $CONTROLLER_TIERS " in
    *" $tier "*) echo "waiting for the controllers' build ($CACHE/logs/$BUILD.log)"
                 if await "$BUILD"; then make --no-print-directory -C "$ROOT" "test-$tier"; rc=$?
                 else echo "the controllers' build failed (above)"; rc=1; fi ;;
    *) make --no-print-directory -C "$ROOT" "test-$tier"; rc=$? ;;
  esac
  record "$tier" "$rc" $(( $(date +%s) - start ))
  if [ "$tier" = "$BESIDE_OF" ] && [ -n "$BESIDE" ]; then
    printf '\n\033[1;34m########## tier: %s (ran beside %s) ##########\033[0m\n' "$BESIDE" "$BESIDE_OF"
    await "tier-$BESIDE"; rc=$?
    record "$BESIDE" "$rc" "${seconds[tier-$BESIDE]}"
  fi
done
printf '\n\033[1m%-12s %-18s %s\033[0m\n' tier result seconds
if [ -n "${job_rc[$BUILD]:-}" ]; then
  printf '%-12s %-18s %s\n' "(build)" "$([ "${job_rc[$BUILD]}" -eq 0 ] && echo passed || echo "FAILED (exit ${job_rc[$BUILD]})")" \
    "${seconds[$BUILD]} (controllers, in the background)"
fi
for tier in $tiers; do
  note=""; [ "$tier" = "$BESIDE" ] && note=" (beside $BESIDE_OF)"
  printf '%-12s %-18s %s\n' "$tier" "${result[$tier]}" "${seconds[$tier]}$note"
done
echo "tiers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
