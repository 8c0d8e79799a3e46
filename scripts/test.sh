#!/usr/bin/env bash
# Runs the whole test suite: installs the packages it needs, starts the real services the tests
# talk to (PostgreSQL, etcd, Samba) on loopback, runs `swift test`, and stops the services again.
# Under CI=true a test whose service is missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build services clients tftp dhcp dns vm
trap 'scripts/services.sh stop all >/dev/null 2>&1 || true' EXIT
scripts/services.sh start postgres etcd samba
set -a
# shellcheck disable=SC1091
source "${PROVISION_SERVICES_DIR:-.services}/env"
set +a
swift build --build-tests
scripts/test-run.sh "$@"
# A short fuzz run of the TFTP packet round trip (the 10-minute run is recorded in docs/PERFORMANCE.md).
scripts/fuzz.sh tftp "${FUZZ_SECONDS:-30}"
# The same for the DHCP and DNS message round trips and responders.
scripts/fuzz.sh dhcp "${FUZZ_SECONDS:-30}"
scripts/fuzz.sh dns "${FUZZ_SECONDS:-30}"
