#!/usr/bin/env bash
# Appends every public symbol the build reports as undeclared (RS0016) to this project's PublicAPI.Unshipped.txt.
exec "$(dirname "$0")/../SaltApi.Abstractions/update-public-api.sh" "$(dirname "$0")"
