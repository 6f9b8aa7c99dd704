#!/bin/bash
# test_urgent.sh on the divert backend (see run_with_divert.sh).
exec bash "$(dirname "$0")/run_with_divert.sh" shim/test_urgent.sh
