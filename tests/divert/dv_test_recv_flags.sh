#!/bin/bash
# test_recv_flags.sh on the divert backend (see run_with_divert.sh).
exec bash "$(dirname "$0")/run_with_divert.sh" shim/test_recv_flags.sh
