#!/usr/bin/env bash
# Runs the appliance on its embedded default (one SQLite file under /var/lib/provision):
# installs the system libraries it links against, builds it in release mode, then serves
# with appliance/appliance.yaml until Ctrl-C. Extra arguments go to `provision serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
swift build -c release --product provision
exec .build/release/provision serve --config "${PROVISION_CONFIG:-appliance/appliance.yaml}" "$@"
