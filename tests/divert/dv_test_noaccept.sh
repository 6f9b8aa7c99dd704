#!/bin/bash
# test_noaccept.sh on the divert backend (see run_with_divert.sh).
exec bash "$(dirname "$0")/run_with_divert.sh" shim/test_noaccept.sh
