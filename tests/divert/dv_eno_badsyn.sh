#!/bin/bash
# eno_badsyn.sh on the divert backend (see run_with_divert.sh).
exec bash "$(dirname "$0")/run_with_divert.sh" integration/eno_badsyn.sh
