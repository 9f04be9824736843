# Sourced before every runnable block of the docs (test/docs/runnable-docs.test.ts): `npx winback`
# and `npm start` run this checkout; curl prints each status and exports the ids it answered with.
set -o pipefail
npx() { if [ "$1" = winback ]; then shift; node "$ROOT/bin/winback.js" "$@"; else command npx "$@"; fi; }
npm() {
  if [ "$1" = start ]; then shift; [ "$1" = "--" ] && shift; node "$ROOT/bin/winback.js" demo "$@";
  else command npm "$@"; fi
}
curl() {
  local out rc
  out=$(command curl -w '\n@@status %{http_code}@@' "$@"); rc=$?
  printf '%s\n' "$out"
  local body="${out%$'\n'@@status*}"
  for pair in recallId:RECALL_ID jobId:JOB_ID nextToken:NEXT_TOKEN; do
    local v
    v=$(printf '%s' "$body" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const v=JSON.parse(s)[process.argv[1]];if(typeof v==="string")process.stdout.write(v)}catch{}})' "${pair%%:*}")
    if [ -n "$v" ]; then export "${pair##*:}=$v"; fi
  done
  return $rc
}
