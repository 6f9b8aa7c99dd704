# ENO codec unit tests (check_eno)
