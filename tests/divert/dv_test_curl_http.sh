#!/bin/bash
# test_curl_http.sh on the divert backend (see run_with_divert.sh): the
# shim reports its session to tcpcryptd, and tcnetstat lists it.
exec bash "$(dirname "$0")/run_with_divert.sh" shim/test_curl_http.sh
