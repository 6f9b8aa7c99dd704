#!/bin/bash
# test_nginx_late.sh on the divert backend (see run_with_divert.sh).
exec bash "$(dirname "$0")/run_with_divert.sh" apps/test_nginx_late.sh
