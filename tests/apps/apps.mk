# real applications under tcpcrypt-run (issue 5)
