#!/bin/bash
# eno_middlebox.sh on the divert backend (see run_with_divert.sh).
exec bash "$(dirname "$0")/run_with_divert.sh" integration/eno_middlebox.sh
