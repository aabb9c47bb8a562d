#!/usr/bin/env bash
# Installs the Debian packages that `make test` needs and a fresh machine may lack, the way
# hack/build-k8s.sh builds the envtest binaries: each is checked with dpkg-query, and only the
# missing ones are installed (one `apt-get update`, then `apt-get install`), as root or through
# `sudo -n`. Prints nothing when all are there.
#
#   hack/test-deps.sh            check and install the packages below
#   hack/test-deps.sh --list     print them, one a line with what needs it
#
# SKIP_TEST_DEPS=1 skips the check, for a machine without apt where they were installed by other
# means. It fails, naming the packages, where it cannot install them: not root and no
# password-less sudo, or no dpkg-query and apt-get (not Debian or a derivative).
set -euo pipefail

# PACKAGES: each Debian package and what in `make test` needs it.
PACKAGES=(
  "python3-libtorrent|libtorrent's Python module for /usr/bin/python3: the interop tests (internal/metainfo, test/interop)"
  "aria2|aria2c 1.36, a stock v1-only client: the v1 twin's interop tests (test/interop)"
  "transmission-cli|Transmission 3.00's transmission-create and transmission-show: the v1 twin's interop tests (test/interop)"
  "transmission-daemon|Transmission 3.00's daemon and transmission-remote: the v1 twin's interop tests (test/interop)"
  "chromium|headless Chromium, /usr/bin/chromium: the dashboard's browser test (internal/dashboard)"
  "gcc|the C compiler of cgo, which go test -race needs"
  "libc6-dev|the C library headers of cgo, which go test -race needs"
  "ca-certificates|the certificates of HTTPS, with which go downloads modules from the Go module proxy"
)

say() { printf 'test-deps: %s\n' "$*" >&2; }

# describe prints each package of $@ and what needs it, indented, one a line.
describe() {
  local pkg
  for pkg in "$@"; do printf '  %-19s %s\n' "$pkg" "$(reason "$pkg")"; done
}

# missing prints the packages that dpkg-query does not report installed. Chromium is not
# needed where $CHROMIUM names an executable (the browser test runs that one).
missing() {
  local entry pkg
  for entry in "${PACKAGES[@]}"; do
    pkg=${entry%%|*}
    [[ $pkg == chromium && -n ${CHROMIUM:-} && -x ${CHROMIUM:-} ]] && continue
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) == installed ]] || echo "$pkg"
  done
}

# reason prints what needs package $1.
reason() {
  local entry
  for entry in "${PACKAGES[@]}"; do [[ ${entry%%|*} == "$1" ]] && echo "${entry#*|}"; done
}

# fail says why the packages $3... cannot be installed here and what to do instead ($2), and
# exits.
fail() {
  local why=$1 remedy=$2
  shift 2
  say "cannot install what make test needs: $why"
  {
    echo "missing:"
    describe "$@"
    echo "$remedy"
  } >&2
  exit 1
}

# as_root sets ROOT to the prefix that runs a command as root, or fails naming the packages $@.
as_root() {
  local remedy="Install them once as root, then run make test again:
  apt-get update && apt-get install -y --no-install-recommends $*"
  if [[ $(id -u) -eq 0 ]]; then
    ROOT=()
  elif ! command -v sudo >/dev/null; then
    fail "not root, and sudo is not installed" "$remedy" "$@"
  elif ! sudo -n true 2>/dev/null; then
    fail "not root, and sudo -n is refused (sudo wants a password, or this user may not use it)" "$remedy" "$@"
  else
    ROOT=(sudo -n)
  fi
}

# install runs apt-get update once, then installs the packages $@, its output shown only on
# failure.
install() {
  local status=0
  APT_LOG=$(mktemp)
  trap 'rm -f "$APT_LOG"' EXIT
  say "apt-get update"
  "${ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$APT_LOG" 2>&1 || status=$?
  if [[ $status -eq 0 ]]; then
    say "apt-get install $*"
    "${ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends -o DPkg::Lock::Timeout=300 "$@" >>"$APT_LOG" 2>&1 || status=$?
  fi
  if [[ $status -ne 0 ]]; then
    tail -n 30 "$APT_LOG" >&2
    say "apt-get failed (exit $status), output above"
    exit 1
  fi
}

main() {
  local entry all=()
  for entry in "${PACKAGES[@]}"; do all+=("${entry%%|*}"); done
  if [[ ${1:-} == --list ]]; then
    describe "${all[@]}"
    return
  fi
  if [[ -n ${SKIP_TEST_DEPS:-} ]]; then
    return
  fi
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    fail "no dpkg-query or apt-get here (not Debian or a derivative)" \
      "Install what each provides by other means, then run make test SKIP_TEST_DEPS=1 (the tests
need /usr/bin/python3 with libtorrent, and Chromium at /usr/bin/chromium or \$CHROMIUM)." "${all[@]}"
  fi
  local need start=$SECONDS
  mapfile -t need < <(missing)
  [[ ${#need[@]} -eq 0 ]] && return
  as_root "${need[@]}"
  say "installing the Debian packages that make test needs and this machine lacks:"
  describe "${need[@]}" >&2
  install "${need[@]}"
  mapfile -t need < <(missing)
  if [[ ${#need[@]} -ne 0 ]]; then
    say "apt-get succeeded but these are still not installed: ${need[*]}"
    exit 1
  fi
  say "installed in $((SECONDS - start)) s"
}

main "$@"
