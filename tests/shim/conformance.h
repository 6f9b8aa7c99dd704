/*
 * conformance.h - shared declarations of the socket conformance program.
 *
 * The program is an ordinary application: plain socket API plus
 * <tcpcrypt/tcpcrypt.h>. It must pass identically without the shim (plain
 * TCP) and under tcpcrypt-run (encrypted). See conformance.c.
 */
#ifndef CONFORMANCE_H
#define CONFORMANCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum conf_expect {
	EXPECT_ANY,   /* print the session ID, check nothing */
	EXPECT_NONE,  /* no shim: TCP_CRYPT_* options fail with ENOPROTOOPT */
	EXPECT_PLAIN, /* shim, not negotiated: TCP_CRYPT_SESSID gives ENOTCONN */
	EXPECT_CRYPT, /* shim, negotiated: 33-byte session ID starting 0x23 */
};

struct conf_ctx {
	int fd;                 /* the connection (-1 before a custom connect) */
	int server;             /* 1 on the server side */
	const char *host;       /* client: server host */
	const char *port;       /* client: server port */
	const char *name;       /* the case */
	const char *marker;     /* the echo case's payload */
	enum conf_expect expect;
	uint8_t sessid[64];     /* session ID read after the case header */
	size_t sessid_len;
	int sessid_errno;       /* 0 when sessid holds one */
	int enable_errno;       /* CONF_NOENC: errno of the setsockopt, or 0 */
};

typedef int (*conf_fn)(struct conf_ctx *);

struct conf_case {
	const char *name;
	conf_fn client;
	conf_fn server;
	int custom_connect;     /* client connects itself (conf_connect) */
};

/* Failure message of the current case (per thread); conf_fail() sets it
 * and returns -1. */
extern __thread char conf_errmsg[512];
int conf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, appending ": strerror (ENAME)" of errno. */
int conf_fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *conf_errname(int err);

#define CHECK(cond, ...) do { if (!(cond)) return conf_fail(__VA_ARGS__); } while (0)
#define CHECK_ERRNO(cond, ...) do { if (!(cond)) return conf_fail_errno(__VA_ARGS__); } while (0)

/* Pattern byte i of stream seed. */
uint8_t conf_pat(uint32_t seed, uint64_t i);
void conf_fill(uint8_t *buf, size_t n, uint32_t seed, uint64_t off);
/* Index of the first byte that differs from the pattern, or -1. */
ssize_t conf_mismatch(const uint8_t *buf, size_t n, uint32_t seed, uint64_t off);

/* Blocking helpers (poll on non-blocking sockets), with EINTR retries. */
int conf_write_all(int fd, const void *buf, size_t n);
int conf_read_exact(int fd, void *buf, size_t n);   /* EOF before n is a failure */
int conf_send_pat(int fd, uint32_t seed, uint64_t off, size_t n);
int conf_recv_pat(int fd, uint32_t seed, uint64_t off, size_t n);
int conf_expect_eof(int fd);
int conf_drain_eof(int fd);   /* reads and discards until EOF */
int conf_wait_fd(int fd, short events, int timeout_ms); /* 1 ready, 0 timeout, -1 error */
int64_t conf_now_ms(void);
/* Returns x, opaquely to the compiler (another translation unit): lengths
 * passed through it make _FORTIFY_SOURCE call the __*_chk variants. */
size_t conf_opaque(size_t x);
void conf_msleep(int ms);
int conf_set_nonblock(int fd, int on);

/* Client: a new connection to host:port (port + delta), optionally
 * non-blocking (CONF_NONBLOCK). */
#define CONF_NONBLOCK 1  /* connect() without waiting */
#define CONF_NOENC    2  /* setsockopt TCP_CRYPT_ENABLE 0 first (errno in c->enable_errno) */
int conf_connect_raw(struct conf_ctx *c, int port_delta, int flags, int *err);
/* Client: sends the case header and waits for the server's answer, then
 * reads the session ID into c. Used by custom-connect cases. */
int conf_handshake(struct conf_ctx *c);
/* Checks c's session ID against the expectation. */
int conf_check_sessid(struct conf_ctx *c, enum conf_expect want);
/* Reads the session ID of fd (errno into *err on failure). */
int conf_get_sessid(int fd, uint8_t *buf, size_t *len, int *err);

/* Cases, by file. */
extern const struct conf_case conf_cases_rw[];
extern const struct conf_case conf_cases_flags[];
extern const struct conf_case conf_cases_ready[];
extern const struct conf_case conf_cases_tamper[];
extern const struct conf_case conf_cases_nbrw[];

#endif
