#!/bin/bash
# eno_fallback.sh on the divert backend (see run_with_divert.sh).
exec bash "$(dirname "$0")/run_with_divert.sh" integration/eno_fallback.sh
