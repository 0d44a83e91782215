#!/usr/bin/env bash
# Sets everything up and runs Madadkar's main job: a sync server on an embedded SQLite database
# with a demo group, workers and caseload; two field replicas that sync through it (shown with
# the `madadkar` CLI); then the desktop app, opened on Zahra's replica and connected to that
# server. Closing the app stops the server (set MADADKAR_DEMO_EXIT=1 to stop after the CLI part).
# Data goes to ./demo-data, made afresh.
#
# Then the reconciliation demo (docs/reconciliation.md): a second group whose worker Reza
# registered twelve of the same families with other spellings, two workers who set one phone
# differently, visits awaiting review, and the replicas of the group's supervisor (Maryam) and
# of the province's coordinator.
#
# Each replica's store is encrypted at rest (docs/security.md) with its worker's passphrase. The
# demo workers' passphrases are documented here and printed, since they guard demo data only:
#   zahra: zahra-demo-1403    ali: ali-demo-1403    reza: reza-demo-1403
#   maryam (supervisor): maryam-demo-1403    ostan (coordinator): ostan-demo-1403
# The desktop app opens on its lock screen: type the passphrase of the replica it opens, Zahra's
# unless MADADKAR_DEMO_AS=maryam (the supervisor's screens) or =ostan (the coordinator's).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
(cd ui && npx vite build --logLevel warn)
cargo build --locked --release -p madadkar-cli -p madadkar-server -p madadkar-desktop
bin="${CARGO_TARGET_DIR:-target}/release"
demo="${MADADKAR_DEMO_DIR:-$PWD/demo-data}"
port="${MADADKAR_DEMO_PORT:-8737}"
rm -rf "$demo"
mkdir -p "$demo"

declare -A passphrase=([zahra]="zahra-demo-1403" [ali]="ali-demo-1403" [reza]="reza-demo-1403"
  [maryam]="maryam-demo-1403" [ostan]="ostan-demo-1403")
server() { "$bin/madadkar-server" --data-dir "$demo/server" "$@"; }
# The CLI takes the store's passphrase from the environment, never from an argument.
field() {
  local who=$1; shift
  printf '\n\033[1m[%s] $ madadkar %s\033[0m\n' "$who" "$*"
  MADADKAR_PASSPHRASE="${passphrase[$who]}" "$bin/madadkar" --data-dir "$demo/$who" "$@"
}
json_field() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" | head -n 1; }

server group add jihadi-1 --name "گروه جهادی شهید همت" >/dev/null
server group add omid-2 --name "مرکز نیکوکاری امید" >/dev/null
# The committee's partner directory (banks, training centres, clinics): it reaches every laptop
# with the directory, and the demo caseload's referrals and plan steps name these codes.
server partner import scripts/demo-partners.json >/dev/null
zahra=$(server --json worker add "زهرا رضایی" --group jihadi-1 --role field | json_field id)
ali=$(server --json worker add "علی محمدی" --group jihadi-1 --role field | json_field id)
maryam=$(server --json worker add "مریم احمدی" --group jihadi-1 --role supervisor | json_field id)
reza=$(server --json worker add "رضا کاظمی" --group omid-2 --role field | json_field id)
ostan=$(server --json worker add "دفتر استان" --role coordinator | json_field id)

"$bin/madadkar-server" --data-dir "$demo/server" serve --listen "127.0.0.1:$port" > "$demo/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "listening on" "$demo/server.log" && break; sleep 0.1; done
url="http://127.0.0.1:$port"
echo "sync server: $url (log in $demo/server.log)"
echo "demo passphrases (each replica's store is encrypted with its worker's): zahra: ${passphrase[zahra]}, ali: ${passphrase[ali]}, reza: ${passphrase[reza]}, maryam (supervisor): ${passphrase[maryam]}, ostan (coordinator): ${passphrase[ostan]}"

field zahra init --worker "زهرا" --device "لپ‌تاپ زهرا"
field zahra enroll --server "$url" --code "$(server --json enroll-code "$zahra" | json_field code)"
field zahra demo --households 200 --allow-on-enrolled   # a demo server: its caseload is demo data
field zahra sync
listing=$(MADADKAR_PASSPHRASE="${passphrase[zahra]}" "$bin/madadkar" --data-dir "$demo/zahra" --json household list --limit 1)
first=$(echo "$listing" | json_field id)
# The head's name as an Arabic keyboard would type it (ي and ك): search still finds it.
arabic_name=$(echo "$listing" | json_field head_name | sed 's/ی/ي/g; s/ک/ك/g')
server household assign "$first" --group jihadi-1 >/dev/null
echo "(the supervisor shares household $first with the whole group)"

field ali init --worker "علی" --device "لپ‌تاپ علی"
field ali enroll --server "$url" --code "$(server --json enroll-code "$ali" | json_field code)"
field ali sync
field ali household search "$arabic_name"
field ali visit add "$first" --kind home --observations "بازدید پیگیری" --need income=2
field ali sync
field zahra sync
field zahra household show "$first"
field zahra followups --within 14
field zahra status
field zahra check

# Reconciliation: group omid-2 registered twelve of the same families, spelled differently.
field reza init --worker "رضا" --device "لپ‌تاپ رضا"
field reza enroll --server "$url" --code "$(server --json enroll-code "$reza" | json_field code)"
field reza demo --households 12 --spelling-variants --allow-on-enrolled
field reza sync
# Zahra and Ali set one household's phone differently, each offline: a conflict to resolve.
field zahra household edit "$first" --phone 09131112233
field ali household edit "$first" --phone 09134445566
field zahra sync
field ali sync
field maryam init --worker "مریم" --device "لپ‌تاپ سرپرست"
field maryam enroll --server "$url" --code "$(server --json enroll-code "$maryam" | json_field code)"
field maryam sync
field maryam conflicts
field maryam review list --limit 3
field maryam caseloads
field ostan init --worker "دفتر استان" --device "رایانهٔ دفتر استان"
field ostan enroll --server "$url" --code "$(server --json enroll-code "$ostan" | json_field code)"
field ostan sync
field ostan duplicates --band likely
# Case outcomes (docs/outcomes.md): where referrals stand per partner, and how needs moved.
field ostan report referral-funnel
field ostan report need-trend

printf '\nDemo data in %s. Try: MADADKAR_PASSPHRASE=%s %s/madadkar --data-dir %s/zahra household search كريمي\n' \
  "$demo" "${passphrase[zahra]}" "$bin" "$demo"
if [ "${MADADKAR_DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No display here: the sync server keeps running at $url; press Ctrl-C to stop it."
  wait $server_pid
  exit 0
fi
who="${MADADKAR_DEMO_AS:-zahra}"
echo "Opening the desktop app on $who's replica (close it to stop the server)."
echo "It opens locked: type the demo passphrase, ${passphrase[$who]}, to unlock it."
echo "(MADADKAR_DEMO_AS=maryam opens the supervisor's replica, =ostan the coordinator's.)"
MADADKAR_DATA_DIR="$demo/$who" "$bin/madadkar-desktop"
