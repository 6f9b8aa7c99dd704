/*
 * epoll.h - the fork handlers of epoll.c's registration table: its lock is
 * held across fork() so that a child never inherits it held by a thread
 * that does not exist in the child (a deadlock in its next epoll_ctl);
 * and the removal of a closed connection from the epoll sets.
 */
#ifndef TC_SHIM_EPOLL_H
#define TC_SHIM_EPOLL_H

void tc_epoll_atfork_prepare(void);
void tc_epoll_atfork_parent(void);
void tc_epoll_atfork_child(void);

struct tc_sock;
/* The application closes fd, the last of s in this process, and the shim
 * keeps a private copy of the socket for its end (close_later.h): the
 * kernel would keep the socket in the application's epoll sets too, so the
 * registrations are removed as the real close would remove them. 0, or -1
 * when one of them cannot be (not made through fd, or not all known): the
 * close must not keep a copy then. */
int tc_epoll_forget(struct tc_sock *s, int fd);

#endif
