/*
 * check_shim.c - the shim's core driven through its wrappers without root,
 * network namespaces or tcpcryptd: two sockets of this process over
 * 127.0.0.1, with an ENO outcome from fake_eno.c. Proves the settings'
 * effect at run time, libtcpcrypt's application API, the TCP_CRYPT_*
 * socket options, the refusals (SCM_RIGHTS, splice), that the bytes the
 * kernel carries are not the clear text, and signal handlers (signals.c,
 * signals_fd.c).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fake_eno.h"
#include "frame.h"
#include "pair.h"
#include "session.h"
#include "shim.h"
#include "signals.h"
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt/tcpcrypt.h"

static const char secret[] = "attack at dawn: the tcpcrypt clear text that must not be on the wire";

static const char *const settings[] = {
	"TCPCRYPT_PORTS", "TCPCRYPT_EXCLUDE_PORTS", "TCPCRYPT_AEAD", "TCPCRYPT_APP_AWARE",
	"TCPCRYPT_DISABLE", "TCPCRYPT_REKEY_BYTES", "TCPCRYPT_REQUIRE",
};

/* Every test starts with the default settings and a negotiating source. */
static void setup(void)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		unsetenv(settings[i]);
	settings_reload();
	fake_eno_install(FAKE_NEGOTIATE);
}

static int get_int(int fd, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (tcpcrypt_getsockopt(fd, name, &v, &l) < 0)
		return -errno - 1000;
	return v;
}

static void set_int(int fd, int name, int v)
{
	ck_assert_int_eq(tcpcrypt_setsockopt(fd, name, &v, sizeof(v)), 0);
}

/* Sends the secret from a to b; asserts what the kernel holds for b
 * (encrypted: not the clear text, and longer by the frame overhead; plain:
 * the clear text itself) and that b reads the secret through the shim. */
static void check_carried(int a, int b, int encrypted)
{
	uint8_t raw[4096], got[sizeof(secret)];
	size_t n;

	ck_assert_int_eq(send_all(a, secret, sizeof(secret)), 0);
	n = raw_peek(b, raw, sizeof(raw), sizeof(secret) + (encrypted ? TC_FRAME_OVERHEAD : 0));
	ck_assert_uint_ge(n, sizeof(secret));
	if (encrypted) {
		ck_assert_msg(!contains(raw, n, secret, 16), "clear text on the wire");
		ck_assert_uint_eq(n, sizeof(secret) + TC_FRAME_OVERHEAD);
		ck_assert_uint_eq(tc_frame_len(raw), n);
	} else {
		ck_assert_msg(contains(raw, n, secret, sizeof(secret)), "plain TCP carries the clear text");
	}
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(recv_all(b, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, secret, sizeof(secret));
}

static void check_encrypted_pair(int c, int s)
{
	ck_assert_int_eq(get_int(c, TCP_CRYPT_ENABLE), 1);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_ENABLE), 1);
	check_carried(c, s, 1);
	check_carried(s, c, 1);
}

static void check_plain_pair(int c, int s)
{
	ck_assert_int_eq(get_int(c, TCP_CRYPT_ENABLE), 0);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_ENABLE), 0);
	check_carried(c, s, 0);
	check_carried(s, c, 0);
}

/* ---- the injected ENO outcome ---- */

START_TEST(test_negotiated_is_encrypted)
{
	int c, s;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(fake_eno_opt_ins(), 2);          /* listener and connector */
	check_encrypted_pair(c, s);
	ck_assert_int_eq(fake_eno_reports(), 2);          /* keys set on both ends */
	close(c);
	close(s);
}
END_TEST

START_TEST(test_plain_outcome_passes_through)
{
	int c, s;

	fake_eno_install(FAKE_PLAIN);
	ck_assert_int_eq(pair_open(&c, &s), 0);
	check_plain_pair(c, s);
	ck_assert_int_eq(fake_eno_reports(), 0);
	close(c);
	close(s);
}
END_TEST

START_TEST(test_no_backend_is_plain)
{
	int c, s;

	fake_eno_install(FAKE_ABSENT);
	ck_assert_int_eq(pair_open(&c, &s), 0);
	check_plain_pair(c, s);
	close(c);
	close(s);
}
END_TEST

START_TEST(test_require_refuses_plain)
{
	int port, lfd = bound_socket(&port), c, s;

	fake_eno_install(FAKE_PLAIN);
	setenv("TCPCRYPT_REQUIRE", "1", 1);
	settings_reload();
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(pair_connect(lfd, port, &c, &s), -1);
	close(lfd);
}
END_TEST

/* The connector's result contradicts the rules (role B with the options
 * of an A): the shim aborts rather than start a session on it. (Nobody
 * accepts: the server's side would race with the reset.) */
START_TEST(test_contradicting_result_aborts)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int port, lfd = bound_socket(&port), c;

	fake_eno_install(FAKE_WRONG_ROLE);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	c = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(send(c, "x", 1, MSG_NOSIGNAL), -1);   /* and it stays failed */
	ck_assert_int_eq(get_int(c, TCP_CRYPT_ENABLE), 0);
	close(c);
	close(lfd);
}
END_TEST

/* ---- settings ---- */

START_TEST(test_ports)
{
	char v[32];
	int port, lfd = bound_socket(&port), c, s;

	ck_assert_int_ge(lfd, 0);
	snprintf(v, sizeof(v), "%d", port == 65535 ? port - 1 : port + 1);
	setenv("TCPCRYPT_PORTS", v, 1);          /* not this port: plain */
	settings_reload();
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(pair_connect(lfd, port, &c, &s), 0);
	ck_assert_int_eq(fake_eno_opt_ins(), 0);
	check_plain_pair(c, s);
	close(c);
	close(s);
	close(lfd);

	lfd = bound_socket(&port);
	ck_assert_int_ge(lfd, 0);
	snprintf(v, sizeof(v), "1-2,%d", port);  /* this port: encrypted */
	setenv("TCPCRYPT_PORTS", v, 1);
	settings_reload();
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(pair_connect(lfd, port, &c, &s), 0);
	ck_assert_int_eq(fake_eno_opt_ins(), 2);
	check_encrypted_pair(c, s);
	close(c);
	close(s);
	close(lfd);
}
END_TEST

START_TEST(test_exclude_ports)
{
	char v[32];
	int port, lfd = bound_socket(&port), c, s;

	ck_assert_int_ge(lfd, 0);
	snprintf(v, sizeof(v), "%d-%d", port, port);   /* this port excluded: plain */
	setenv("TCPCRYPT_EXCLUDE_PORTS", v, 1);
	settings_reload();
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(pair_connect(lfd, port, &c, &s), 0);
	ck_assert_int_eq(fake_eno_opt_ins(), 0);
	check_plain_pair(c, s);
	close(c);
	close(s);
	close(lfd);

	lfd = bound_socket(&port);
	ck_assert_int_ge(lfd, 0);
	snprintf(v, sizeof(v), "%d", port == 1 ? 2 : port - 1);  /* another one: encrypted */
	setenv("TCPCRYPT_EXCLUDE_PORTS", v, 1);
	settings_reload();
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(pair_connect(lfd, port, &c, &s), 0);
	check_encrypted_pair(c, s);
	close(c);
	close(s);
	close(lfd);
}
END_TEST

static const char *aead_setting(uint16_t id)
{
	switch (id) {
	case TCPCRYPT_AEAD_AES_128_GCM:
		return "aes128gcm";
	case TCPCRYPT_AEAD_AES_256_GCM:
		return "aes256gcm";
	default:
		return "chacha20poly1305";
	}
}

START_TEST(test_aead)
{
	uint16_t def[8], list[8];
	socklen_t l = sizeof(list);
	int c, s;
	size_t n = tc_aead_default_list(def, 8);

	/* default: the first of the default list */
	ck_assert_uint_ge(n, 2);   /* this host's libcrypto/libsodium offer several */
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_AEAD), def[0]);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_AEAD), def[0]);
	close(c);
	close(s);

	/* TCPCRYPT_AEAD: the last one of the default list instead */
	setenv("TCPCRYPT_AEAD", aead_setting(def[n - 1]), 1);
	settings_reload();
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_AEAD), def[n - 1]);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_AEAD), def[n - 1]);
	ck_assert_int_eq(tcpcrypt_getsockopt(c, TCP_CRYPT_AEAD_LIST, list, &l), 0);
	ck_assert_uint_eq(l, sizeof(uint16_t));
	ck_assert_uint_eq(list[0], def[n - 1]);
	check_encrypted_pair(c, s);
	close(c);
	close(s);
}
END_TEST

START_TEST(test_app_aware)
{
	int c, s, port, lfd;

	/* default: neither end sends a=1 */
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_PEER_APP_AWARE), 0);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_PEER_APP_AWARE), 0);
	close(c);
	close(s);

	setenv("TCPCRYPT_APP_AWARE", "1", 1);
	settings_reload();
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_APP_AWARE), 1);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_PEER_APP_AWARE), 1);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_PEER_APP_AWARE), 1);
	check_encrypted_pair(c, s);
	close(c);
	close(s);

	/* mandatory on the listener, a=0 on the connector: ENO fails, plain */
	setenv("TCPCRYPT_APP_AWARE", "mandatory", 1);
	settings_reload();
	lfd = bound_socket(&port);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(get_int(lfd, TCP_CRYPT_APP_AWARE), 2);
	setenv("TCPCRYPT_APP_AWARE", "0", 1);
	settings_reload();
	ck_assert_int_eq(pair_connect(lfd, port, &c, &s), 0);
	check_plain_pair(c, s);
	close(c);
	close(s);
	close(lfd);
}
END_TEST

START_TEST(test_disable)
{
	uint8_t id[TCPCRYPT_SESSID_MAX];
	size_t len = sizeof(id);
	int c, s;

	setenv("TCPCRYPT_DISABLE", "1", 1);
	settings_reload();
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(fake_eno_opt_ins(), 0);
	/* the shim stands aside: even its socket options are the kernel's */
	ck_assert_int_eq(tcpcrypt_getsessid(c, id, &len), -1);
	ck_assert_int_eq(errno, ENOPROTOOPT);
	check_carried(c, s, 0);
	check_carried(s, c, 0);
	close(c);
	close(s);
}
END_TEST

/* Sends 32 KiB in 1 KiB writes from a to b and counts the frames with the
 * rekey bit in what the kernel holds for b (the control byte of a frame
 * is sent in clear); b then reads the data back intact. */
static int rekey_frames(int a, int b)
{
	static uint8_t raw[64 * 1024], buf[1024], got[32 * 1024];
	size_t n, p = 0, data = 0;
	int rk = 0;

	for (int i = 0; i < 32; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		ck_assert_int_eq(send_all(a, buf, sizeof(buf)), 0);
	}
	n = raw_peek(b, raw, sizeof(raw), 32 * (1024 + TC_FRAME_OVERHEAD));
	while (p + TC_FRAME_HDR <= n) {
		size_t fl = tc_frame_len(raw + p);

		ck_assert_uint_ge(fl, TC_FRAME_OVERHEAD);
		if (raw[p] & TC_FRAME_CTL_REKEY)
			rk++;
		data += fl - TC_FRAME_OVERHEAD;
		p += fl;
	}
	ck_assert_uint_eq(p, n);
	ck_assert_uint_eq(data, sizeof(got));
	ck_assert_int_eq(recv_all(b, got, sizeof(got)), 0);
	for (int i = 0; i < 32; i++)
		ck_assert_int_eq(got[i * 1024 + 1023], 'a' + i % 26);
	return rk;
}

START_TEST(test_rekey_bytes)
{
	uint8_t raw[1024], got[sizeof(secret)];
	size_t n;
	int c, s;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(rekey_frames(c, s), 0);   /* default: never */
	close(c);
	close(s);

	setenv("TCPCRYPT_REKEY_BYTES", "4096", 1);
	settings_reload();
	ck_assert_int_eq(pair_open(&c, &s), 0);
	/* a rekey before each write once 4096 bytes went since the last:
	 * writes 5, 9, ..., 29 carry rekey=1 */
	ck_assert_int_eq(rekey_frames(c, s), 7);
	/* the peer answered each rekey with an empty frame with rekey=1,
	 * before its next data frame */
	ck_assert_int_eq(send_all(s, secret, sizeof(secret)), 0);
	n = raw_peek(c, raw, sizeof(raw), 7 * TC_FRAME_OVERHEAD + sizeof(secret) + TC_FRAME_OVERHEAD);
	ck_assert_uint_eq(n, 7 * TC_FRAME_OVERHEAD + sizeof(secret) + TC_FRAME_OVERHEAD);
	for (int i = 0; i < 7; i++) {
		ck_assert_uint_eq(tc_frame_len(raw + i * TC_FRAME_OVERHEAD), TC_FRAME_OVERHEAD);
		ck_assert_int_eq(raw[i * TC_FRAME_OVERHEAD] & TC_FRAME_CTL_REKEY, TC_FRAME_CTL_REKEY);
	}
	ck_assert_msg(!contains(raw, n, secret, 16), "clear text on the wire");
	ck_assert_int_eq(recv_all(c, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, secret, sizeof(secret));
	close(c);
	close(s);
}
END_TEST

/* ---- libtcpcrypt's application API and the socket options ---- */

START_TEST(test_getsessid_both_ends)
{
	uint8_t a[TCPCRYPT_SESSID_MAX], b[TCPCRYPT_SESSID_MAX], x[TCPCRYPT_SESSID_MAX];
	size_t la = sizeof(a), lb = sizeof(b), lx = sizeof(x);
	int c, s, c2, s2;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(tcpcrypt_getsessid(c, a, &la), 0);
	ck_assert_int_eq(tcpcrypt_getsessid(s, b, &lb), 0);
	ck_assert_uint_eq(la, 33);                      /* TEP 0x23's session ID */
	ck_assert_uint_eq(la, lb);
	ck_assert_mem_eq(a, b, la);
	ck_assert_uint_eq(a[0], TCPCRYPT_TEP_ECDHE_CURVE25519);
	/* another connection, another session */
	ck_assert_int_eq(pair_open(&c2, &s2), 0);
	ck_assert_int_eq(tcpcrypt_getsessid(c2, x, &lx), 0);
	ck_assert_uint_eq(lx, la);
	ck_assert_int_ne(memcmp(a + 1, x + 1, la - 1), 0);
	close(c);
	close(s);
	close(c2);
	close(s2);
}
END_TEST

START_TEST(test_getsessid_errors)
{
	uint8_t id[TCPCRYPT_SESSID_MAX];
	size_t len = sizeof(id);
	int c, s, t = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(tcpcrypt_getsessid(t, id, &len), -1);   /* not connected */
	ck_assert_int_eq(errno, ENOTCONN);
	close(t);

	fake_eno_install(FAKE_PLAIN);
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(tcpcrypt_getsessid(c, id, &len), -1);   /* plain TCP */
	ck_assert_int_eq(errno, ENOTCONN);
	ck_assert_int_eq(tcpcrypt_getsessid(s, id, &len), -1);
	ck_assert_int_eq(errno, ENOTCONN);
	close(c);
	close(s);

	fake_eno_install(FAKE_NEGOTIATE);
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(tcpcrypt_getsessid(c, NULL, &len), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(tcpcrypt_getsessid(c, id, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	len = 8;
	ck_assert_int_eq(tcpcrypt_getsessid(c, id, &len), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_uint_eq(len, 33);        /* what it takes */
	close(c);
	close(s);
}
END_TEST

START_TEST(test_socket_options)
{
	struct tcpcrypt_eno_result rc, rs;
	socklen_t l = sizeof(rc);
	uint16_t list[8] = { 0 }, def[8];
	int c, s, port, lfd;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_ROLE), TCPCRYPT_ROLE_A);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_ROLE), TCPCRYPT_ROLE_B);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_AEAD), get_int(s, TCP_CRYPT_AEAD));
	ck_assert_int_eq(get_int(c, TCP_CRYPT_PASSIVE), 0);
	ck_assert_int_eq(tcpcrypt_getsockopt(c, TCP_CRYPT_ENO_RESULT, &rc, &l), 0);
	l = sizeof(rs);
	ck_assert_int_eq(tcpcrypt_getsockopt(s, TCP_CRYPT_ENO_RESULT, &rs, &l), 0);
	ck_assert_int_eq(rc.flags & (TCPCRYPT_RES_F_ENO_OK | TCPCRYPT_RES_F_ROLE_B), TCPCRYPT_RES_F_ENO_OK);
	ck_assert_int_eq(rs.flags & (TCPCRYPT_RES_F_ENO_OK | TCPCRYPT_RES_F_ROLE_B),
	                 TCPCRYPT_RES_F_ENO_OK | TCPCRYPT_RES_F_ROLE_B);
	/* each side's own option is the other's peer option */
	ck_assert_uint_eq(rc.local_len, rs.peer_len);
	ck_assert_mem_eq(rc.local_opt, rs.peer_opt, rc.local_len);
	ck_assert_int_eq(get_int(c, 0x544300ff), -ENOPROTOOPT - 1000);
	close(c);
	close(s);

	/* per socket, before listen(): a=1 and an AEAD list, inherited by
	 * the accepted socket */
	ck_assert_uint_ge(tc_aead_default_list(def, 8), 2);
	lfd = bound_socket(&port);
	ck_assert_int_ge(lfd, 0);
	set_int(lfd, TCP_CRYPT_APP_AWARE, 1);
	list[0] = def[1];
	ck_assert_int_eq(tcpcrypt_setsockopt(lfd, TCP_CRYPT_AEAD_LIST, list, sizeof(uint16_t)), 0);
	ck_assert_int_eq(get_int(lfd, TCP_CRYPT_APP_AWARE), 1);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(pair_connect(lfd, port, &c, &s), 0);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_APP_AWARE), 1);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_PEER_APP_AWARE), 1);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_PEER_APP_AWARE), 0);
	l = sizeof(list);
	ck_assert_int_eq(tcpcrypt_getsockopt(s, TCP_CRYPT_AEAD_LIST, list, &l), 0);
	ck_assert_uint_eq(l, sizeof(uint16_t));
	ck_assert_uint_eq(list[0], def[1]);
	ck_assert_int_eq(get_int(c, TCP_CRYPT_AEAD), def[1]);
	ck_assert_int_eq(get_int(s, TCP_CRYPT_AEAD), def[1]);
	check_encrypted_pair(c, s);
	close(c);
	close(s);
	close(lfd);
}
END_TEST

START_TEST(test_enable_off_per_socket)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int port, lfd = bound_socket(&port), c, s;

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(fake_eno_opt_ins(), 1);
	c = socket(AF_INET, SOCK_STREAM, 0);
	set_int(c, TCP_CRYPT_ENABLE, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	s = accept(lfd, NULL, NULL);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(fake_eno_opt_ins(), 1);    /* the connector did not opt in */
	check_plain_pair(c, s);
	close(c);
	close(s);
	close(lfd);
}
END_TEST

/* ---- refusals ---- */

static ssize_t pass_fd(int via, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], one = 'x';
	struct iovec v = { &one, 1 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = cbuf,
	                    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	memset(cbuf, 0, sizeof(cbuf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(via, &m, 0);
}

START_TEST(test_scm_rights_refused)
{
	int sp[2], c, s;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(pair_open(&c, &s), 0);
	errno = 0;
	ck_assert_int_eq(pass_fd(sp[0], c), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(pass_fd(sp[0], s), -1);
	ck_assert_int_eq(errno, EPERM);
	close(c);
	close(s);

	fake_eno_install(FAKE_PLAIN);             /* a plain connection may go */
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(pass_fd(sp[0], c), 1);
	close(c);
	close(s);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

START_TEST(test_splice_refused)
{
	int p[2], c, s;
	uint8_t b[sizeof(secret)];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(send_all(c, secret, sizeof(secret)), 0);
	ck_assert_uint_ge(raw_peek(s, b, sizeof(b), sizeof(b)), sizeof(b));
	errno = 0;
	ck_assert_int_eq(splice(s, NULL, p[1], NULL, sizeof(b), SPLICE_F_NONBLOCK), -1);   /* from */
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(write(p[1], secret, sizeof(secret)), (ssize_t)sizeof(secret));
	errno = 0;
	ck_assert_int_eq(splice(p[0], NULL, c, NULL, sizeof(secret), 0), -1);                /* onto */
	ck_assert_int_eq(errno, EINVAL);
	/* nothing went by: the peer still reads exactly the one message */
	ck_assert_int_eq(recv_all(s, b, sizeof(b)), 0);
	ck_assert_mem_eq(b, secret, sizeof(secret));
	close(c);
	close(s);

	fake_eno_install(FAKE_PLAIN);             /* plain TCP: splice works */
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(splice(p[0], NULL, c, NULL, sizeof(secret), 0), (ssize_t)sizeof(secret));
	ck_assert_int_eq(recv_all(s, b, sizeof(b)), 0);
	ck_assert_mem_eq(b, secret, sizeof(secret));
	close(c);
	close(s);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- the progress thread's epoll set ---- */

/* A blocking connect to 127.0.0.1:port through the shim: the fd, or -1. */
static int connect_local(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An accepted connection whose reads give up after 5 s. */
static int accept_timed(int lfd)
{
	struct timeval tv = { 5, 0 };
	int s = accept(lfd, NULL, NULL);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return s;
}

/* A connection parked in its key exchange (the listener does not accept
 * yet) is registered with the progress thread through c; c is dup'd to d
 * and closed, and a second connection gets c's number. A hello written on
 * each before its keys, neither touched again, must reach the server once
 * it accepts: the thread serves the first socket through d, and tells the
 * second from the first one's entry that lives on under c's number. */
START_TEST(test_progress_dup_and_reused_fd)
{
	int port, lfd = bound_socket(&port), c, d, c2, s1, s2;
	char b1[6] = { 0 }, b2[6] = { 0 };
	struct timespec settle = { 0, 50000000 };   /* the thread registers c */

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	c = connect_local(port);
	ck_assert_int_ge(c, 0);
	nanosleep(&settle, NULL);
	d = dup(c);
	ck_assert_int_ge(d, 0);
	ck_assert_int_eq(close(c), 0);
	c2 = connect_local(port);
	ck_assert_int_eq(c2, c);
	nanosleep(&settle, NULL);
	ck_assert_int_eq(send_all(d, "hello", 6), 0);
	ck_assert_int_eq(send_all(c2, "again", 6), 0);
	s1 = accept_timed(lfd);
	s2 = accept_timed(lfd);
	ck_assert_int_eq(recv_all(s1, b1, sizeof(b1)), 0);
	ck_assert_int_eq(recv_all(s2, b2, sizeof(b2)), 0);
	ck_assert_str_eq(b1, "hello");
	ck_assert_str_eq(b2, "again");
	ck_assert_int_eq(get_int(d, TCP_CRYPT_ENABLE), 1);
	ck_assert_int_eq(get_int(c2, TCP_CRYPT_ENABLE), 1);
	close(d);
	close(c2);
	close(s1);
	close(s2);
	close(lfd);
}
END_TEST

static Suite *shim_suite(void)
{
	Suite *su = suite_create("shim");
	TCase *eno = tcase_create("eno_outcome"), *set = tcase_create("settings");
	TCase *api = tcase_create("api"), *ref = tcase_create("refusals");
	TCase *prog = tcase_create("progress");
	TCase *all[] = { eno, set, api, ref, prog };

	for (size_t i = 0; i < 5; i++) {
		tcase_add_checked_fixture(all[i], setup, NULL);
		tcase_set_timeout(all[i], 60);
		suite_add_tcase(su, all[i]);
	}
	tcase_add_test(eno, test_negotiated_is_encrypted);
	tcase_add_test(eno, test_plain_outcome_passes_through);
	tcase_add_test(eno, test_no_backend_is_plain);
	tcase_add_test(eno, test_require_refuses_plain);
	tcase_add_test(eno, test_contradicting_result_aborts);
	tcase_add_test(set, test_ports);
	tcase_add_test(set, test_exclude_ports);
	tcase_add_test(set, test_aead);
	tcase_add_test(set, test_app_aware);
	tcase_add_test(set, test_disable);
	tcase_add_test(set, test_rekey_bytes);
	tcase_add_test(api, test_getsessid_both_ends);
	tcase_add_test(api, test_getsessid_errors);
	tcase_add_test(api, test_socket_options);
	tcase_add_test(api, test_enable_off_per_socket);
	tcase_add_test(ref, test_scm_rights_refused);
	tcase_add_test(ref, test_splice_refused);
	tcase_add_test(prog, test_progress_dup_and_reused_fd);
	add_signal_tests(su, setup);
	add_signal_fd_tests(su, setup);
	add_urgent_tests(su, setup);
	add_peek_tests(su, setup);
	return su;
}

int main(void)
{
	SRunner *sr;
	int failed;

	tc_shim_setup();            /* what the module's constructor does */
	sr = srunner_create(shim_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
