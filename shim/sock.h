/*
 * sock.h - the glue between a TCP socket and its tcpcrypt session: opt-in,
 * the ENO outcome, the Init exchange, the seal/open loops and the buffers.
 *
 * Per process, a struct tc_sock belongs to one open file description (all
 * fds dup'd from it share it). The connection state itself lives in a
 * struct tc_shm in MAP_SHARED anonymous memory, so that after fork() parent
 * and child share the stream offsets, the buffers and the session, under
 * process-shared locks: rx_lock for the receive side, tx_lock for the send
 * side, sess_lock only around engine calls. Lock order: rx, tx, sess.
 *
 * Every function returns >= 0 or a negative errno.
 *
 * The functions live in the sock_*.c files, one job each (which one where,
 * and the layers the shim's files form: shim/README.md); their shared
 * internals are in sock_int.h.
 */
#ifndef TC_SHIM_SOCK_H
#define TC_SHIM_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "session.h"

/* Per-socket choices the application may make before connect()/listen(). */
struct tc_prefs {
	uint8_t enable;          /* 0: TCP_CRYPT_ENABLE=0, plain TCP */
	uint8_t app_aware;       /* 0, 1, 2 (mandatory) */
	uint8_t passive;         /* b bit of an active opener */
	uint8_t naeads;
	uint16_t aeads[TC_MAX_AEADS];
};

enum tc_kind {
	TC_K_PREFS = 1,          /* a TCP socket with preferences, not yet connected/listening */
	TC_K_LISTEN,             /* an opted-in listener */
	TC_K_CONN,               /* a connection with a tc_shm */
};

enum tc_state {
	TC_ST_OPENING = 1,       /* set up, the real connect()/accept() not yet done */
	TC_ST_CONNECTING,        /* non-blocking connect in progress */
	TC_ST_HANDSHAKE,         /* ENO negotiated, Init exchange going on */
	TC_ST_READY,             /* keys set */
	TC_ST_FAILED,            /* aborted; error says why */
	TC_ST_PLAIN,             /* not negotiated: plain TCP, pass everything through */
};

struct tc_shm;

/* Returned by the data functions when the socket is plain TCP: the
 * wrapper calls the real function. */
#define TC_PASS (-100000)

struct tc_chunk;

struct tc_sock {
	int refs;                /* under tc_fd_lock: fds + borrowers */
	int nfds;                /* fds of this process in the table */
	int kind;
	int opted_in;            /* the kernel took our ENO offer */
	/* TC_K_LISTEN only (renew.c) */
	long long renew_ms;      /* next look at the listener's opt-in (monotonic ms) */
	uint64_t divert_id;      /* opted in through this divert daemon (0: eBPF or none) */
	int renew_said;          /* the "stays plain on this kernel" line was logged */
	unsigned mark;           /* scratch for table walks */
	struct tc_prefs prefs;
	struct tc_shm *shm;      /* TC_K_CONN only */
	tc_aead_ctx tx_cx, rx_cx; /* this process's cipher contexts (under sess_lock) */
	int ep_fd[2];            /* epoll registrations of this socket (epoll.c) */
	uint64_t ep_data[2];
	int ep_sfd[2];           /* the fd each was made through */
	uint32_t ep_events[2];   /* and its events (EPOLLET, EPOLLONESHOT...) */
	int nep;
	int ep_lost;             /* more registrations than the list holds */
	int sealed;              /* this process saw the connection negotiated (atomic):
	                          * from then on the region cannot make it plain */
	int guard;               /* what this process learnt of the kernel's guard
	                          * on the connection (TC_GUARD_*, guard.h) */
	long closing;            /* close() returned, the end goes on in the background
	                          * until this deadline (monotonic ms; close_later.h) */
	struct tc_chunk *chunk;  /* the chunk that holds the region (sock_chunk.c), or
	                          * NULL: a mapping of its own */
	int counted;             /* the region counts in tc_live_regions */
	int was_shared;          /* the region was ever shared with another process
	                          * (fork, exec handover): never pooled, whatever
	                          * the region's own flag says (atomic) */
	/* the progress thread's registration (progress.h; under the progress
	 * lock): the fd it was made through (-1: none), its tag, events and
	 * the epoll set's number then */
	int pg_fd;
	uint32_t pg_tag, pg_events;
	unsigned pg_epoch;
};

/* Global start-up (constructor). */
void tc_sock_global_init(void);

/* Allocation. */
struct tc_sock *tc_sock_new(int kind, const struct tc_prefs *prefs);
void tc_sock_free(struct tc_sock *s);
void tc_prefs_default(struct tc_prefs *p);
/* 1 if fd is an AF_INET/AF_INET6 SOCK_STREAM TCP socket. */
int tc_is_tcp_socket(int fd);
/* 1 if O_NONBLOCK is set on fd. */
int tc_fd_nonblocking(int fd);
/* Set (never cleared) once the process entered a seccomp sandbox (see
 * sandbox.c): the data path then uses only read, write, poll, shutdown. */
extern int tc_sandboxed;
/* The application set or cleared O_NONBLOCK (fcntl F_SETFL, FIONBIO). */
void tc_sock_note_nonblock(struct tc_sock *s, int on);
/* Before a sandbox: records what the data path will no longer be able to
 * ask the kernel (O_NONBLOCK) and sets a low-water mark of 1. */
void tc_sock_sandbox(struct tc_sock *s, int fd);

/* Opt-in: sends our ENO offer for fd (listener != 0 for listen()).
 * Returns 0, or -ENOPROTOOPT when no tcpcryptd serves this host. */
int tc_sock_opt_in(int fd, const struct tc_prefs *p, int listener);
/* The same; *via_divert is set to 1 when tcpcryptd's divert backend took
 * the offer (over its control socket), 0 otherwise. */
int tc_sock_opt_in_via(int fd, const struct tc_prefs *p, int listener, int *via_divert);

/* After connect() (blocking: returned 0) or accept(): reads the ENO result,
 * creates the session (role from the outcome), and for a blocking connect
 * runs the whole Init exchange. s must be a TC_K_CONN with a shm. */
int tc_sock_start(struct tc_sock *s, int fd, int blocking);
/* Makes the shm for a connection object. */
int tc_sock_make_conn(struct tc_sock *s, int state);
/* For TC_ST_CONNECTING: finishes the connect if the kernel says it did.
 * Returns 0 (done or still pending: see state), or -errno. */
int tc_sock_check_connect(struct tc_sock *s, int fd);
int tc_sock_state(struct tc_sock *s);
/* The connection will not be encrypted: pass everything through. */
void tc_sock_set_plain(struct tc_sock *s);
/* The real connect() is under way (EINPROGRESS): from now on the
 * progress thread and the data calls may complete it. */
void tc_sock_set_connecting(struct tc_sock *s);
/* The error of a failed connection (positive errno). */
int tc_sock_error(const struct tc_sock *s);
/* Reads and clears the pending SO_ERROR report (0 if none). */
int tc_sock_take_so_error(struct tc_sock *s);

/* Data. iov/iovcnt describe the application's buffers. */
ssize_t tc_sock_recv(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, int flags);
ssize_t tc_sock_send(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, int flags);
/* Plaintext bytes available without blocking (FIONREAD). */
int tc_sock_available(struct tc_sock *s, int fd);
/* SIOCATMARK: 1 when the next byte read is at the urgent mark, 0 if not,
 * TC_PASS on a connection that is not encrypted. */
int tc_sock_atmark(struct tc_sock *s, int fd);
/* SO_OOBINLINE as the application sees it: set from *val, or read into
 * *val; until the connection negotiated, the kernel's, serialised with the
 * negotiation. 0, -errno, or TC_PASS (no region yet). */
int tc_sock_oobinline(struct tc_sock *s, int fd, int set, int *val);
/* shutdown(): FINp then the real shutdown for SHUT_WR. */
int tc_sock_shutdown(struct tc_sock *s, int fd, int how);
/* The last fd of the socket in the last process is closing: its end is
 * the frames still queued, then FINp, within TC_CLOSE_WAIT_MS
 * (tc_sock_close_deadline, monotonic ms). tc_sock_end_try begins it and
 * goes as far as it can without waiting: 1 while work is left (close()
 * then leaves it to the progress thread, close_later.h);
 * tc_sock_final_close_by waits for it until deadline (exit gives all its
 * connections one). */
long tc_sock_close_deadline(void);
/* An abortive close (SO_LINGER {1, 0}) of a connection whose key exchange
 * goes on, with bytes the application wrote before the keys: 1 when those
 * bytes should still leave before the reset (over plain TCP they left at
 * send(); here they wait for the keys). Then sets TCP_NODELAY, so that
 * they leave at once when sealed, and the progress thread resets the
 * connection once they are out (close_later.c). */
int tc_sock_abort_later(struct tc_sock *s, int fd);
int tc_sock_end_try(struct tc_sock *s, int fd, long deadline);
void tc_sock_final_close_by(struct tc_sock *s, int fd, long deadline);
/* Frees this process's copy of s without ending the session (a fork
 * child dropping what its parent still works on). */
void tc_sock_free_local(struct tc_sock *s);
/* Process references on the shared state (fork, exec). */
void tc_sock_proc_ref(struct tc_sock *s, int delta);
int tc_sock_proc_unref(struct tc_sock *s);

/* For the poll/epoll wrappers, on a POLLIN the kernel reported: 1 when
 * it carries no application data (only Init messages, which this call
 * consumes, or the start of the first frame), so the wrapper hides it. */
int tc_sock_hide_pollin(struct tc_sock *s, int fd);

/* The progress thread's work on one socket: returns the poll events it
 * waits for (0: nothing to do), and does what it can without blocking. */
short tc_sock_progress_events(struct tc_sock *s);
void tc_sock_progress(struct tc_sock *s, int fd);

/* Waits (at most ms) until the keys are set, driving a pending connect
 * and the Init exchange: the session ID may be asked for right after
 * connect()/accept(). Returns 0 when ready, -ENOTCONN or -ETIMEDOUT. */
int tc_sock_wait_ready(struct tc_sock *s, int fd, int ms);

/* exec handover (exec.c): an fd (not close-on-exec) with a READY
 * connection's state for the next image: its shared memory itself when
 * /proc/self/map_files allows (*shared = 1: the holders keep sharing it),
 * else, if this process is its only holder, a copy in a new memfd, the
 * original marked failed (undo puts it back if the exec fails). Returns
 * the fd or -errno (-EAGAIN: not READY; -EBUSY: shared, no map_files). */
int tc_sock_export(struct tc_sock *s, int *shared);
void tc_sock_export_undo(struct tc_sock *s);
/* The new image: maps an exported state; *out has no fd yet. */
int tc_sock_adopt(int memfd, struct tc_sock **out);
/* A socket whose state is lost: reset it (RST), never pass ciphertext. */
void tc_sock_abort_fd(int fd, const char *why);

/* Information for getsockopt. */
int tc_sock_sessid(struct tc_sock *s, uint8_t *buf, size_t cap);
int tc_sock_info(struct tc_sock *s, int *role, int *aead, int *peer_app);

/* Sets libcrypto up now, with no lock of the shim held (see sock_start.c):
 * before any socket opts in or any session is adopted. */
void tc_crypto_warm(void);

#endif
