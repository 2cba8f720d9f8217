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

finished_at() { # finished_at FILE COMMAND...: runs COMMAND, writes when it ended to FILE; its status
  "${@:2}"
  local rc=$?
  date +%s >"$1"
  return $rc
}

# Build the controllers in the background, at a lower priority, while the tiers that need
# none of them run (lint, sanity, unit, terraform, molecule wait mostly on other things).
build_log="$CACHE/logs/build-controllers.log" build_pid="" build_rc=""
for tier in $tiers; do
  case " $CONTROLLER_TIERS " in *" $tier "*)
    mkdir -p "$(dirname "$build_log")"
    build_start=$(date +%s)
    finished_at "$build_log.end" nice -n 10 "$ROOT/scripts/build-go.sh" controllers >"$build_log" 2>&1 &
    build_pid=$!
    break ;;
  esac
done
controllers_built() { # waits for the background build once; its result
  if [ -z "$build_rc" ]; then
    echo "waiting for the controllers' build ($build_log)"
    wait "$build_pid"; build_rc=$?
    seconds[build]=$(( $(cat "$build_log.end") - build_start ))
    cat "$build_log"
  fi
  return "$build_rc"
}

record() { # record TIER RC START [END]
  seconds[$1]=$(( ${4:-$(date +%s)} - $3 ))
  if [ "$2" -eq 0 ]; then result[$1]=passed; passed=$((passed + 1))
  else result[$1]="FAILED (exit $2)"; failed=$((failed + 1)); fi
}

# The cloud tier runs beside the integration tier, at a lower priority: its local
# OpenStack and the integration tier's local clusters both wait on their services far
# more than they compute, and share the two cores well. Its output is printed whole
# once it ends, under its own header.
BESIDE=cloud BESIDE_OF=integration
beside_pid="" beside_log="$CACHE/logs/tier-$BESIDE.log"
case " $tiers " in *" $BESIDE "*) case " $tiers " in *" $BESIDE_OF "*) ;; *) BESIDE="" ;; esac ;; *) BESIDE="" ;; esac
beside_done() { # waits for the tier running beside, prints its output, records it
  [ -n "$beside_pid" ] || return 0
  wait "$beside_pid"; local rc=$?
  beside_pid=""
  printf '\n\033[1;34m########## tier: %s (ran beside %s) ##########\033[0m\n' "$BESIDE" "$BESIDE_OF"
  cat "$beside_log"
  record "$BESIDE" "$rc" "$beside_start" "$(cat "$beside_log.end")"
}

for tier in $tiers; do
  [ "$tier" = "$BESIDE" ] && continue
  if [ "$tier" = "$BESIDE_OF" ] && [ -n "$BESIDE" ]; then
    mkdir -p "$(dirname "$beside_log")"
    beside_start=$(date +%s)
    finished_at "$beside_log.end" nice -n 5 make --no-print-directory -C "$ROOT" "test-$BESIDE" >"$beside_log" 2>&1 &
    beside_pid=$!
    echo "the $BESIDE tier runs beside this one (its output when it ends: $beside_log)"
  fi
  printf '\n\033[1;34m########## tier: %s ##########\033[0m\n' "$tier"
  start=$(date +%s)
  case " $CONTROLLER_TIERS " in
    *" $tier "*) if controllers_built; then make --no-print-directory -C "$ROOT" "test-$tier"; rc=$?
                 else echo "the controllers' build failed (above)"; rc=1; fi ;;
    *) make --no-print-directory -C "$ROOT" "test-$tier"; rc=$? ;;
  esac
  record "$tier" "$rc" "$start"
  [ "$tier" = "$BESIDE_OF" ] && beside_done
done
beside_done
printf '\n\033[1m%-12s %-18s %s\033[0m\n' tier result seconds
if [ -n "$build_rc" ]; then
  printf '%-12s %-18s %s\n' "(build)" "$([ "$build_rc" -eq 0 ] && echo passed || echo "FAILED (exit $build_rc)")" \
    "${seconds[build]} (controllers, in the background)"
fi
for tier in $tiers; do
  note=""; [ "$tier" = "$BESIDE" ] && note=" (beside $BESIDE_OF)"
  printf '%-12s %-18s %s\n' "$tier" "${result[$tier]}" "${seconds[$tier]}$note"
done
echo "tiers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
